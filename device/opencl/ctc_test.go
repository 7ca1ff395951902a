//go:build opencl

package opencl_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
)

// ctcCase is one CTC configuration: T time steps, N sequences of C
// classes, and per sequence n a target length lens[n] and an input length
// ins[n].
type ctcCase struct {
	T, N, C    int
	lens, ins  []int
	blank      int
	batchMajor bool // x is [N, T, C] (stride_t = C), else [T, N, C]
	hasLSE     bool // x holds logits and lse comes from logsumexp_rows
	repeats    bool // labels repeat, next to each other and apart
	impossible int  // this sequence gets one label repeated and Tn = 2*Ln-2 (-1: none)
	negInf     bool // some log-probabilities are -inf
	nan        bool // two log-probabilities are NaN
	mode       int32
	reduction  int32
	zeroInf    bool
	hasGrad    bool
	gtol       float64 // gradient tolerance, relative to the largest |grad|
}

func (c ctcCase) String() string {
	return fmt.Sprintf("T=%d/N=%d/C=%d/L=%v/Tn=%v/blank=%d/bm=%v/lse=%v/rep=%v/imp=%d/-inf=%v/nan=%v/mode=%d/red=%d/zi=%v/grad=%v",
		c.T, c.N, c.C, c.lens, c.ins, c.blank, c.batchMajor, c.hasLSE, c.repeats, c.impossible, c.negInf, c.nan,
		c.mode, c.reduction, c.zeroInf, c.hasGrad)
}

// ctcData is the input of one case.
type ctcData struct {
	x                                       []float32
	strideT, strideN                        int
	targets, offsets, lengths, inputs, next []int32
	sMax                                    int
}

// ctcInputs makes x (log-probabilities, or logits with hasLSE), the
// targets (with a gap after each sequence, so that the offsets matter),
// target_next, and s_max (one more than needed, so that it is a stride
// and not a size).
func ctcInputs(rng *rand.Rand, c ctcCase) ctcData {
	d := ctcData{x: randn(rng, c.T*c.N*c.C, 2), strideT: c.N * c.C, strideN: c.C}
	if c.batchMajor {
		d.strideT, d.strideN = c.C, c.T*c.C
	}
	if !c.hasLSE { // log-softmax each row
		for r := 0; r < c.T*c.N; r++ {
			row := d.x[r*c.C : (r+1)*c.C]
			m := math.Inf(-1)
			for _, v := range row {
				m = math.Max(m, float64(v))
			}
			s := 0.0
			for _, v := range row {
				s += math.Exp(float64(v) - m)
			}
			l := m + math.Log(s)
			for k := range row {
				row[k] = float32(float64(row[k]) - l)
			}
		}
	}
	if c.negInf {
		for i := 0; i < max(1, len(d.x)/40); i++ {
			k := rng.IntN(len(d.x))
			if k%c.C != c.blank {
				d.x[k] = float32(math.Inf(-1))
			}
		}
	}
	if c.nan {
		d.x[(c.T/2*d.strideT+(c.N-1)*d.strideN)+c.blank] = float32(math.NaN()) // on every path of sequence N-1
		d.x[1*d.strideT+0*d.strideN+(c.blank+1)%c.C] = float32(math.NaN())     // maybe on no path of sequence 0
	}
	label := func() int32 {
		v := rng.IntN(c.C - 1)
		if v >= c.blank {
			v++
		}
		return int32(v)
	}
	maxL := 0
	for n := 0; n < c.N; n++ {
		L, Tn := c.lens[n], c.ins[n]
		d.offsets = append(d.offsets, int32(len(d.targets)))
		for j := 0; j < L; j++ {
			v := label()
			switch {
			case n == c.impossible && j > 0:
				v = d.targets[len(d.targets)-1]
			case c.repeats && j > 0 && rng.IntN(3) == 0:
				v = d.targets[len(d.targets)-1]
			case c.repeats && j > 1 && rng.IntN(3) == 0:
				v = d.targets[len(d.targets)-2]
			}
			d.targets = append(d.targets, v)
		}
		if n == c.impossible {
			Tn = 2*L - 2
		}
		d.targets = append(d.targets, int32(c.C+7)) // gap: never read
		d.lengths = append(d.lengths, int32(L))
		d.inputs = append(d.inputs, int32(Tn))
		maxL = max(maxL, L)
	}
	d.next = make([]int32, len(d.targets))
	for n := 0; n < c.N; n++ {
		o, L := int(d.offsets[n]), c.lens[n]
		for j := 0; j < L; j++ {
			d.next[o+j] = -1
			for k := j + 1; k < L; k++ {
				if d.targets[o+k] == d.targets[o+j] {
					d.next[o+j] = int32(k)
					break
				}
			}
		}
	}
	d.sMax = 2*maxL + 2
	return d
}

func ctcCases() []ctcCase {
	const none = -1
	mean, sum, red0 := kernels.ReductionMean, kernels.ReductionSum, kernels.ReductionNone
	ex, sm := kernels.CTCGradExact, kernels.CTCGradSoftmax
	var out []ctcCase
	// Tiny and odd shapes, each in both layouts, with and without lse.
	for _, bm := range []bool{false, true} {
		for _, lse := range []bool{false, true} {
			out = append(out,
				ctcCase{T: 1, N: 1, C: 2, lens: []int{1}, ins: []int{1}, impossible: none, mode: sm, reduction: mean, hasGrad: true},
				ctcCase{T: 1, N: 1, C: 1, lens: []int{0}, ins: []int{1}, impossible: none, mode: ex, reduction: sum, hasGrad: true},
				ctcCase{T: 5, N: 1, C: 3, lens: []int{2}, ins: []int{5}, impossible: none, mode: ex, reduction: mean, hasGrad: true},
				ctcCase{T: 7, N: 5, C: 5, blank: 2, lens: []int{3, 0, 2, 4, 1}, ins: []int{7, 5, 0, 3, 1},
					impossible: none, mode: sm, reduction: mean, zeroInf: true, hasGrad: true},
				ctcCase{T: 9, N: 4, C: 4, blank: 3, lens: []int{3, 4, 1, 4}, ins: []int{9, 8, 3, 9}, repeats: true,
					impossible: 3, mode: sm, reduction: sum, hasGrad: true},
				ctcCase{T: 9, N: 4, C: 4, blank: 3, lens: []int{3, 4, 1, 4}, ins: []int{9, 8, 3, 9}, repeats: true,
					impossible: 3, mode: ex, reduction: mean, zeroInf: true, hasGrad: true},
				ctcCase{T: 12, N: 3, C: 6, blank: 5, lens: []int{2, 5, 0}, ins: []int{12, 10, 0}, repeats: true,
					impossible: none, mode: sm, reduction: red0, hasGrad: false},
			)
			for i := len(out) - 7; i < len(out); i++ {
				out[i].batchMajor, out[i].hasLSE = bm, lse
			}
		}
	}
	// -inf log-probabilities; blank in the middle; impossible by length
	// (Tn < Ln) next to possible sequences.
	out = append(out,
		ctcCase{T: 30, N: 6, C: 8, blank: 4, lens: []int{5, 9, 0, 12, 31, 3}, ins: []int{30, 25, 30, 30, 30, 4},
			repeats: true, impossible: none, negInf: true, mode: sm, reduction: mean, hasGrad: true},
		ctcCase{T: 30, N: 6, C: 8, blank: 0, lens: []int{5, 9, 0, 12, 31, 3}, ins: []int{30, 25, 30, 30, 30, 4},
			repeats: true, impossible: none, negInf: true, hasLSE: true, batchMajor: true, mode: ex, reduction: sum,
			zeroInf: true, hasGrad: true},
	)
	// More states than threads (S = 2L+1 > LE_BLOCK), long label chains.
	out = append(out,
		ctcCase{T: 400, N: 3, C: 5, blank: 1, lens: []int{150, 199, 60}, ins: []int{400, 399, 200}, repeats: true,
			impossible: none, hasLSE: true, mode: sm, reduction: mean, hasGrad: true},
		ctcCase{T: 300, N: 2, C: 40, blank: 39, lens: []int{140, 129}, ins: []int{300, 290}, impossible: none,
			batchMajor: true, mode: ex, reduction: red0, hasGrad: true},
	)
	// The long case: L = 1000, T = 3000.
	out = append(out,
		ctcCase{T: 3000, N: 2, C: 30, lens: []int{1000, 700}, ins: []int{3000, 2500}, repeats: true,
			impossible: none, hasLSE: true, mode: sm, reduction: mean, hasGrad: true},
	)
	return out
}

// ctcRun launches logsumexp_rows (with hasLSE), ctc_alpha and
// ctc_beta_grad on the device and the host mirror, and compares every
// output. alpha starts full of a sentinel so that writes outside the
// sequences' cells show; so does grad (NaN).
func ctcRun(t *testing.T, r *rig, c ctcCase, d ctcData) {
	T, N, C := int32(c.T), int32(c.N), int32(c.C)
	x := r.buf(d.x)
	lse := r.buf(make([]float32, c.T*c.N))
	hasLSE := b2i(c.hasLSE)
	if c.hasLSE {
		r.launch("logsumexp_rows", c.T*c.N, x, T*N, C, 1.0, lse)
	}
	targets, offsets, lengths, inputs, next := r.buf(d.targets), r.buf(d.offsets), r.buf(d.lengths), r.buf(d.inputs), r.buf(d.next)
	alpha := r.buf(filled(c.N*c.T*d.sMax, 7.5))
	loglik := r.buf(make([]float32, c.N))
	stateWS := r.buf(make([]float32, 3*c.N*d.sMax))
	r.launch("ctc_alpha", c.N, x, lse, T, N, C, int32(d.strideT), int32(d.strideN), hasLSE,
		targets, offsets, lengths, inputs, int32(c.blank), int32(d.sMax), alpha, loglik, stateWS)
	ran("ctc_alpha")
	r.check("alpha", alpha, -1, 2e-5, 0, 1e-5)
	r.check("loglik", loglik, -1, 2e-5, 0, 1e-5)

	grad := r.buf(filled(c.T*c.N*c.C, float32(math.NaN())))
	classWS := r.buf(make([]float32, c.N*c.C))
	loss, loglikBeta := r.buf(filled(c.N, 9)), r.buf(filled(c.N, 9))
	r.launch("ctc_beta_grad", c.N, x, lse, T, N, C, int32(d.strideT), int32(d.strideN), hasLSE,
		targets, offsets, lengths, inputs, next, int32(c.blank), int32(d.sMax), alpha, loglik,
		c.reduction, b2i(c.zeroInf), c.mode, b2i(c.hasGrad), grad, classWS, stateWS, loss, loglikBeta)
	ran("ctc_beta_grad")
	r.check("beta", alpha, -1, 2e-5, 0, 1e-5)
	r.check("loglik_beta", loglikBeta, -1, 2e-5, 0, 1e-5)
	r.check("loss_rows", loss, -1, 2e-5, 0, 1e-5)
	gtol := c.gtol
	if gtol == 0 {
		gtol = 2e-4
	}
	r.check("grad", grad, -1, 0, 0, gtol*ctcGradScale(c))

	// Checks of the kernels' own output, independent of the mirror.
	ll, _ := r.floats(loglik)
	llb, _ := r.floats(loglikBeta)
	for n := range ll {
		a, b := float64(ll[n]), float64(llb[n])
		if math.IsNaN(a) != math.IsNaN(b) || math.IsInf(a, -1) != math.IsInf(b, -1) ||
			!math.IsInf(a, -1) && math.Abs(a-b) > 1e-5*math.Abs(a)+1e-4 {
			t.Errorf("sequence %d: loglik %v, loglik_beta %v", n, a, b)
		}
	}
	if !c.hasGrad { // with -inf log-probabilities too, every element must be finite
		return
	}
	g, _ := r.floats(grad)
	for n := 0; n < c.N; n++ {
		for tt := 0; tt < c.T; tt++ {
			row := tt*d.strideT + n*d.strideN
			sum := 0.0
			for k := 0; k < c.C; k++ {
				v := float64(g[row+k])
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("grad(t=%d, n=%d, c=%d) = %v", tt, n, k, v)
				}
				sum += v
			}
			// Occupations sum to 1 over c: a row sums to
			// scale·(Σ_c e(t, c) − 1), e = 0 in exact mode and exp(lp)
			// in softmax mode (Σ = 1 unless lp has lost mass to −Inf
			// entries set after the normalisation).
			want := 0.0
			if tt < int(d.inputs[n]) && !math.IsInf(float64(ll[n]), -1) {
				e := 0.0
				if c.mode == kernels.CTCGradSoftmax {
					if c.hasLSE {
						e = 1
					} else {
						for k := 0; k < c.C; k++ {
							e += math.Exp(float64(d.x[row+k]))
						}
					}
				}
				want = ctcScale(c, int(d.lengths[n])) * (e - 1)
			}
			if math.Abs(sum-want) > math.Max(gtol, 1e-3)*ctcGradScale(c) {
				t.Errorf("grad row (t=%d, n=%d) sums to %v, want %v", tt, n, sum, want)
			}
		}
	}
}

// ctcScale is the gradient factor of sequence n with Ln labels.
func ctcScale(c ctcCase, Ln int) float64 {
	if c.reduction == kernels.ReductionMean {
		return 1 / float64(c.N*max(Ln, 1))
	}
	return 1
}

// ctcGradScale bounds |grad| / 2 over all sequences.
func ctcGradScale(c ctcCase) float64 {
	s := 0.0
	for _, L := range c.lens {
		s = math.Max(s, ctcScale(c, L))
	}
	return s
}

func filled(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// TestCTC compares ctc_alpha and ctc_beta_grad with their host mirrors.
func TestCTC(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(13, 14))
		for _, c := range ctcCases() {
			data := ctcInputs(rng, c)
			t.Run(c.String(), func(t *testing.T) {
				if testing.Short() && c.T*c.N > 4000 {
					t.Skip("long case")
				}
				ctcRun(t, newRig(t, d), c, data)
			})
		}
	})
}

// TestCTCNaN compares the CTC kernels with the float64 host mirror on
// inputs with NaN log-probabilities: one on every path of the last
// sequence, one at t = 1 of the first (where a long target cannot pass
// yet, and the NaN must not spread). (losses.TestCTCNaNFloat32 holds the
// host's float32 path to the same NaN pattern.)
func TestCTCNaN(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(19, 20))
		for _, c := range []ctcCase{
			{T: 20, N: 3, C: 6, blank: 2, lens: []int{8, 3, 4}, ins: []int{20, 15, 18}, repeats: true,
				impossible: -1, nan: true, mode: kernels.CTCGradSoftmax, reduction: kernels.ReductionMean, hasGrad: true},
			{T: 20, N: 3, C: 6, blank: 0, lens: []int{1, 3, 4}, ins: []int{20, 15, 18}, impossible: -1, nan: true,
				hasLSE: true, batchMajor: true, mode: kernels.CTCGradExact, reduction: kernels.ReductionSum, hasGrad: true},
		} {
			data := ctcInputs(rng, c)
			t.Run(c.String(), func(t *testing.T) {
				b := ctcDevice(t, d, c, data)
				want := ctcHost64(t, c, data)
				for i, got := range []device.Buffer{b.alpha, b.loglik, b.grad, b.loss, b.loglikBeta} {
					ctcCompare(t, []string{"beta", "loglik", "grad", "loss_rows", "loglik_beta"}[i], read(t, d, got), want[i], 2e-5, 1e-5)
				}
				ll := read(t, d, b.loglik)
				if !math.IsNaN(float64(ll[c.N-1])) {
					t.Errorf("loglik of the sequence with a NaN on every path = %v", ll[c.N-1])
				}
				ran("ctc_alpha")
				ran("ctc_beta_grad")
			})
		}
	})
}

// ctcHost64 runs logsumexp_rows (with hasLSE), ctc_alpha and ctc_beta_grad
// on the host in float64 and returns beta, loglik, grad, loss_rows and
// loglik_beta, rounded to float32.
func ctcHost64(t *testing.T, c ctcCase, data ctcData) [][]float32 {
	h := host.Default()
	f64 := func(v []float32) *host.Buffer {
		w := make([]float64, len(v))
		for i, x := range v {
			w[i] = float64(x)
		}
		b, err := host.Wrap(w)
		ctcMust(t, err)
		return b
	}
	i32 := func(v []int32) *host.Buffer {
		b, err := host.Wrap(append([]int32(nil), v...))
		ctcMust(t, err)
		return b
	}
	x, lse := f64(data.x), f64(make([]float32, c.T*c.N))
	targets, offsets, lengths, inputs, next := i32(data.targets), i32(data.offsets), i32(data.lengths), i32(data.inputs), i32(data.next)
	alpha, loglik := f64(make([]float32, c.N*c.T*data.sMax)), f64(make([]float32, c.N))
	grad, classWS, stateWS := f64(make([]float32, c.T*c.N*c.C)), f64(make([]float32, c.N*c.C)), f64(make([]float32, 3*c.N*data.sMax))
	loss, loglikBeta := f64(make([]float32, c.N)), f64(make([]float32, c.N))
	T, N, C := int32(c.T), int32(c.N), int32(c.C)
	if c.hasLSE {
		ctcMust(t, h.Launch("logsumexp_rows", device.Grid{Blocks: c.T * c.N, Threads: kernels.BlockSize}, x, T*N, C, 1.0, lse))
	}
	g := device.Grid{Blocks: c.N, Threads: kernels.BlockSize}
	ctcMust(t, h.Launch("ctc_alpha", g, x, lse, T, N, C, int32(data.strideT), int32(data.strideN), b2i(c.hasLSE),
		targets, offsets, lengths, inputs, int32(c.blank), int32(data.sMax), alpha, loglik, stateWS))
	ctcMust(t, h.Launch("ctc_beta_grad", g, x, lse, T, N, C, int32(data.strideT), int32(data.strideN), b2i(c.hasLSE),
		targets, offsets, lengths, inputs, next, int32(c.blank), int32(data.sMax), alpha, loglik, c.reduction,
		b2i(c.zeroInf), c.mode, b2i(c.hasGrad), grad, classWS, stateWS, loss, loglikBeta))
	var out [][]float32
	for _, b := range []*host.Buffer{alpha, loglik, grad, loss, loglikBeta} {
		v := make([]float32, b.Len())
		for i, x := range b.Float64s() {
			v[i] = float32(x)
		}
		out = append(out, v)
	}
	return out
}

// ctcCompare wants NaNs and infinities to match exactly and other values
// within rel*|want| + abs.
func ctcCompare(t *testing.T, what string, got, want []float32, rel, abs float64) {
	t.Helper()
	bad := 0
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		ok := math.IsNaN(g) && math.IsNaN(w) || g == w ||
			!math.IsNaN(w) && !math.IsInf(w, 0) && math.Abs(g-w) <= rel*math.Abs(w)+abs
		if !ok {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, float64 host mirror %v", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d of %d elements differ", what, bad, len(want))
	}
}

// TestCTCDeterminism runs the CTC kernels twice and wants the same bits.
func TestCTCDeterminism(t *testing.T) {
	forEachDevice(t, func(t *testing.T, d device.Device) {
		rng := rand.New(rand.NewPCG(15, 16))
		c := ctcCase{T: 200, N: 5, C: 12, blank: 3, lens: []int{40, 150, 0, 7, 99}, ins: []int{200, 190, 50, 3, 200},
			repeats: true, impossible: -1, hasLSE: true, mode: kernels.CTCGradSoftmax, reduction: kernels.ReductionMean, hasGrad: true}
		data := ctcInputs(rng, c)
		run := func() [][]float32 {
			b := ctcDevice(t, d, c, data)
			return [][]float32{read(t, d, b.alpha), read(t, d, b.loglik), read(t, d, b.grad), read(t, d, b.loss),
				read(t, d, b.loglikBeta)}
		}
		a, b := run(), run()
		for i := range a {
			for k := range a[i] {
				if math.Float32bits(a[i][k]) != math.Float32bits(b[i][k]) {
					t.Fatalf("output %d element %d: %v then %v", i, k, a[i][k], b[i][k])
				}
			}
		}
	})
}

// ctcBufs are the device buffers of one CTC launch pair.
type ctcBufs struct {
	x, lse, targets, offsets, lengths, inputs, next, alpha, loglik device.Buffer
	grad, classWS, stateWS, loss, loglikBeta                       device.Buffer
}

// ctcDevice allocates a case's buffers on d and runs logsumexp_rows (with
// hasLSE), ctc_alpha and ctc_beta_grad once.
func ctcDevice(t testing.TB, d device.Device, c ctcCase, data ctcData) *ctcBufs {
	alloc := func(v any) device.Buffer {
		tt, n, _ := device.Elems(v)
		b, err := d.Alloc(tt, n)
		ctcMust(t, err)
		t.Cleanup(func() { b.Release() })
		ctcMust(t, d.Write(b, v))
		return b
	}
	b := &ctcBufs{x: alloc(data.x), lse: alloc(make([]float32, c.T*c.N)), targets: alloc(data.targets),
		offsets: alloc(data.offsets), lengths: alloc(data.lengths), inputs: alloc(data.inputs), next: alloc(data.next),
		alpha: alloc(make([]float32, c.N*c.T*data.sMax)), loglik: alloc(make([]float32, c.N)),
		grad: alloc(make([]float32, c.T*c.N*c.C)), classWS: alloc(make([]float32, c.N*c.C)),
		stateWS: alloc(make([]float32, 3*c.N*data.sMax)), loss: alloc(make([]float32, c.N)), loglikBeta: alloc(make([]float32, c.N))}
	if c.hasLSE {
		ctcMust(t, d.Launch("logsumexp_rows", device.Grid{Blocks: c.T * c.N, Threads: kernels.BlockSize},
			b.x, int32(c.T*c.N), int32(c.C), 1.0, b.lse))
	}
	ctcAlpha(t, d, c, data, b)
	ctcBeta(t, d, c, data, b)
	ctcMust(t, d.Sync())
	return b
}

func ctcAlpha(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	ctcMust(t, d.Launch("ctc_alpha", device.Grid{Blocks: c.N, Threads: kernels.BlockSize}, b.x, b.lse,
		int32(c.T), int32(c.N), int32(c.C), int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets,
		b.offsets, b.lengths, b.inputs, int32(c.blank), int32(data.sMax), b.alpha, b.loglik, b.stateWS))
}

func ctcBeta(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	ctcMust(t, d.Launch("ctc_beta_grad", device.Grid{Blocks: c.N, Threads: kernels.BlockSize}, b.x, b.lse,
		int32(c.T), int32(c.N), int32(c.C), int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets,
		b.offsets, b.lengths, b.inputs, b.next, int32(c.blank), int32(data.sMax), b.alpha, b.loglik, c.reduction,
		b2i(c.zeroInf), c.mode, b2i(c.hasGrad), b.grad, b.classWS, b.stateWS, b.loss, b.loglikBeta))
}

func ctcMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func read(t testing.TB, d device.Device, b device.Buffer) []float32 {
	v := make([]float32, b.Len())
	ctcMust(t, d.Read(v, b))
	return v
}

// BenchmarkCTC times ctc_alpha and ctc_beta_grad (lse folded in, with
// the gradient, mean reduction) for two common shapes, each launch
// followed by a Sync. ctc_beta_grad runs after a fresh ctc_alpha, which
// is not timed.
func BenchmarkCTC(b *testing.B) {
	devs, err := devices()
	if err != nil || len(devs) == 0 {
		b.Skipf("no OpenCL device: %v", err)
	}
	ctcBench(b, devs[0])
}

func ctcBench(b *testing.B, d device.Device) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, sh := range []struct{ T, N, C, L int }{{150, 64, 28, 40}, {1000, 32, 29, 200}} {
		lens, ins := make([]int, sh.N), make([]int, sh.N)
		for n := range lens {
			lens[n], ins[n] = sh.L, sh.T
		}
		c := ctcCase{T: sh.T, N: sh.N, C: sh.C, lens: lens, ins: ins, impossible: -1, hasLSE: true,
			mode: kernels.CTCGradSoftmax, reduction: kernels.ReductionMean, hasGrad: true}
		data := ctcInputs(rng, c)
		bufs := ctcDevice(b, d, c, data) // also builds the program
		name := fmt.Sprintf("T=%d_N=%d_C=%d_L=%d", sh.T, sh.N, sh.C, sh.L)
		b.Run(name+"/ctc_alpha", func(b *testing.B) {
			for b.Loop() {
				ctcAlpha(b, d, c, data, bufs)
				ctcMust(b, d.Sync())
			}
		})
		b.Run(name+"/ctc_beta_grad", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				ctcAlpha(b, d, c, data, bufs)
				ctcMust(b, d.Sync())
				b.StartTimer()
				ctcBeta(b, d, c, data, bufs)
				ctcMust(b, d.Sync())
			}
		})
	}
}
