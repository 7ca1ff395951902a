package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// pwConst is the constant table of pw_amd64.s: each value in 8 lanes, in
// the order of constNames in internal/asmgen, which generates the loops
// (the names label the entries here). A value is a float32's bits.
var pwConst = func() (t [pwNConst][8]uint32) {
	f := func(v float64) uint32 { return math.Float32bits(float32(v)) }
	vals := [pwNConst]uint32{
		f(1),                    // ONE
		f(0.5),                  // HALF
		0x7fffffff,              // ABS
		0x80000000,              // SIGN
		f(1.44269504088896341),  // LOG2E
		f(0.693359375),          // EXPC1
		f(-2.12194440e-4),       // EXPC2
		f(1.9875691500e-4),      // EP0
		f(1.3981999507e-3),      // EP1
		f(8.3334519073e-3),      // EP2
		f(4.1665795894e-2),      // EP3
		f(1.6666665459e-1),      // EP4
		f(5.0000001201e-1),      // EP5
		f(-87.33654),            // EXPLO
		f(-88),                  // EXPCLO
		f(89),                   // EXPCHI
		127,                     // I127
		0x00800000,              // FLTMIN
		f(8388608),              // TWO23
		f(23),                   // F23
		126,                     // I126
		0x007fffff,              // MANT
		f(0.707106781186547524), // SQRTHF
		f(7.0376836292e-2),      // LP0
		f(-1.1514610310e-1),     // LP1
		f(1.1676998740e-1),      // LP2
		f(-1.2420140846e-1),     // LP3
		f(1.4249322787e-1),      // LP4
		f(-1.6668057665e-1),     // LP5
		f(2.0000714765e-1),      // LP6
		f(-2.4999993993e-1),     // LP7
		f(3.3333331174e-1),      // LP8
		0x7f800000,              // INF
		0xff800000,              // NINF
		f(2),                    // TWO
		f(log2),                 // LN2
		f(100),                  // HUNDRED
		f(-100),                 // M100
		f(1e-12),                // TINY
		f(logCoshKnee),          // KNEE
		f(log2Pi),               // LOG2PI
		f(1.0 / 15),             // A15
		f(1.0 / 13),             // A13
		f(1.0 / 11),             // A11
		f(1.0 / 9),              // A9
		f(1.0 / 7),              // A7
		f(1.0 / 5),              // A5
		f(1.0 / 3),              // A3
		f(math.Sqrt2),           // SQRT2
		f(tanhP0),               // TH0
		f(tanhP1),               // TH1
		f(tanhP2),               // TH2
		f(tanhP3),               // TH3
		f(tanhP4),               // TH4
		f(tanhP5),               // TH5
	}
	for i, v := range vals {
		for k := range t[i] {
			t[i][k] = v
		}
	}
	return t
}()

const pwNConst = 55

// pwArgs is the argument block of the vector loops; its layout is fixed
// by the offsets in pw_amd64.s. Each loop reads x, y (and a) and writes
// l, gx, gy (and ga) for n elements, n a multiple of 8; the gradients are
// multiplied by gs. p0, p1, p2 and f are the op's parameters.
type pwArgs struct {
	x, y, a, gx, gy, ga, l *float32
	k                      *[pwNConst][8]uint32
	n                      int
	gs, p0, p1, p2         float32
	f                      int64
	sum                    float64 // out: the sum of l, in float64, in the loop's fixed order
}

// ones32 is the auxiliary input of ops that read one where none is given.
var ones32 = func() (o [kernelspec.BlockSize]float32) {
	for i := range o {
		o[i] = 1
	}
	return o
}()

// vecChunk32 is chunk for float32 without weight or mask, where op has a
// vector loop: the loop runs over the first elements, len(x) rounded down
// to its width, and pointwiseOp over the rest. Buffers not asked for (nil) are taken from
// sc; a is nil where the op has no auxiliary input. It returns the sum of
// the losses (the loop's lanes in its fixed order, then the rest in index
// order, in float64) and whether op had a loop.
func vecChunk32(op int32, p0, p1, p2, gs float32, x, y, a, gx, gy, ga, out []float32, sc *pwScratch[float32]) (float64, bool) {
	m := len(x)
	l := out
	if l == nil {
		l = sc.l[:m]
	}
	if gx == nil {
		gx = sc.gx[:m]
	}
	if gy == nil {
		gy = sc.gy[:m]
	}
	if ga == nil {
		ga = sc.ga[:m]
	}
	if a == nil {
		a = ones32[:m]
	}
	y, a, l, gx, gy, ga = y[:m], a[:m], l[:m], gx[:m], gy[:m], ga[:m]
	args := pwArgs{x: &x[0], y: &y[0], a: &a[0], gx: &gx[0], gy: &gy[0], ga: &ga[0], l: &l[0], n: m}
	done := vecLoop(op, p0, p1, p2, gs, &args)
	if done < 0 {
		return 0, false
	}
	s := args.sum
	if done == 0 {
		s = 0
	}
	for i := done; i < m; i++ {
		v, dx, dy, da := pointwiseOp(op, x[i], y[i], a[i], p0, p1, p2)
		l[i], gx[i], gy[i], ga[i] = v, gs*dx, gs*dy, gs*da
		s += float64(v)
	}
	return s, true
}
