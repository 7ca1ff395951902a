package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// barlow_twins_loss in the sweep (not in the default sweep: run it with
// -loss): two views z1, z2 [N, D] of normal embeddings (z2 correlated with
// z1), the loss and the gradients w.r.t. both views.
func init() {
	benchLosses = append(benchLosses, benchLoss{name: "barlow_twins_loss", dims: 2, shapes: []string{"512x1024"},
		byteModel: "NxD: reads 2*N*D embeddings, writes 2*N*D gradients: 4*4*N*D bytes (and 3*N*D*D multiply-adds)",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			n, dd := s[0], s[1]
			z1, z2 := normals(r, n*dd), normals(r, n*dd)
			for i := range z2 {
				z2[i] = 0.6*z1[i] + 0.8*z2[i]
			}
			ins := map[string]hostIn{"z1": {z1, []int{n, dd}}, "z2": {z2, []int{n, dd}}}
			return prepareDecl(d, mustDecl("barlow_twins_loss"), ins, losses.BarlowTwinsLossOptions{},
				[]string{"loss", "grad_z1", "grad_z2"}, nil, 16*int64(n)*int64(dd))
		}})
}
