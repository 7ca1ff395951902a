package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("contrastive", testContrastive, contrastiveSizeCases) }

// Tolerances of the contrastive family, float32 kernels against the
// float64-state mirror on the same float32 inputs: normalised rows, row
// states (max, sum of exp, counts, per-row losses) and gradients.
var (
	conNormTol  = tol{rel: 1e-6, abs: 1e-7, floor: 1e-7}
	conStatsTol = tol{rel: 2e-5, abs: 2e-5, floor: 1e-5}
	conGradTol  = tol{rel: 1e-4, abs: 2e-5, floor: 1e-6}
)

// conUnitRows returns n random rows of d elements scaled to unit length
// (float32), with dup rows copied from row 0 when n > 2 (ties in S).
func conUnitRows(rng *rand.Rand, n, d int) []float32 {
	x := make([]float32, n*d)
	for i := range n {
		s := 0.0
		v := make([]float64, d)
		for q := range v {
			v[q] = rng.NormFloat64()
			s += v[q] * v[q]
		}
		for q := range v {
			x[i*d+q] = float32(v[q] / math.Sqrt(s))
		}
	}
	if n > 2 {
		copy(x[2*d:3*d], x[:d])
	}
	return x
}

// conShape is one similarity launch: r anchors, k contrast rows, d
// columns, and the column classes (flags, kpos, labels).
type conShape struct {
	r, k, d    int
	flags      int32
	kpos, lmod int
	labels     bool
	same       bool // A is the first r rows of C
}

func (c conShape) String() string {
	return fmt.Sprintf("r=%d/k=%d/d=%d/flags=%d/kpos=%d/labels=%v", c.r, c.k, c.d, c.flags, c.kpos, c.labels)
}

var conShapes = []conShape{
	{r: 1, k: 1, d: 3, flags: kernelspec.ConExclSelf, kpos: 1, lmod: 1, same: true},
	{r: 2, k: 2, d: 5, flags: 0, kpos: 2, lmod: 2},
	{r: 34, k: 34, d: 19, flags: kernelspec.ConExclSelf, kpos: 34, lmod: 17, same: true},                                     // two-view
	{r: 17, k: 17, d: 33, flags: kernelspec.ConExclSelf | kernelspec.ConOptax, kpos: 17, lmod: 17, labels: true, same: true}, // optax
	{r: 17, k: 51, d: 16, flags: kernelspec.ConExclSelf, kpos: 51, lmod: 17, labels: true, same: true},                       // supcon all
	{r: 17, k: 51, d: 16, flags: kernelspec.ConExclSelf, kpos: 51, lmod: 17, labels: true, same: false},                      // one
	{r: 17, k: 40, d: 16, flags: 0, kpos: 40, lmod: 17, labels: true},                                                        // A apart
	{r: 20, k: 20 + 37, d: 9, flags: kernelspec.ConPaired, kpos: 20, lmod: 20},                                               // info_nce
	{r: 131, k: 131, d: 40, flags: kernelspec.ConExclSelf | kernelspec.ConOptax, kpos: 131, lmod: 131, labels: true, same: true},
}

func testContrastive(t *testing.T, s *suite) {
	for ci, c := range conShapes {
		t.Run(c.String(), func(t *testing.T) {
			rng := newRand(71, ci)
			r := s.rig(t)
			cs := conUnitRows(rng, c.k, c.d)
			as := cs[:c.r*c.d]
			if !c.same {
				as = conUnitRows(rng, c.r, c.d)
			}
			labs := make([]int32, c.lmod)
			for i := range labs {
				labs[i] = int32(rng.IntN(3))
			}
			hasLab := b2i(c.labels)
			a, cc, lb := r.buf(as), r.buf(cs), r.buf(labs)
			if c.same {
				a = cc
			}
			invTau := 1 / 0.2
			blocksR, blocksK := (c.r+15)/16, (c.k+15)/16
			common := func(flags int32, tile int32) []any {
				return []any{a, cc, int32(c.r), int32(c.k), int32(c.d), invTau, hasLab, lb, int32(c.lmod), int32(c.kpos),
					flags, 0.5, tile}
			}
			for _, tile := range []int32{0, 5} {
				r.launch("contrastive_rows", blocksR, append(common(c.flags, tile), zeros(c.r*kernelspec.ConStats))...)
				r.compare(exact, on("stats", conStatsTol))
			}
			stats := r.mirror("stats")
			if c.flags&kernelspec.ConOptax != 0 {
				r.launch("contrastive_rows", blocksR, append(common(c.flags|kernelspec.ConPass2, 0), stats)...)
				r.compare(exact, on("stats", conStatsTol))
				stats = r.mirror("stats")
			}
			gs := []float32{float32(1 / float64(c.r))}
			for side := int32(0); side < 3; side++ {
				if side == 2 && (!c.same || c.flags&kernelspec.ConPaired != 0) {
					continue
				}
				n := c.r
				blocks := blocksR
				if side != 0 {
					n, blocks = c.k, blocksK
				}
				for _, accumulate := range []int32{0, kernelspec.ConAccumulate} {
					g := randn(rng, n*c.d, 0.1)
					r.launch("contrastive_grad", blocks, append(common(c.flags|accumulate, 0), stats, gs, side, g)...)
					r.compare(exact, on("g", conGradTol))
				}
			}
			r.launch("contrastive_finish", 1, stats, int32(c.r), b2i(c.flags&kernelspec.ConOptax != 0), 1/float64(c.r),
				int32(1), zeros(1), zeros(1))
			r.compare(exact, on("loss", conStatsTol), on("gscale", conStatsTol))
		})
	}
	for _, sh := range [][3]int{{1, 1, 4}, {7, 1, 300}, {5, 3, 17}, {40, 2, 1}} { // bmod, views, d
		b, v, d := sh[0], sh[1], sh[2]
		t.Run(fmt.Sprintf("normalize/b=%d/v=%d/d=%d", b, v, d), func(t *testing.T) {
			r := s.rig(t)
			rng := newRand(72, b*v+d)
			x := randn(rng, b*v*d, 2)
			copy(x[:d], zeros(d)) // a zero row: clamped
			rows, off := b*v, 3
			for _, blocks := range []int{1, 4, rows} {
				r.launch("contrastive_normalize", blocks, x, int32(rows), int32(d), int32(b), int32(v), 1e-12, int32(off),
					zeros((off+rows)*d), zeros(off+rows))
				r.compare(exact, on("y", conNormTol), on("norms", conNormTol))
				y, norms := r.mirror("y"), r.mirror("norms")
				g := randn(rng, (off+rows)*d, 1)
				r.launch("contrastive_backnorm", blocks, y, g, norms, int32(rows), int32(d), int32(b), int32(v), 1e-12,
					int32(off), zeros(rows*d))
				r.compare(exact, on("gx", tol{rel: 1e-5, abs: 1e-5, floor: 1e-6}))
			}
		})
	}
	t.Run("finish/empty", func(t *testing.T) {
		r := s.rig(t)
		r.launch("contrastive_finish", 1, zeros(1), int32(0), int32(1), math.NaN(), int32(1), zeros(1), zeros(1))
		r.compare(exact)
	})
}

// contrastiveSizeCases: 20 anchors and 37 columns of 9 elements (two row
// tiles and three column tiles), 12 rows to normalise.
func contrastiveSizeCases() []sizeCase {
	const r, k, d = 20, 37, 9
	sim := func(flags int32, kpos int32) []any {
		return []any{need(r * d), need(k * d), int32(r), int32(k), int32(d), 2.0, int32(1), ineed(5, 0, 1, 0, 2, 1),
			int32(5), kpos, flags}
	}
	var cs []sizeCase
	for _, f := range []int32{kernelspec.ConExclSelf, kernelspec.ConPaired, kernelspec.ConOptax | kernelspec.ConPass2} {
		cs = append(cs,
			sizeCase{kernel: "contrastive_rows", what: fmt.Sprintf("flags=%d", f), blocks: 2, guarded: true,
				args: append(sim(f, 20), 0.5, int32(0), need(5*r)), bad: []badScalar{bad("kpos", k+1), bad("lmod", 0)}},
			sizeCase{kernel: "contrastive_grad", what: fmt.Sprintf("side 0 flags=%d", f), blocks: 2, guarded: true,
				args: append(sim(f, 20), 0.5, int32(0), need(5*r), need(1), int32(0), need(r*d))},
			sizeCase{kernel: "contrastive_grad", what: fmt.Sprintf("side 1 flags=%d", f), blocks: 3, guarded: true,
				args: append(sim(f, 20), 0.5, int32(0), need(5*r), need(1), int32(1), need(k*d))},
		)
		if f&kernelspec.ConPaired == 0 {
			same := append([]any{need(k * d)}, sim(f, 20)[1:]...)
			cs = append(cs, sizeCase{kernel: "contrastive_grad", what: fmt.Sprintf("side 2 flags=%d", f), blocks: 3, guarded: true,
				args: append(same, 0.5, int32(0), need(5*r), need(1), int32(2), need(k*d)), bad: []badScalar{bad("side", 3)}})
		}
	}
	cs = append(cs,
		sizeCase{kernel: "contrastive_normalize", blocks: 3, args: []any{need(12 * d), int32(12), int32(d), int32(4), int32(3),
			1e-12, int32(2), need(14 * d), need(14)}, bad: []badScalar{bad("bmod", 0), bad("views", 2)}},
		sizeCase{kernel: "contrastive_backnorm", blocks: 3, args: []any{needFill(14*d, 0.1), need(14 * d), needFill(14, 1), int32(12),
			int32(d), int32(4), int32(3), 1e-12, int32(2), need(12 * d)}},
		sizeCase{kernel: "contrastive_finish", blocks: 1, guarded: true,
			args: []any{need(5 * r), int32(r), int32(1), 0.5, int32(1), need(1), need(1)}},
		sizeCase{kernel: "contrastive_finish", what: "no loss", blocks: 1, guarded: true,
			args: []any{need(5 * r), int32(r), int32(0), 0.5, int32(0), spare(), need(1)}},
	)
	return cs
}
