package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("tv", testTV, tvSizeCases) }

// tvShape is a batch of n images [c, h, w] and the chunks per image.
type tvShape struct{ n, c, h, w, chunks int }

var tvShapes = []tvShape{
	{2, 3, 7, 9, 1}, {2, 3, 7, 9, 4}, {1, 1, 1, 1, 1}, {3, 1, 1, 300, 2}, {2, 2, 64, 65, 3}, {1, 3, 100, 90, 7},
	{0, 3, 4, 4, 1}, {2, 1, 0, 5, 1},
}

// testTV compares the tv kernels with their mirrors for each norm, with a
// plateau (equal neighbours, where sign is 0) and a NaN pixel in image 0.
func testTV(t *testing.T, s *suite) {
	i := 0
	for _, sh := range tvShapes {
		for _, norm := range []int32{kernelspec.TVL1, kernelspec.TVL2, kernelspec.TVL2Squared} {
			for _, withNaN := range []bool{false, true} {
				rng := newRand(43, i)
				i++
				name := fmt.Sprintf("%dx%dx%dx%d/chunks=%d/norm=%d/nan=%v", sh.n, sh.c, sh.h, sh.w, sh.chunks, norm, withNaN)
				t.Run(name, func(t *testing.T) {
					m := sh.c * sh.h * sh.w
					xs := randn(rng, sh.n*m, 1)
					for e := 0; e < len(xs)/3; e++ { // a plateau
						xs[e] = 0.5
					}
					if withNaN && m > 0 && sh.n > 0 {
						xs[rng.IntN(m)] = nan
					}
					N, C, H, W, K := int32(sh.n), int32(sh.c), int32(sh.h), int32(sh.w), int32(sh.chunks)
					// A block adds up to ceil(m / chunks) terms of phi.
					var sumAbs float64
					for _, v := range xs {
						if !math.IsNaN(float64(v)) {
							sumAbs += float64(v) * float64(v)
						}
					}
					r := s.rig(t)
					r.launch("tv_partial", sh.n*sh.chunks, xs, N, C, H, W, K, norm, filled(sh.n*sh.chunks, 7))
					r.compare(exact, on("partial", tol{rel: 1e-5, floor: 1e-6 * (1 + sumAbs)}))
					partial := r.arg("partial").host.Float32s()
					r = s.rig(t)
					r.launch("tv_image", sh.n, partial, N, K, norm, filled(sh.n, 7), filled(sh.n, 7))
					r.compare(exact, on("loss_rows", tol{rel: 1e-5, floor: 1e-6}), on("factor", tol{rel: 1e-5}))
					factor := r.arg("factor").host.Float32s()
					r = s.rig(t)
					r.launch("tv_grad", partialBlocks(sh.n*m), xs, factor, N, C, H, W, norm, 0.5, filled(sh.n*m, 7))
					r.compare(exact, on("grad", tol{rel: 1e-5, floor: 1e-6}))
				})
			}
		}
	}
}

// tvSizeCases: 2 images [3, 4, 5] in 2 chunks each.
func tvSizeCases() []sizeCase {
	const n, c, h, w, k = 2, 3, 4, 5, 2
	m := n * c * h * w
	return []sizeCase{
		{kernel: "tv_partial", blocks: n * k, guarded: true,
			args: []any{need(m), int32(n), int32(c), int32(h), int32(w), int32(k), kernelspec.TVL2, need(n * k)}},
		{kernel: "tv_image", blocks: n, guarded: true,
			args: []any{need(n * k), int32(n), int32(k), kernelspec.TVL2, need(n), need(n)}},
		{kernel: "tv_grad", blocks: 1, guarded: true,
			args: []any{need(m), need(n), int32(n), int32(c), int32(h), int32(w), kernelspec.TVL1, 0.5, need(m)}},
	}
}
