package kerneltest

import (
	"fmt"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("pairwise", testPairwise, pairwiseSizeCases) }

// Tolerances of the pairwise family: float32 row sums in a fixed tree
// against the float64 mirror on the same float32 inputs.
var (
	pairLossTol = tol{rel: 1e-5, abs: 1e-5, floor: 1e-6}
	pairGradTol = tol{rel: 1e-4, abs: 1e-5, floor: 1e-6}
	// pairDiffTol: the triplet losses are differences of two distances,
	// each rounded to float32 (with the 1e4-scaled row, terms of 1e5).
	pairDiffTol = tol{rel: 1e-5, abs: 1e-4, floor: 1e-6}
)

// pairOp is one op of pairwise_rows with its scalars.
type pairOp struct {
	name                    string
	op                      int32
	p, margin, margin2, eps float64
	x3, target, gradTarget  bool
	swap                    bool
	labels                  []float32 // target values drawn from
}

var pairOps = []pairOp{
	{name: "cos_emb", op: kernelspec.PwCosineEmbedding, margin: 0.2, eps: 1e-12, target: true, labels: []float32{1, -1, -1, 1, 0}},
	{name: "margin_rank", op: kernelspec.PwMarginRank, margin: 0.3, target: true, gradTarget: true, labels: []float32{1, -1, 0.5}},
	{name: "triplet_p2", op: kernelspec.PwTriplet, p: 2, margin: 1, eps: 1e-6, x3: true},
	{name: "triplet_p1_swap", op: kernelspec.PwTriplet, p: 1, margin: 1, eps: 1e-6, x3: true, swap: true},
	{name: "triplet_p3_swap", op: kernelspec.PwTriplet, p: 3, margin: 0.5, eps: 1e-6, x3: true, swap: true},
	{name: "triplet_p1.5", op: kernelspec.PwTriplet, p: 1.5, margin: 2, eps: 0, x3: true},
	{name: "triplet_sq_swap", op: kernelspec.PwTripletSq, margin: 4, x3: true, swap: true},
	{name: "triplet_cos_swap", op: kernelspec.PwTripletCos, margin: 0.5, eps: 1e-8, x3: true, swap: true},
	{name: "contrastive", op: kernelspec.PwContrastive, margin: 3, target: true, gradTarget: true, labels: []float32{1, 0}},
	{name: "contrastive_pml", op: kernelspec.PwContrastivePML, margin: 0.2, margin2: 1.2, eps: 1e-12, target: true, gradTarget: true, labels: []float32{1, 0}},
	{name: "keras_cos", op: kernelspec.PwKerasCos, eps: 1e-12},
}

// pairRows returns three [n, d] inputs: random rows, with special the
// first rows edge cases: identical rows, a zero row, large values.
func pairRows(seed, n, d int, special bool) (a, b, c []float32) {
	rng := newRand(67, seed)
	a, b, c = randn(rng, n*d, 1), randn(rng, n*d, 1), randn(rng, n*d, 1)
	if special && n >= 3 {
		copy(b[:d], a[:d]) // identical pair
		for j := range d {
			a[d+j] = 0 // zero row
			a[2*d+j] *= 1e4
			b[2*d+j] *= 1e4
			c[2*d+j] *= 1e4
		}
	}
	return a, b, c
}

func testPairwise(t *testing.T, s *suite) {
	seed := 0
	for _, o := range pairOps {
		shapes := [][2]int{{1, 1}, {3, 7}, {5, 256}, {4, 300}, {13, 513}, {2, 0}}
		if o.op == kernelspec.PwMarginRank {
			shapes = [][2]int{{1, 1}, {7, 1}, {300, 1}}
		}
		for _, sh := range shapes {
			for _, withGrads := range []bool{true, false} {
				n, d := sh[0], sh[1]
				seed++
				t.Run(fmt.Sprintf("%s/%dx%d/grads=%v", o.name, n, d, withGrads), func(t *testing.T) {
					r := s.rig(t)
					a, b, c := pairRows(seed, n, d, true)
					tg := make([]float32, n)
					for i := range tg {
						if o.labels != nil {
							tg[i] = o.labels[(i*7+seed)%len(o.labels)]
						}
					}
					flags := int32(kernelspec.PwHasTarget)
					if o.x3 {
						flags |= kernelspec.PwHasX3
					}
					if o.swap {
						flags |= kernelspec.PwSwap
					}
					if o.op == kernelspec.PwContrastivePML {
						flags |= kernelspec.PwNonZero
					}
					if withGrads {
						flags |= kernelspec.PwGrad1 | kernelspec.PwGrad2
						if o.x3 {
							flags |= kernelspec.PwGrad3
						}
						if o.gradTarget {
							flags |= kernelspec.PwGradTarget
						}
					}
					r.launch("pairwise_rows", n, o.op, a, b, c, tg, int32(n), int32(d), o.p, o.margin, o.margin2, o.eps,
						0.5, []float32{2}, flags|kernelspec.PwDenom, zeros(n*d), zeros(n*d), zeros(n*d), zeros(n), zeros(n))
					lt := pairLossTol
					if o.x3 {
						lt = pairDiffTol
					}
					r.compare(exact, on("loss_rows", lt), on("grad1", pairGradTol), on("grad2", pairGradTol),
						on("grad3", pairGradTol), on("grad_target", pairGradTol))
				})
			}
		}
	}
	for _, n := range []int{0, 1, 5, 300, 1000} {
		t.Run(fmt.Sprintf("avg_nonzero/n=%d", n), func(t *testing.T) {
			r := s.rig(t)
			rows := uniform(newRand(68, n), n, -0.5, 1)
			for i := range rows {
				if rows[i] < 0 {
					rows[i] = 0
				}
			}
			r.launch("pairwise_avg_nonzero", 1, rows, int32(n), zeros(1), zeros(1))
			r.compare(exact, on("loss", pairLossTol))
		})
	}
	t.Run("empty", func(t *testing.T) {
		r := s.rig(t)
		r.launch("pairwise_rows", 1, kernelspec.PwTriplet, zeros(0), zeros(0), zeros(0), zeros(0), int32(0), int32(4),
			2.0, 1.0, 0.0, 1e-6, 1.0, zeros(0), kernelspec.PwGrad1|kernelspec.PwHasX3, zeros(0), zeros(0), zeros(0),
			zeros(0), zeros(0))
		r.compare(exact)
	})
}

// pairwiseSizeCases: 3 rows of 300 columns.
func pairwiseSizeCases() []sizeCase {
	const n, d = 3, 300
	all := kernelspec.PwGrad1 | kernelspec.PwGrad2 | kernelspec.PwGrad3 | kernelspec.PwGradTarget |
		kernelspec.PwDenom | kernelspec.PwHasX3 | kernelspec.PwHasTarget | kernelspec.PwSwap
	return []sizeCase{
		{kernel: "pairwise_rows", what: "every flag", blocks: n, guarded: true,
			args: []any{kernelspec.PwTriplet, need(n * d), need(n * d), need(n * d), need(n), int32(n), int32(d), 2.0,
				1.0, 0.0, 1e-6, 1.0, needFill(1, 2), all, need(n * d), need(n * d), need(n * d), need(n), need(n)}},
		{kernel: "pairwise_rows", what: "no flag", blocks: n, guarded: true,
			args: []any{kernelspec.PwContrastive, need(n * d), need(n * d), spare(), spare(), int32(n), int32(d), 2.0,
				1.0, 0.0, 0.0, 1.0, spare(), int32(0), spare(), spare(), spare(), spare(), need(n)}},
		{kernel: "pairwise_avg_nonzero", what: "rows", blocks: 1,
			args: []any{need(n), int32(n), need(1), need(1)}},
	}
}
