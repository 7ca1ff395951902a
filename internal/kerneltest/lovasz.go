package kerneltest

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("lovasz", testLovasz, lovaszSizeCases) }

// Tolerances of the lovasz family: the softmax errors (float32
// exponentials on both sides, a few ulps apart; the label's error is
// formed without cancellation, so relative), and the Jaccard-gradient
// sums and the gradients.
var (
	lovaszErrTol  = tol{rel: 2e-6, abs: 1e-8}
	lovaszLossTol = tol{rel: 2e-5, abs: 1e-6, floor: 1e-7}
)

// lovaszVariant is one configuration of a lovasz chain.
type lovaszVariant struct {
	n, c, hw int
	hinge    bool
	perImage bool
	ignore   bool // every 7th pixel's label is ignore_index (-1)
	ties     bool // inputs on a grid of 4 values (many equal errors)
	special  bool // a NaN and ±Inf logits
	probs    bool // from_logits 0 (inputs in [0, 1])
	all      bool
	blocks   int // grid of every launch but lovasz_finalize (0: the losses' grids)
}

func (v lovaszVariant) String() string {
	s := fmt.Sprintf("n%d_c%d_hw%d", v.n, v.c, v.hw)
	for _, f := range []struct {
		on   bool
		name string
	}{{v.hinge, "hinge"}, {v.perImage, "per_image"}, {v.ignore, "ignore"}, {v.ties, "ties"},
		{v.special, "special"}, {v.probs, "probs"}, {v.all, "all"}} {
		if f.on {
			s += "_" + f.name
		}
	}
	if v.blocks > 0 {
		s += fmt.Sprintf("_b%d", v.blocks)
	}
	return s
}

var lovaszVariants = []lovaszVariant{
	{n: 1, c: 1, hw: 1},
	{n: 2, c: 3, hw: 5},
	{n: 2, c: 3, hw: 5, perImage: true, ignore: true, all: true},
	{n: 3, c: 4, hw: 1000, ignore: true},               // one segment of 3000: a merge
	{n: 2, c: 2, hw: 4097, perImage: true, ties: true}, // three runs per segment
	{n: 1, c: 5, hw: 2049, special: true, blocks: 3},
	{n: 2, c: 3, hw: 777, probs: true, ties: true, blocks: 1},
	{n: 2, c: 3, hw: 0},
	{n: 1, c: 21, hw: 9000, perImage: true},
	{n: 2, c: 1, hw: 7, hinge: true},
	{n: 3, c: 1, hw: 3001, hinge: true, ignore: true},
	{n: 4, c: 1, hw: 2500, hinge: true, perImage: true, ties: true, blocks: 2},
	{n: 2, c: 1, hw: 6000, hinge: true, special: true, ignore: true, perImage: true},
}

// testLovasz runs each lovasz chain kernel by kernel, each launch on the
// device and on the mirror with the same inputs (the mirror's results of
// the previous kernel), and compares them.
func testLovasz(t *testing.T, s *suite) {
	for i, v := range lovaszVariants {
		t.Run(v.String(), func(t *testing.T) { testLovaszCase(t, s, v, i) })
	}
}

func testLovaszCase(t *testing.T, s *suite, v lovaszVariant, seed int) {
	rng := newRand(41, seed)
	n, c, hw := v.n, v.c, v.hw
	np, total := n*hw, n*c*hw
	var x []float32
	switch {
	case v.ties:
		x = make([]float32, total)
		for i := range x {
			x[i] = float32(rng.IntN(4)) * 0.25
		}
	case v.probs:
		x = uniform(rng, total, 0, 1)
	default:
		x = randn(rng, total, 2)
	}
	if v.special && total > 10 {
		x[1], x[5], x[7] = nan, posInf, negInf
	}
	tg := make([]int32, np)
	for i := range tg {
		if v.hinge {
			tg[i] = int32(rng.IntN(2))
		} else {
			tg[i] = int32(rng.IntN(c))
		}
		if v.ignore && i%7 == 3 {
			tg[i] = -1
		}
	}
	groups, ln := 1, np
	if v.perImage {
		groups, ln = n, hw
	}
	nseg := groups * c
	nt := int(kernelspec.LovaszTiles(int64(ln)))
	grid := func(work, per int) int {
		if v.blocks > 0 {
			return v.blocks
		}
		return max(1, min((work+per-1)/per, 65535))
	}
	r := s.rig(t)
	xp := r.buf(x)
	if v.hinge {
		r.launch("lovasz_hinge_errors", grid(np, 256), xp, tg, int32(n), int32(hw), b2i(v.perImage), b2i(v.ignore),
			int32(-1), make([]int32, 2*total), zeros(total))
		r.compare(exact)
	} else {
		r.launch("lovasz_softmax_errors", grid(np, 256), xp, tg, int32(n), int32(c), int32(hw), b2i(v.perImage),
			b2i(!v.probs), b2i(v.ignore), int32(-1), make([]int32, 2*total), zeros(total))
		r.compare(lovaszErrTol, on("pairs", skipTol))
		lovaszKeysOf(r)
	}
	errs := r.mirror("err")
	pairs := r.buf(r.arg("pairs").host.Int32s())
	nr := (ln + kernelspec.LovaszRun - 1) / kernelspec.LovaszRun
	r.launch("lovasz_sort_runs", grid(nseg*nr, 1), pairs, int32(nseg), int32(ln))
	r.compare(exact)
	for w := kernelspec.LovaszRun; w < ln; w *= 2 {
		pairs = r.buf(r.arg("pairs").host.Int32s())
		r.launch("lovasz_merge", grid(nseg*((ln+7)/8), 256), pairs, int32(nseg), int32(ln), int32(w), make([]int32, 2*total))
		r.compare(exact)
		r.args["pairs"] = r.arg("out_pairs")
	}
	pairs = r.buf(r.arg("pairs").host.Int32s())
	lovaszCheckSorted(t, pairs.host.Int32s(), nseg, ln)
	r.launch("lovasz_tile_counts", grid(nseg*nt, 1), pairs, int32(nseg), int32(ln), int32(nt), make([]int32, nseg*nt))
	r.compare(exact)
	counts := r.buf(r.arg("counts").host.Int32s())
	r.launch("lovasz_segment_scan", grid(nseg, 1), counts, int32(nseg), int32(nt), make([]int32, nseg*nt), make([]int32, nseg))
	r.compare(exact)
	offsets, segFG := r.buf(r.arg("offsets").host.Int32s()), r.buf(r.arg("seg_fg").host.Int32s())
	scale := 1.0
	if v.hinge {
		scale = 1 / float64(max(groups, 1))
	}
	for _, hasGrad := range []bool{false, true} {
		r.launch("lovasz_tile_grad", grid(nseg*nt, 1), pairs, errs, offsets, segFG, int32(nseg), int32(ln), int32(nt),
			int32(c), int32(hw), scale, b2i(hasGrad), filled(total, 7), zeros(nseg*nt))
		r.compare(lovaszLossTol)
	}
	grad := r.mirror("grad")
	tileLoss := r.mirror("tile_loss")
	r.launch("lovasz_finalize", 1, tileLoss, segFG, int32(groups), int32(c), int32(nt), b2i(v.all || v.hinge),
		zeros(1), zeros(nseg))
	r.compare(lovaszLossTol)
	if !v.hinge {
		segW := r.mirror("seg_weight")
		r.launch("lovasz_softmax_grad", grid(np, 256), xp, int32(n), int32(c), int32(hw), b2i(v.perImage), b2i(!v.probs),
			segW, grad)
		r.compare(lovaszLossTol)
	}
}

// lovaszKeysOf checks the device's pairs of lovasz_softmax_errors against
// its own errors (each pair's key is that of the device's error, or the
// ignored pixels' key as the mirror's, and its pixel and foreground bit
// are the mirror's), since float32 exponentials may round an error apart
// from the mirror's.
func lovaszKeysOf(r *rig) {
	r.t.Helper()
	pp, ep := r.arg("pairs"), r.arg("err")
	got := make([]int32, pp.dev.Len())
	must(r.t, r.d.Read(got, pp.dev))
	errs, _ := r.floats(ep)
	want := pp.host.Int32s()
	bad := 0
	for j := 0; j+1 < len(got); j += 2 {
		wk := want[j+1]
		if wk != -1 {
			wk = int32(lovaszKey(errs[j/2]))
		}
		if (got[j] != want[j] || got[j+1] != wk) && bad < 5 {
			r.t.Errorf("lovasz_softmax_errors pair %d = (%#x, %#x), want (%#x, %#x) (error %v)", j/2,
				uint32(got[j+1]), uint32(got[j]), uint32(wk), uint32(want[j]), errs[j/2])
			bad++
		}
	}
}

// lovaszKey is the descending-order key of an error (lv_key, written out
// again here from its definition).
func lovaszKey(e float32) uint32 {
	if e != e {
		return 0
	}
	if e == 0 {
		e = 0 // -0 as +0
	}
	u := math.Float32bits(e)
	if u>>31 == 1 {
		return u // negative: larger magnitude sorts later
	}
	return ^(u | 1<<31)
}

// lovaszCheckSorted requires each segment's pairs (low half, high half)
// ascending as (key, pixel) with its pixels distinct: the sort's result,
// whatever kernel produced it.
func lovaszCheckSorted(t *testing.T, pairs []int32, nseg, ln int) {
	t.Helper()
	for s := range nseg {
		seen := make([]bool, ln)
		for p := range ln {
			o := 2 * (s*ln + p)
			q := int(uint32(pairs[o]) >> 1)
			if q >= ln || seen[q] {
				t.Fatalf("segment %d: pixel %d at %d is out of range or repeated", s, q, p)
			}
			seen[q] = true
			if p > 0 {
				ka, kb := uint32(pairs[o-1]), uint32(pairs[o+1])
				qa := int(uint32(pairs[o-2]) >> 1)
				if ka > kb || ka == kb && qa > q {
					t.Fatalf("segment %d: positions %d, %d out of order", s, p-1, p)
				}
			}
		}
	}
}

// lovaszSizeCases: n = 2 images of hw = 5 pixels, c = 3 classes; the
// segments of the batch (nseg = 3, len = 10).
func lovaszSizeCases() []sizeCase {
	const n, c, hw = 2, 3, 5
	const np, total = n * hw, n * c * hw
	labels := []int32{0, 1, 2, -1, 1}
	// pairs (low, high): pixels 0..9 with keys 5, -1 (ignored), 9, 5, ...,
	// pixel 9 a foreground one
	var pairsV []int32
	for q := range int32(10) {
		lo := q << 1
		if q == 9 {
			lo |= 1
		}
		pairsV = append(pairsV, lo, []int32{5, -1, 9, 5, 0x7f000000}[q%5])
	}
	var cs []sizeCase
	add := func(c sizeCase) { cs = append(cs, c) }
	for _, pi := range []int32{0, 1} {
		what := fmt.Sprint("per_image=", pi)
		add(sizeCase{kernel: "lovasz_softmax_errors", what: what, blocks: 1, guarded: true,
			args: []any{need(total), ineed(np, labels...), int32(n), int32(c), int32(hw), pi, int32(1), int32(1), int32(-1),
				ineed(2 * total), need(total)}})
		add(sizeCase{kernel: "lovasz_hinge_errors", what: what, blocks: 1, guarded: true,
			args: []any{need(np), ineed(np, 0, 1, -1), int32(n), int32(hw), pi, int32(1), int32(-1),
				ineed(2 * np), need(np)}})
		w := n * c
		if pi == 0 {
			w = c
		}
		add(sizeCase{kernel: "lovasz_softmax_grad", what: what, blocks: 1, guarded: true,
			args: []any{need(total), int32(n), int32(c), int32(hw), pi, int32(1), need(w), need(total)}})
	}
	add(sizeCase{kernel: "lovasz_sort_runs", blocks: 2, guarded: true,
		args: []any{ineed(2*total, pairsV...), int32(c), int32(np)}})
	add(sizeCase{kernel: "lovasz_merge", blocks: 1, guarded: true, bad: []badScalar{bad("width", 0)},
		args: []any{ineed(2*total, pairsV...), int32(c), int32(np), int32(2), ineed(2 * total)}})
	add(sizeCase{kernel: "lovasz_tile_counts", blocks: 2, guarded: true,
		args: []any{ineed(2*total, pairsV...), int32(c), int32(np), int32(1), ineed(c)}})
	add(sizeCase{kernel: "lovasz_segment_scan", blocks: 2, guarded: true,
		args: []any{ineed(2*c, 1, 0, 2), int32(c), int32(2), ineed(2 * c), ineed(c)}})
	for _, g := range []int32{0, 1} {
		grad := spare()
		if g == 1 {
			grad = need(total)
		}
		add(sizeCase{kernel: "lovasz_tile_grad", what: fmt.Sprint("has_grad=", g), blocks: 2, guarded: true,
			bad: []badScalar{bad("c", 2), bad("hw", 3), bad("c", 0)},
			args: []any{ineed(2*total, pairsV...), need(total), ineed(c, 0), ineed(c, 1), int32(c),
				int32(np), int32(1), int32(c), int32(hw), 0.5, g, grad, need(c)}})
	}
	add(sizeCase{kernel: "lovasz_finalize", blocks: 1, guarded: true,
		args: []any{need(n * c * 2), ineed(n*c, 0, 1), int32(n), int32(c), int32(2), int32(0), need(1), need(n * c)}})
	return slices.Clip(cs)
}
