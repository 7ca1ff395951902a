package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The gan family in the sweep (run with -loss): gan_discriminator_loss
// (kind minimax, mean, both gradients) over N real and N generated
// outputs, and gradient_penalty (mean, gradient w.r.t. the gradients) over
// N rows of D.
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "gan_discriminator_loss", shapes: []string{"1048576"},
			byteModel: "N real + N generated outputs, minimax, mean: reads 2N, writes 2N gradients: 4*4*N bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				n := 1
				for _, v := range s {
					n *= v
				}
				xr, xg := make([]float32, n), make([]float32, n)
				for i := range xr {
					xr[i], xg[i] = float32(r.NormFloat64()*2+1), float32(r.NormFloat64()*2-1)
				}
				ins := map[string]hostIn{"real_logits": {xr, []int{n}}, "gen_logits": {xg, []int{n}}}
				return prepareDecl(d, mustDecl("gan_discriminator_loss"), ins,
					losses.GanDiscriminatorLossOptions{Kind: losses.GanMinimax},
					[]string{"loss", "grad_real_logits", "grad_gen_logits"}, nil, 4*4*int64(n))
			}},
		benchLoss{name: "gradient_penalty", rows: true, shapes: []string{"4096x12288"},
			byteModel: "NxD gradients, mean: reads N*D, writes N*D gradients: 4*2*N*D bytes",
			prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
				n, dim := s[0], s[1]
				g := make([]float32, n*dim)
				for i := range g {
					g[i] = float32(r.NormFloat64() * 0.01)
				}
				ins := map[string]hostIn{"gradients": {g, []int{n, dim}}}
				return prepareDecl(d, mustDecl("gradient_penalty"), ins, losses.GradientPenaltyOptions{},
					[]string{"loss", "grad_gradients"}, nil, 4*2*int64(n)*int64(dim))
			}})
}
