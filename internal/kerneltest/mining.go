package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("mining", testMining, miningSizeCases) }

// Tolerances of the mining family, float32 kernels against the float64
// mirrors on the same float32 inputs: the distances (sums of D products),
// the per-anchor sums and counts, the derivative coefficients (exact 0/±1
// sums for the hinge, sigmoids for soft) and the gradients (sums of B
// weighted differences).
var (
	mineDistTol = tol{rel: 1e-5, abs: 1e-6, floor: 1e-6}
	mineRowTol  = tol{rel: 1e-5, abs: 1e-5, floor: 1e-5}
	mineGradTol = tol{rel: 1e-4, abs: 1e-5, floor: 1e-5}
)

// mineData returns b rows of d values and b labels of classes classes:
// with dup, row 1 repeats row 0 (a zero distance, and ties in every
// other row's distances to them) and row 2 is zero.
func mineData(rng *rand.Rand, b, d, classes int, dup bool) ([]float32, []int32) {
	x := randn(rng, b*d, 1)
	lab := make([]int32, b)
	for i := range lab {
		lab[i] = int32(rng.IntN(classes)) - 1
	}
	if dup && b >= 3 {
		copy(x[d:2*d], x[:d])
		for k := range d {
			x[2*d+k] = 0
		}
	}
	return x, lab
}

func testMining(t *testing.T, s *suite) {
	for k, sh := range []struct{ n, d int }{{2, 1}, {5, 3}, {37, 19}, {300, 33}, {7, 260}} {
		for _, mode := range []int32{kernelspec.BTNormBatch, kernelspec.BTNormUnbiased} {
			t.Run(fmt.Sprintf("barlow/n=%d/d=%d/mode=%d", sh.n, sh.d, mode), func(t *testing.T) {
				btChain(t, s, k, sh.n, sh.d, mode)
			})
		}
	}
	for k, sh := range []struct{ b, d, classes int }{{1, 3, 1}, {5, 7, 2}, {37, 130, 4}, {300, 19, 7}} {
		for _, rd := range []int32{0, 1} {
			t.Run(fmt.Sprintf("circle/b=%d/d=%d/remove_diag=%d", sh.b, sh.d, rd), func(t *testing.T) {
				rng := newRand(99, k)
				xs, labs := mineData(rng, sh.b, sh.d, sh.classes, k%2 == 1)
				r := s.rig(t)
				r.launch("mine_prep", sh.b, xs, int32(sh.b), int32(sh.d), zeros(sh.b*sh.d), zeros(sh.b))
				u := r.mirror("u")
				tiles := (sh.b + 15) / 16
				r.launch("mine_pdist", tiles*tiles, u, int32(sh.b), int32(sh.d), kernelspec.MineDistCosine, zeros(sh.b*sh.b))
				pd := r.mirror("pd")
				for _, gm := range [][2]float64{{80, 0.4}, {3, 0.25}} {
					r.launch("circle_rows", sh.b, pd, labs, int32(sh.b), gm[0], gm[1], rd, zeros(sh.b*sh.b), zeros(sh.b), zeros(sh.b))
					r.compare(mineRowTol, on("coef", mineGradTol))
				}
			})
		}
	}
	i := 0
	for _, sh := range []struct{ b, d, classes int }{{1, 3, 1}, {2, 1, 1}, {5, 7, 2}, {37, 130, 4}, {300, 19, 7}, {64, 5, 64}} {
		for _, dist := range []int32{kernelspec.MineDistL2, kernelspec.MineDistSqL2, kernelspec.MineDistCosine} {
			for _, mining := range []int32{kernelspec.MineHard, kernelspec.MineSemi, kernelspec.MineAll} {
				for _, soft := range []bool{false, true} {
					seed := i
					i++
					name := fmt.Sprintf("b=%d/d=%d/c=%d/dist=%d/mining=%d/soft=%v", sh.b, sh.d, sh.classes, dist, mining, soft)
					t.Run(name, func(t *testing.T) {
						mineChain(t, s, seed, sh.b, sh.d, sh.classes, dist, mining, soft)
					})
				}
			}
		}
	}
}

// mineChain runs batch_triplet_loss's kernels one by one, each on the
// mirror's results of the one before (so both sides mine the same
// distances), and compares every output.
func mineChain(t *testing.T, s *suite, seed, b, d, classes int, dist, mining int32, soft bool) {
	rng := newRand(97, seed)
	xs, labs := mineData(rng, b, d, classes, seed%2 == 0)
	r := s.rig(t)
	x := r.buf(xs)
	v := x
	var norms *pair
	if dist == kernelspec.MineDistCosine {
		r.launch("mine_prep", b+1, x, int32(b), int32(d), zeros(b*d), zeros(b))
		r.compare(mineDistTol)
		v, norms = r.mirror("u"), r.mirror("norms")
	}
	tiles := (b + 15) / 16
	r.launch("mine_pdist", tiles*tiles, v, int32(b), int32(d), dist, zeros(b*b))
	r.compare(mineDistTol)
	pd := r.mirror("pd")
	lab := r.buf(labs)
	sel := make([]int32, b*b)
	for k := range sel {
		sel[k] = 7
	}
	r.launch("mine_triplet_rows", b, pd, lab, int32(b), mining, 0.5, b2i(soft), zeros(b*b), sel, zeros(b), zeros(b))
	r.compare(mineRowTol)
	coef, rl, rc := r.mirror("coef"), r.mirror("rowloss"), r.mirror("rowcount")
	r.launch("mine_finish", 1, rl, rc, int32(b), 0.0, zeros(1), zeros(1))
	r.compare(mineRowTol)
	scale := r.mirror("scale")
	if norms == nil {
		norms = scale
	}
	r.launch("mine_grad", b, v, pd, coef, scale, int32(b), int32(d), dist, norms, zeros(b*d))
	r.compare(exact, on("grad", mineGradTol))
}

// btChain runs barlow_twins_loss's kernels one by one, each on the
// mirror's results of the one before, and compares every output.
func btChain(t *testing.T, s *suite, seed, n, d int, mode int32) {
	rng := newRand(98, seed)
	r := s.rig(t)
	var zn, is [2]*pair
	for v := range 2 {
		r.launch("bt_norm", d+1, randn(rng, n*d, 2), int32(n), int32(d), mode, zeros(n*d), zeros(d))
		r.compare(mineDistTol)
		zn[v], is[v] = r.mirror("zn"), r.mirror("inv_std")
	}
	tiles := func(m, k int) int { return ((m + 15) / 16) * ((k + 15) / 16) }
	r.launch("gram_gemm", tiles(d, d), zn[0], zn[1], zeros(d*d), int32(1), int32(d), int32(d), int32(n), int32(1), int32(0), 1/float64(n))
	r.compare(mineDistTol)
	c := r.mirror("c")
	blocks := min((d*d+255)/256, 3)
	r.launch("bt_terms", blocks, c, int32(d), 0.3, zeros(blocks))
	r.compare(mineRowTol)
	gc := r.mirror("c")
	r.launch("gram_gemm", tiles(n, d), zn[1], gc, zeros(n*d), int32(1), int32(n), int32(d), int32(d), int32(0), int32(1), 1/float64(n))
	r.compare(mineDistTol)
	g := r.mirror("c")
	r.launch("bt_norm_back", d, zn[0], is[0], int32(n), int32(d), mode, g)
	r.compare(exact, on("grad", mineGradTol))
}

// miningSizeCases: 20 rows of 5 values (two 16-row tiles).
func miningSizeCases() []sizeCase {
	const b, d = 20, 5
	return []sizeCase{
		{kernel: "mine_prep", what: "rows", blocks: b, guarded: true,
			args: []any{need(b * d), int32(b), int32(d), need(b * d), need(b)}},
		{kernel: "mine_pdist", what: "tiles", blocks: 4,
			args: []any{need(b * d), int32(b), int32(d), kernelspec.MineDistL2, need(b * b)}},
		{kernel: "mine_triplet_rows", what: "semi_hard", blocks: b, guarded: true,
			args: []any{need(b * b), ineed(b, 0, 1, 0, 2), int32(b), kernelspec.MineSemi, 1.0, int32(0), need(b * b),
				ineed(b*b, 0), need(b), need(b)}},
		{kernel: "mine_triplet_rows", what: "hard", blocks: b, guarded: true,
			args: []any{need(b * b), ineed(b, 0, 1, 0, 2), int32(b), kernelspec.MineHard, 1.0, int32(1), need(b * b),
				ispare(), need(b), need(b)}},
		{kernel: "mine_finish", what: "one block", blocks: 1,
			args: []any{need(b), need(b), int32(b), 0.0, need(1), need(1)}},
		{kernel: "mine_grad", what: "cosine", blocks: b, guarded: true,
			args: []any{need(b * d), need(b * b), need(b * b), need(1), int32(b), int32(d), kernelspec.MineDistCosine,
				need(b), need(b * d)}},
		{kernel: "circle_rows", what: "rows", blocks: b, guarded: true,
			args: []any{need(b * b), ineed(b, 0, 1, 0, 2), int32(b), 80.0, 0.4, int32(1), need(b * b), need(b), need(b)}},
		{kernel: "bt_norm", what: "columns", blocks: d, guarded: true,
			args: []any{need(b * d), int32(b), int32(d), kernelspec.BTNormBatch, need(b * d), need(d)}},
		{kernel: "bt_terms", what: "partials", blocks: 2,
			args: []any{need(b * b), int32(b), 0.5, need(2)}},
		{kernel: "bt_norm_back", what: "columns", blocks: d, guarded: true,
			args: []any{need(b * d), need(d), int32(b), int32(d), kernelspec.BTNormUnbiased, need(b * d)}},
		{kernel: "mine_grad", what: "l2", blocks: b, guarded: true,
			args: []any{need(b * d), need(b * b), need(b * b), need(1), int32(b), int32(d), kernelspec.MineDistL2,
				spare(), need(b * d)}},
	}
}
