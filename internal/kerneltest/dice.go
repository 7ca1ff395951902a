package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("dice", testDice, diceSizeCases) }

// Tolerances of the dice family: the sums add thousands of terms in
// another order than the mirror (float64); the loss and coefficients are
// formed from them.
var (
	diceSumTol  = tol{rel: 2e-5, abs: 1e-6, floor: 1e-6}
	diceLossTol = tol{rel: 1e-4, abs: 1e-6, floor: 1e-6}
	diceGradTol = tol{rel: 1e-4, abs: 1e-5, floor: 1e-9}
)

// diceVariant is one configuration of the dice kernels.
type diceVariant struct {
	name  string
	flags int32 // activation, target kind, squared/soft, ignore, batch, jaccard, weight, smp
	kind  int32
	c0    int32
	red   int32
	gamma float64
	big   bool    // extreme logits (±80, a NaN-free saturated softmax)
	ceEps float64 // label smoothing, or the focal term's gamma
	ceP1  float64 // the focal term's alpha
}

var (
	diceShapes = []struct{ n, c, s int }{{1, 1, 1}, {2, 3, 5}, {3, 4, 1031}, {2, 7, 300}, {5, 2, 4099}, {1, 9, 257}}
	ti, tfl    = kernelspec.DiceTargetIndex, kernelspec.DiceTargetFloat
	sm, sg     = kernelspec.DiceSoftmax, kernelspec.DiceSigmoid
	diceVars   = []diceVariant{
		{name: "dice/softmax/index", flags: sm | ti},
		{name: "dice/sigmoid/float/squared/sum", flags: sg | tfl | kernelspec.DiceSquared, red: kernelspec.ReductionSum},
		{name: "dice/none/float/soft", flags: tfl | kernelspec.DiceSoftLabel},
		{name: "jaccard/batch/weight/nobg/none", flags: sm | ti | kernelspec.DiceJaccard | kernelspec.DiceBatch | kernelspec.DiceWeight, c0: 1, red: kernelspec.ReductionNone},
		{name: "dice/ignore/extreme", flags: sm | ti | kernelspec.DiceIgnore, big: true},
		{name: "tversky/focal", flags: sm | ti, kind: kernelspec.DiceKindTversky, gamma: 1.5},
		{name: "tversky/smp/gamma", flags: sm | ti | kernelspec.DiceSMP | kernelspec.DiceBatch, kind: kernelspec.DiceKindTversky, gamma: 0.75},
		{name: "dice/smp/jaccard", flags: sg | ti | kernelspec.DiceSMP | kernelspec.DiceBatch | kernelspec.DiceJaccard},
		{name: "gdl/square", flags: sm | ti, kind: kernelspec.DiceKindGDLSquare},
		{name: "gdl/simple/batch/none", flags: sm | ti | kernelspec.DiceBatch, kind: kernelspec.DiceKindGDLSimple, red: kernelspec.ReductionNone},
		{name: "gdl/uniform/soft/nobg", flags: sg | tfl | kernelspec.DiceSoftLabel, kind: kernelspec.DiceKindGDLUniform, c0: 1},
		{name: "dice_ce/index/weight/ignore/smoothing", flags: sm | ti | kernelspec.DiceCE | kernelspec.DiceCEWeight | kernelspec.DiceWeight | kernelspec.DiceIgnore, ceEps: 0.1},
		{name: "dice_ce/sigmoid/float/sum", flags: sg | tfl | kernelspec.DiceCE, red: kernelspec.ReductionSum, ceEps: 0.2},
		{name: "dice_focal/softmax/alpha/weight/ignore", flags: sm | ti | kernelspec.DiceFocal | kernelspec.DiceFocalSoftmax | kernelspec.DiceFocalAlpha | kernelspec.DiceCEWeight | kernelspec.DiceIgnore, ceEps: 2, ceP1: 0.25},
		{name: "dice_focal/softmax/nobg/gamma0.5", flags: sm | ti | kernelspec.DiceFocal | kernelspec.DiceFocalSoftmax | kernelspec.DiceNoBG, c0: 1, ceEps: 0.5},
		{name: "dice_focal/sigmoid/float/alpha/sum", flags: sg | tfl | kernelspec.DiceFocal | kernelspec.DiceFocalAlpha, red: kernelspec.ReductionSum, ceEps: 1.5, ceP1: 0.75},
	}
)

// testDice runs dice_partials, dice_combine, dice_finish and dice_grad
// on each shape and variant, each kernel fed the mirror's result of the
// one before, and compares every output with the mirror.
func testDice(t *testing.T, s *suite) {
	i := 0
	for _, sh := range diceShapes {
		for _, v := range diceVars {
			seed := i
			i++
			t.Run(fmt.Sprintf("%dx%dx%d/%s", sh.n, sh.c, sh.s, v.name), func(t *testing.T) {
				testDiceCase(t, s, sh.n, sh.c, sh.s, v, seed)
			})
		}
	}
}

func testDiceCase(t *testing.T, s *suite, n, c, sp int, v diceVariant, seed int) {
	rng := newRand(61, seed)
	c0 := v.c0
	if c == 1 {
		c0 = 0
	}
	flags := v.flags
	if c == 1 {
		flags &^= kernelspec.DiceSoftmax
	}
	x := randn(rng, n*c*sp, 2)
	if flags&(sm|sg) == 0 {
		x = uniform(rng, n*c*sp, 0, 1)
	}
	if v.big {
		for i := range x {
			if rng.IntN(3) == 0 {
				x[i] = float32(80 * math.Copysign(1, float64(x[i])))
			}
		}
	}
	tidx := make([]int32, max(n*sp, 1))
	for i := range tidx {
		tidx[i] = int32(rng.IntN(c))
		if i < sp && tidx[i] == int32(c-1) && c > 1 {
			tidx[i] = 0 // the last class absent from sample 0
		}
		if flags&kernelspec.DiceIgnore != 0 && i%5 == 2 {
			tidx[i] = -7
		}
	}
	tf := uniform(rng, max(n*c*sp, 1), 0, 1)
	nb := max(1, min((sp+255)/256, 3)) // several chunks where there are pixels
	N, C, S, NB := int32(n), int32(c), int32(sp), int32(nb)
	rows := n * c
	if flags&kernelspec.DiceBatch != 0 {
		rows = c
	}
	weight := uniform(rng, c, 0.2, 2)
	ce := flags&kernelspec.DiceCE != 0
	if ce && c == 1 && flags&ti != 0 {
		return // the binary cross-entropy term takes a float target
	}

	r := s.rig(t)
	r.launch("dice_partials", n*nb, x, tidx, tf, weight, N, C, S, NB, flags, int32(-7), v.ceEps, v.ceP1,
		zeros(n*c*3*nb), zeros(n*nb*2))
	r.compare(exact, on("part", diceSumTol), on("xpart", diceSumTol))
	part := r.mirror("part")
	xpart := r.mirror("xpart")

	r = s.rig(t)
	r.launch("dice_combine", rows, part, N, C, NB, flags, zeros(rows*3))
	r.compare(exact, on("stats", diceSumTol))
	stats := r.mirror("stats")

	groups := n
	if flags&kernelspec.DiceBatch != 0 {
		groups = 1
	}
	nl := 1
	if v.red == kernelspec.ReductionNone {
		nl = groups * (c - int(c0))
		if v.kind >= kernelspec.DiceKindGDLSquare {
			nl = groups
		}
	}
	gamma := v.gamma
	if gamma == 0 {
		gamma = 1
	}
	r = s.rig(t)
	r.launch("dice_finish", 1, stats, weight, xpart, N, C, c0, v.kind, flags, int32(n*nb), 1e-5, 2e-5, 0.3, 0.7,
		gamma, 1e-7, 0.7, 1.3, v.red, zeros(nl), zeros(rows*2), zeros(1))
	r.compare(exact, on("loss", diceLossTol), on("coef", diceLossTol), on("extra", diceLossTol))
	coef := r.mirror("coef")
	extra := r.mirror("extra")

	for _, inPlace := range []bool{false, true} {
		r = s.rig(t)
		xb := r.buf(x)
		var g any = zeros(n * c * sp)
		if inPlace {
			g = xb
		}
		blocks := max(1, min((n*sp+255)/256, 3))
		r.launch("dice_grad", blocks, xb, tidx, tf, coef, weight, extra, N, C, S, flags, int32(-7), v.ceEps, v.ceP1, g)
		r.compare(exact, on("grad", diceGradTol))
	}
}

// diceSizeCases: n = 3 samples, c = 5 classes, s = 7 pixels, nb = 2.
func diceSizeCases() []sizeCase {
	const n, c, s, nb = 3, 5, 7, 2
	var cs []sizeCase
	for _, f := range []struct {
		what  string
		flags int32
	}{{"index", kernelspec.DiceTargetIndex | kernelspec.DiceSoftmax | kernelspec.DiceIgnore},
		{"float batch", kernelspec.DiceTargetFloat | kernelspec.DiceBatch | kernelspec.DiceWeight},
		{"index ce", kernelspec.DiceTargetIndex | kernelspec.DiceSoftmax | kernelspec.DiceCE | kernelspec.DiceCEWeight},
		{"float focal", kernelspec.DiceTargetFloat | kernelspec.DiceFocal | kernelspec.DiceFocalSoftmax | kernelspec.DiceNoBG}} {
		idx, flt := f.flags&kernelspec.DiceTargetIndex != 0, f.flags&kernelspec.DiceTargetFloat != 0
		ti, tf := ispare(), spare()
		if idx {
			ti = ineed(n*s, 1, 0, 4, -1)
		}
		if flt {
			tf = need(n * c * s)
		}
		rows := n * c
		if f.flags&kernelspec.DiceBatch != 0 {
			rows = c
		}
		w, cw, xp, ex := spare(), spare(), spare(), spare()
		if f.flags&kernelspec.DiceWeight != 0 {
			w = need(c)
		}
		if f.flags&kernelspec.DiceCEWeight != 0 {
			cw = need(c)
		}
		if f.flags&(kernelspec.DiceCE|kernelspec.DiceFocal) != 0 {
			xp, ex = need(n*nb*2), need(1)
		}
		cs = append(cs,
			sizeCase{kernel: "dice_partials", what: f.what, blocks: n * nb, guarded: true,
				args: []any{need(n * c * s), ti, tf, cw, int32(n), int32(c), int32(s), int32(nb), f.flags, int32(-1), 0.1, 0.25, need(n * c * 3 * nb), xp}},
			sizeCase{kernel: "dice_combine", what: f.what, blocks: rows, guarded: true,
				args: []any{need(n * c * 3 * nb), int32(n), int32(c), int32(nb), f.flags, need(rows * 3)}},
			sizeCase{kernel: "dice_finish", what: f.what + " mean", blocks: 1,
				bad:  []badScalar{bad("c0", c+1), bad("kind", 5), bad("reduction", 3)},
				args: []any{need(rows * 3), w, xp, int32(n), int32(c), int32(1), kernelspec.DiceKindDice, f.flags, int32(n * nb), 1e-5, 1e-5, 0.5, 0.5, 1.0, 1e-7, 1.0, 1.0, kernelspec.ReductionMean, need(1), need(rows * 2), ex}},
			sizeCase{kernel: "dice_grad", what: f.what, blocks: 1, guarded: true,
				args: []any{need(n * c * s), ti, tf, need(rows * 2), cw, ex, int32(n), int32(c), int32(s), f.flags, int32(-1), 0.1, 0.25, need(n * c * s)}},
		)
		groups := n
		if f.flags&kernelspec.DiceBatch != 0 {
			groups = 1
		}
		cs = append(cs,
			sizeCase{kernel: "dice_finish", what: f.what + " none", blocks: 1,
				args: []any{need(rows * 3), w, spare(), int32(n), int32(c), int32(1), kernelspec.DiceKindTversky, f.flags &^ (kernelspec.DiceCE | kernelspec.DiceFocal), int32(0), 1e-5, 1e-5, 0.5, 0.5, 1.0, 1e-7, 1.0, 0.0, kernelspec.ReductionNone, need(groups * (c - 1)), need(rows * 2), spare()}},
			sizeCase{kernel: "dice_finish", what: f.what + " gdl none", blocks: 1,
				args: []any{need(rows * 3), w, spare(), int32(n), int32(c), int32(0), kernelspec.DiceKindGDLSquare, f.flags &^ (kernelspec.DiceCE | kernelspec.DiceFocal), int32(0), 1e-5, 1e-5, 0.5, 0.5, 1.0, 1e-7, 1.0, 0.0, kernelspec.ReductionNone, need(groups), need(rows * 2), spare()}},
		)
	}
	return cs
}
