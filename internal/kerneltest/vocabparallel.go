package kerneltest

import (
	"fmt"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("vocabparallel", testVocabParallel, vpSizeCases) }

// Tolerances of the vocabparallel family: float32 kernels against the
// float64 mirror on the same float32 inputs.
var (
	vpMaxTol  = tol{rel: 1e-6, abs: 0, floor: 1e-7}
	vpPartTol = tol{rel: 2e-5, abs: 1e-6, floor: 1e-6}
	vpLossTol = tol{rel: 5e-5, abs: 1e-6, floor: 1e-6}
	vpGradTol = tol{rel: 1e-4, abs: 1e-5, floor: 1e-7}
)

type vpKCase struct {
	rows, vs, row0, v0, v int
	weighted, inPlace     bool
	eps, softcap, z       float64
	red                   int32
}

func (c vpKCase) String() string {
	return fmt.Sprintf("r=%d/vs=%d/row0=%d/v0=%d/V=%d/w=%v/inplace=%v/eps=%g/cap=%g/z=%g/red=%d", c.rows, c.vs, c.row0,
		c.v0, c.v, c.weighted, c.inPlace, c.eps, c.softcap, c.z, c.red)
}

func vpKCases() []vpKCase {
	mean, sum, none := kernelspec.ReductionMean, kernelspec.ReductionSum, kernelspec.ReductionNone
	var cs []vpKCase
	for _, s := range [][2]int{{1, 1}, {7, 1000}, {3, 70000}, {300, 37}, {64, 257}} {
		r, vs := s[0], s[1]
		cs = append(cs,
			vpKCase{rows: r, vs: vs, v0: 0, v: vs, red: mean},
			vpKCase{rows: r, vs: vs, row0: 2, v0: 5, v: vs + 11, weighted: true, eps: 0.1, red: mean},
			vpKCase{rows: r, vs: vs, row0: 1, v0: 3, v: vs + 3, softcap: 5, z: 1e-3, red: sum, inPlace: true},
			vpKCase{rows: r, vs: vs, v0: 1, v: vs + 2, weighted: true, eps: 0.2, softcap: 2, z: 0.01, red: none},
		)
	}
	return cs
}

// testVocabParallel runs the five kernels in order, each on the mirror's
// results of the one before (a single shard stands in for the
// all-reduced values, which the kernels do not tell apart).
func testVocabParallel(t *testing.T, s *suite) {
	for i, c := range vpKCases() {
		t.Run(c.String(), func(t *testing.T) {
			r := s.rig(t)
			rng := newRand(97, i)
			n := c.row0 + c.rows
			xs := randn(rng, c.rows*c.vs, 3)
			tgs := make([]int32, n)
			for k := range tgs {
				tgs[k] = int32(rng.IntN(c.v))
				if k%5 == 3 {
					tgs[k] = -100
				}
			}
			if c.rows > 2 && c.vs > 2 {
				tgs[c.row0] = int32(c.v0)              // first class of the shard
				tgs[c.row0+1] = int32(c.v0 + c.vs - 1) // last class
			}
			if c.rows >= 5 && c.vs >= 3 {
				xs[2*c.vs+1] = nan    // a NaN row: NaN max, loss and gradient
				xs[3*c.vs] = posInf   // +inf: NaN sums
				xs[4*c.vs+2] = negInf // one -inf logit: exp gives 0
			}
			R, VS, ROW0, V0, V := int32(c.rows), int32(c.vs), int32(c.row0), int32(c.v0), int32(c.v)
			x, tg, w := r.buf(xs), r.buf(tgs), r.buf(uniform(rng, c.vs, 0.1, 2))
			ign := int32(-100)
			r.launch("vp_ce_max", c.rows, x, tg, R, VS, ROW0, ign, c.softcap, zeros(c.rows))
			r.compare(exact, on("rowmax", vpMaxTol))
			rowmax := r.mirror("rowmax")
			r.launch("vp_ce_partials", c.rows, x, tg, w, R, VS, ROW0, V0, b2i(c.weighted), ign, b2i(c.eps != 0), c.softcap,
				rowmax, zeros(kernelspec.VPParts*c.rows))
			r.compare(exact, on("partials", vpPartTol))
			parts := r.mirror("partials")
			r.launch("vp_ce_denom", 1, tg, parts, R, ROW0, ign, c.red, zeros(4))
			r.compare(exact, on("denom", vpPartTol))
			denom := r.mirror("denom")
			var grad any = zeros(c.rows * c.vs)
			if c.inPlace {
				grad = x
			}
			combine := b2i(c.red == kernelspec.ReductionNone)
			r.launch("vp_ce_rows", c.rows, x, tg, w, R, VS, ROW0, V0, V, b2i(c.weighted), ign, c.eps, c.softcap, c.z,
				rowmax, parts, denom, int32(1), grad, combine, zeros(c.rows), zeros(c.rows))
			r.compare(exact, on("grad", vpGradTol), on("loss_rows", vpLossTol), on("z_rows", vpLossTol))
			lr, zr := r.mirror("loss_rows"), r.mirror("z_rows")
			r.launch("vp_ce_reduce", 1, lr, zr, R, b2i(c.z != 0), denom, zeros(1), zeros(1))
			r.compare(exact, on("loss", vpLossTol), on("z_out", vpLossTol))
		})
	}
	t.Run("no-rows", func(t *testing.T) {
		r := s.rig(t)
		r.launch("vp_ce_denom", 1, []int32{-100}, zeros(0), int32(0), int32(0), int32(-100), kernelspec.ReductionMean, zeros(4))
		r.compare(exact)
		r.launch("vp_ce_reduce", 1, zeros(0), zeros(0), int32(0), int32(1), r.mirror("denom"), zeros(1), zeros(1))
		r.compare(exact)
	})
}

// vpSizeCases: 3 rows (from row 1 of 4 targets) of a 5-class shard.
func vpSizeCases() []sizeCase {
	const n, vs = 3, 5
	nv := n * vs
	tg := func() bufSpec { return ineed(n+1, 0, 2, -100, 4) }
	return []sizeCase{
		{kernel: "vp_ce_max", blocks: n, guarded: true,
			args: []any{need(nv), tg(), int32(n), int32(vs), int32(1), int32(-100), 2.0, need(n)}},
		{kernel: "vp_ce_partials", what: "weight", blocks: n, guarded: true,
			args: []any{need(nv), tg(), need(vs), int32(n), int32(vs), int32(1), int32(0), int32(1), int32(-100), int32(1), 2.0,
				need(n), need(kernelspec.VPParts * n)}},
		{kernel: "vp_ce_partials", what: "no weight", blocks: n, guarded: true,
			args: []any{need(nv), tg(), spare(), int32(n), int32(vs), int32(1), int32(0), int32(0), int32(-100), int32(0), 0.0,
				need(n), need(kernelspec.VPParts * n)}},
		{kernel: "vp_ce_denom", blocks: 1, guarded: true,
			args: []any{tg(), need(kernelspec.VPParts * n), int32(n), int32(1), int32(-100), kernelspec.ReductionMean, need(4)}},
		{kernel: "vp_ce_rows", what: "all", blocks: n, guarded: true,
			args: []any{need(nv), tg(), need(vs), int32(n), int32(vs), int32(1), int32(0), int32(vs), int32(1), int32(-100), 0.1,
				2.0, 0.01, need(n), needFill(kernelspec.VPParts*n, 1), need(4), int32(1), need(nv), int32(0), need(n), need(n)}},
		{kernel: "vp_ce_rows", what: "no grad", blocks: n, guarded: true,
			args: []any{need(nv), tg(), spare(), int32(n), int32(vs), int32(1), int32(0), int32(vs), int32(0), int32(-100), 0.0,
				0.0, 0.0, need(n), needFill(kernelspec.VPParts*n, 1), spare(), int32(0), spare(), int32(1), need(n), need(n)}},
		{kernel: "vp_ce_reduce", blocks: 1, guarded: true,
			args: []any{need(n), need(n), int32(n), int32(1), need(4), need(1), need(1)}},
	}
}
