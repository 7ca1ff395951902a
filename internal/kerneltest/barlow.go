package kerneltest

import (
	"fmt"
	"testing"
)

func init() { addFamily("barlow", testBarlow, barlowSizeCases) }

// barlowShapes: [n, d] with one row, two rows, odd sizes, more columns
// than a block and a long column (many BT_CHUNK chunks).
var barlowShapes = [][2]int{{1, 1}, {2, 3}, {7, 5}, {33, 300}, {1000, 3}, {5, 0}}

func testBarlow(t *testing.T, s *suite) {
	i := 0
	for _, sh := range barlowShapes {
		n, d := sh[0], sh[1]
		for _, unb := range []int32{0, 1} {
			if unb == 1 && n < 2 {
				continue
			}
			for _, blocks := range []int{1, 2} {
				for _, inPlace := range []bool{false, true} {
					rng := newRand(71, i)
					i++
					name := fmt.Sprintf("n=%d/d=%d/unbiased=%d/blocks=%d/in-place=%v", n, d, unb, blocks, inPlace)
					t.Run("bt_norm/"+name, func(t *testing.T) {
						r := s.rig(t)
						z := randn(rng, n*d, 2)
						for q := range z {
							z[q] += 100 // a column far from 0: the mean before the squares
						}
						if n*d > 0 {
							for q := 0; q < n; q++ {
								z[q*d] = 7 // a constant column
							}
						}
						zb := r.buf(z)
						var zn any = filled(n*d, 42)
						if inPlace {
							zn = zb
						}
						eps := 1e-5 * float64(1-unb)
						r.launch("bt_norm", blocks, zb, int32(n), int32(d), unb, eps, zn, filled(d, 42))
						r.compare(tol{rel: 1e-4, abs: 1e-4}, on("rstd", tol{rel: 1e-4}))
					})
					t.Run("bt_norm_back/"+name, func(t *testing.T) {
						r := s.rig(t)
						zn, g := randn(rng, n*d, 1), randn(rng, n*d, 1)
						rstd := randn(rng, d, 1)
						r.launch("bt_norm_back", blocks, r.buf(zn), r.buf(rstd), int32(n), int32(d), unb, r.buf(g))
						r.compare(exact, on("g", tol{rel: 1e-4, abs: 1e-5}))
					})
				}
			}
		}
	}
	for _, d := range []int{0, 1, 2, 17, 100} {
		for _, blocks := range grids(d * d) {
			for _, hasGrad := range []int32{0, 1} {
				rng := newRand(72, i)
				i++
				t.Run(fmt.Sprintf("bt_cc/d=%d/blocks=%d/grad=%d", d, blocks, hasGrad), func(t *testing.T) {
					r := s.rig(t)
					c := randn(rng, d*d, 0.5)
					for q := 0; q < d; q++ {
						c[q*d+q] += 0.8
					}
					r.launch("bt_cc", blocks, r.buf(c), int32(d), 5e-3, 0.5, hasGrad, filled(blocks, 42))
					r.compare(tol{rel: 1e-6, abs: 1e-7}, on("partials", tol{rel: 1e-5, abs: 1e-6}))
				})
			}
		}
	}
}

// barlowSizeCases: each kernel over two blocks.
func barlowSizeCases() []sizeCase {
	const n, d = 5, 300
	return []sizeCase{
		{kernel: "bt_norm", blocks: 2, guarded: true,
			args: []any{need(n * d), int32(n), int32(d), int32(0), 1e-5, need(n * d), need(d)}},
		{kernel: "bt_norm_back", blocks: 2, guarded: true,
			args: []any{need(n * d), need(d), int32(n), int32(d), int32(1), need(n * d)}},
		{kernel: "bt_cc", what: "grad", blocks: 2, args: []any{need(20 * 20), int32(20), 5e-3, 1.0, int32(1), need(2)}},
		{kernel: "bt_cc", what: "no grad", blocks: 2, args: []any{need(20 * 20), int32(20), 5e-3, 1.0, int32(0), need(2)}},
	}
}
