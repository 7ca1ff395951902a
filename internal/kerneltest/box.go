package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("box", testBox, boxSizeCases) }

// Tolerances of the box family: per-box losses, block partials and
// gradients, float32 kernels against the float64 mirror on the same
// float32 inputs.
var (
	boxLossTol    = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	boxPartialTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-5}
	boxGradTol    = tol{rel: 1e-4, abs: 1e-5, floor: 1e-7}
)

// boxPairs returns n pairs of boxes: overlapping, disjoint and enclosed
// pairs, and with special on, the edge cases first: identical boxes (every
// min and max tied), zero-area boxes (a line, a point on a point: NaN for
// complete IoU), an inverted box (x2 < x1), tiny and far-off boxes, NaN
// and infinite coordinates.
func boxPairs(rng *rand.Rand, n int, special bool) (b1, b2 []float32) {
	b1, b2 = make([]float32, 4*n), make([]float32, 4*n)
	for i := range n {
		x, y := rng.Float64()*10-5, rng.Float64()*10-5
		u, v := x+rng.NormFloat64()*2, y+rng.NormFloat64()*2
		w1, h1, w2, h2 := 0.1+rng.Float64()*4, 0.1+rng.Float64()*4, 0.1+rng.Float64()*4, 0.1+rng.Float64()*4
		copy(b1[4*i:], []float32{float32(x), float32(y), float32(x + w1), float32(y + h1)})
		copy(b2[4*i:], []float32{float32(u), float32(v), float32(u + w2), float32(v + h2)})
	}
	if special {
		edge := [][2][4]float32{
			{{0, 0, 2, 3}, {0, 0, 2, 3}},
			{{0, 0, 2, 0}, {0, 0, 2, 2}},
			{{1, 1, 1, 1}, {1, 1, 1, 1}},
			{{2, 0, 0, 1}, {0, 0, 2, 1}},
			{{0, 0, 1e-4, 2e-4}, {5e-5, 0, 1.5e-4, 1e-4}},
			{{1000, 1000, 1001, 1003}, {1000.5, 1001, 1002, 1002}},
			{{0, 0, 1, 1}, {5, 5, 6, 6}},
			{{0, 0, 4, 4}, {1, 1, 2, 2}},
			{{0, 0, 1, 1}, {nan, 0, 1, 1}},
			{{0, 0, posInf, 1}, {0, 0, 1, 1}},
			{{negInf, 0, 1, 1}, {0, 0, 1, 1}},
		}
		for i, e := range edge {
			if i < n {
				copy(b1[4*i:], e[0][:])
				copy(b2[4*i:], e[1][:])
			}
		}
	}
	return b1, b2
}

type boxVariant struct {
	name    string
	flags   int32
	inPlace bool
}

var boxVariants = []boxVariant{
	{"per-box+grads", kernelspec.BoxGrad1 | kernelspec.BoxGrad2, false},
	{"reduce+grads-in-place", kernelspec.BoxGrad1 | kernelspec.BoxGrad2 | kernelspec.BoxReduce, true},
	{"reduce", kernelspec.BoxReduce, false},
	{"per-box+grad2", kernelspec.BoxGrad2, false},
}

func testBox(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 7, 300, 1001, 70001} {
		for _, op := range []int32{kernelspec.BoxIoU, kernelspec.BoxGIoU, kernelspec.BoxDIoU, kernelspec.BoxCIoU, 7} {
			for _, v := range boxVariants {
				for _, blocks := range grids(n) {
					seed := i
					i++
					t.Run(fmt.Sprintf("n=%d/op=%d/%s/blocks=%d", n, op, v.name, blocks), func(t *testing.T) {
						r := s.rig(t)
						b1s, b2s := boxPairs(newRand(61, seed), n, true)
						b1, b2 := r.buf(b1s), r.buf(b2s)
						var g1, g2 any = zeros(4 * n), zeros(4 * n)
						if v.inPlace {
							g1, g2 = b1, b2
						}
						outN := n
						if v.flags&kernelspec.BoxReduce != 0 {
							outN = blocks
						}
						gs := 1 / float64(n)
						r.launch("box_iou_loss", blocks, op, b1, b2, int32(n), 1e-7, gs, v.flags, g1, g2, zeros(outN))
						outTol := boxLossTol
						if v.flags&kernelspec.BoxReduce != 0 {
							outTol = boxPartialTol
						}
						r.compare(exact, on("out", outTol), on("grad1", boxGradTol), on("grad2", boxGradTol))
					})
				}
			}
		}
	}
	t.Run("empty", func(t *testing.T) {
		r := s.rig(t)
		r.launch("box_iou_loss", 1, kernelspec.BoxGIoU, zeros(0), zeros(0), int32(0), 1e-7, 1.0,
			kernelspec.BoxGrad1|kernelspec.BoxReduce, zeros(0), zeros(0), zeros(1))
		r.compare(exact)
	})
}

// boxSizeCases: 300 boxes over two blocks.
func boxSizeCases() []sizeCase {
	const m = 300
	all := kernelspec.BoxGrad1 | kernelspec.BoxGrad2 | kernelspec.BoxReduce
	return []sizeCase{
		{kernel: "box_iou_loss", what: "every flag", blocks: 2,
			args: []any{kernelspec.BoxCIoU, need(4 * m), need(4 * m), int32(m), 1e-7, 1.0, all, need(4 * m), need(4 * m), need(2)}},
		{kernel: "box_iou_loss", what: "per box", blocks: 2, guarded: true,
			args: []any{kernelspec.BoxGIoU, need(4 * m), need(4 * m), int32(m), 1e-7, 1.0, int32(0), spare(), spare(), need(m)}},
	}
}
