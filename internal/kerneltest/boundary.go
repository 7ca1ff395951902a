package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("boundary", testBoundary, boundarySizeCases) }

// Tolerances of the boundary family.
var (
	bndOutTol     = tol{rel: 1e-5, abs: 1e-7, floor: 1e-7}
	bndPartialTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	bndGradTol    = tol{rel: 1e-4, abs: 1e-6, floor: 1e-9}
)

type bndShape struct{ n, c, s int }

type bndVariant struct {
	name    string
	flags   int32
	inPlace bool
	special bool // NaN and ±1000 logits, an infinite distance in an unused class
}

var bndVariants = []bndVariant{
	{"reduce+grad", kernelspec.BoundaryGrad | kernelspec.BoundaryReduce, false, false},
	{"per-element+grad-in-place", kernelspec.BoundaryGrad, true, false},
	{"reduce", kernelspec.BoundaryReduce, false, false},
	{"special", kernelspec.BoundaryGrad | kernelspec.BoundaryReduce, false, true},
	{"special-per-element", kernelspec.BoundaryGrad, false, true},
}

func testBoundary(t *testing.T, s *suite) {
	i := 0
	for _, sh := range []bndShape{{1, 1, 1}, {2, 3, 35}, {3, 1, 257}, {2, 4, 4099}, {1, 5, 70001}} {
		for _, act := range []int32{kernelspec.ActivationSoftmax, kernelspec.ActivationSigmoid, kernelspec.ActivationNone} {
			for _, v := range bndVariants {
				for _, blocks := range grids(sh.n * sh.s) {
					seed := i
					i++
					t.Run(fmt.Sprintf("%dx%dx%d/act=%d/%s/blocks=%d", sh.n, sh.c, sh.s, act, v.name, blocks), func(t *testing.T) {
						testBoundaryCase(t, s, sh, act, v, blocks, newRand(71, seed))
					})
				}
			}
		}
	}
}

func testBoundaryCase(t *testing.T, s *suite, sh bndShape, act int32, v bndVariant, blocks int, rng *rand.Rand) {
	r := s.rig(t)
	total := sh.n * sh.c * sh.s
	xs, ds := randn(rng, total, 3), randn(rng, total, 10)
	use := make([]int32, sh.c)
	for k := range use {
		use[k] = 1
		if sh.c > 1 && k%2 == 1 {
			use[k] = 0
		}
	}
	if v.special {
		xs[0] = nan
		if total > 2 {
			xs[1], xs[2] = 1000, -1000
		}
		if sh.c > 1 {
			ds[sh.s+3%sh.s] = posInf // class 1 is unused: exact zeros
		}
	}
	x := r.buf(xs)
	var grad any = zeros(total)
	if v.inPlace {
		grad = x
	}
	outN := total
	if v.flags&kernelspec.BoundaryReduce != 0 {
		outN = blocks
	}
	gs := 1 / float64(max(total, 1))
	r.launch("boundary_loss", blocks, x, ds, use, int32(sh.n), int32(sh.c), int32(sh.s), act, gs, v.flags, grad, zeros(outN))
	outTol := bndOutTol
	if v.flags&kernelspec.BoundaryReduce != 0 {
		outTol = bndPartialTol
	}
	r.compare(exact, on("out", outTol), on("grad", bndGradTol))
}

// boundarySizeCases: n = 2 samples, c = 3 classes, s = 150 pixels (300
// pixels over two blocks).
func boundarySizeCases() []sizeCase {
	const n, c, sp = 2, 3, 150
	all := n * c * sp
	return []sizeCase{
		{kernel: "boundary_loss", what: "reduce+grad", blocks: 2,
			args: []any{need(all), need(all), ineed(c, 1, 0, 1), int32(n), int32(c), int32(sp), kernelspec.ActivationSoftmax, 1.0,
				kernelspec.BoundaryGrad | kernelspec.BoundaryReduce, need(all), need(2)}},
		{kernel: "boundary_loss", what: "per element", blocks: 2, guarded: true,
			args: []any{need(all), need(all), ineed(c, 1), int32(n), int32(c), int32(sp), kernelspec.ActivationSigmoid, 1.0,
				int32(0), spare(), need(all)}},
	}
}
