package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// ctcTol is the tolerance of alpha, beta, loglik, loglik_beta and
// loss_rows; the gradient's is absolute, gtol times ctcGradScale.
var ctcTol = tol{rel: 2e-5, floor: 1e-5}

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
	gtol       float64 // gradient tolerance, relative to the largest |grad| (0: 2e-4)
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
				d.x[k] = negInf
			}
		}
	}
	if c.nan {
		d.x[(c.T/2*d.strideT+(c.N-1)*d.strideN)+c.blank] = nan // on every path of sequence N-1
		d.x[1*d.strideT+0*d.strideN+(c.blank+1)%c.C] = nan     // maybe on no path of sequence 0
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

// ctcCases are the CTC kernel cases. The long ones hold the gradient to
// the default 2e-4 since the kernels recurse in le_real (double on CUDA
// and on OpenCL devices with cl_khr_fp64, PoCL's included); before that
// the CUDA copy of this table allowed 2e-3 and, for L = 1000, 3e-2. An
// OpenCL device without cl_khr_fp64 recurses in float and may need those
// again: set gtol per case if one does.
func ctcCases() []ctcCase {
	const none = -1
	mean, sum, red0 := kernelspec.ReductionMean, kernelspec.ReductionSum, kernelspec.ReductionNone
	ex, sm := kernelspec.CTCGradExact, kernelspec.CTCGradSoftmax
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

// ctcScale is the gradient factor of sequence n with Ln labels.
func ctcScale(c ctcCase, Ln int) float64 {
	if c.reduction == kernelspec.ReductionMean {
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

// testCTC compares logsumexp_rows (with lse), ctc_alpha and ctc_beta_grad
// with their mirrors kernel by kernel: each kernel gets the mirror's
// results of the one before. alpha starts full of a sentinel, so that
// writes outside a sequence's cells show; grad full of NaN, so that a
// missing write shows. Then it checks the device's own results: loglik
// from alpha and from beta agree, and each frame's gradient sums to what
// the occupations imply.
func testCTC(t *testing.T, s *suite) {
	for i, c := range ctcCases() {
		data := ctcInputs(newRand(13, i), c)
		t.Run(c.String(), func(t *testing.T) {
			if testing.Short() && c.T*c.N > 4000 {
				t.Skip("long case")
			}
			testCTCCase(t, s, c, data)
		})
	}
}

func testCTCCase(t *testing.T, s *suite, c ctcCase, d ctcData) {
	r := s.rig(t)
	T, N, C := int32(c.T), int32(c.N), int32(c.C)
	x := r.buf(d.x)
	lse := r.buf(zeros(c.T * c.N))
	if c.hasLSE {
		r.launch("logsumexp_rows", c.T*c.N, x, T*N, C, 1.0, zeros(c.T*c.N))
		r.compare(exact, on("lse", lseTol))
		lse = r.mirror("lse")
	}
	targets, offsets, lengths, inputs := r.buf(d.targets), r.buf(d.offsets), r.buf(d.lengths), r.buf(d.inputs)
	r.launch("ctc_alpha", c.N, x, lse, T, N, C, int32(d.strideT), int32(d.strideN), b2i(c.hasLSE),
		targets, offsets, lengths, inputs, int32(c.blank), int32(d.sMax), filled(c.N*c.T*d.sMax, 7.5),
		zeros(c.N), zeros(3*c.N*d.sMax))
	r.compare(exact, on("alpha", ctcTol), on("loglik", ctcTol), on("state_ws", skipTol))
	ll, _ := r.floats(r.arg("loglik"))
	alpha, loglik := r.mirror("alpha"), r.mirror("loglik")

	gtol := c.gtol
	if gtol == 0 {
		gtol = 2e-4
	}
	r.launch("ctc_beta_grad", c.N, x, lse, T, N, C, int32(d.strideT), int32(d.strideN), b2i(c.hasLSE),
		targets, offsets, lengths, inputs, d.next, int32(c.blank), int32(d.sMax), alpha, loglik,
		c.reduction, b2i(c.zeroInf), c.mode, b2i(c.hasGrad), filled(c.T*c.N*c.C, nan), zeros(c.N*c.C),
		zeros(3*c.N*d.sMax), filled(c.N, 9), filled(c.N, 9))
	r.compare(exact, on("alpha", ctcTol), on("loglik_beta", ctcTol), on("loss_rows", ctcTol),
		on("grad", tol{floor: gtol * ctcGradScale(c)}), on("class_ws", skipTol), on("state_ws", skipTol))

	// Checks of the device's own results, independent of the mirror.
	llb, _ := r.floats(r.arg("loglik_beta"))
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
	g, _ := r.floats(r.arg("grad"))
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
				if c.mode == kernelspec.CTCGradSoftmax {
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

// testCTCNaN compares the CTC kernels with the float64 host mirror on
// inputs with NaN log-probabilities: one on every path of the last
// sequence, one at t = 1 of the first (where a long target cannot pass
// yet, and the NaN must not spread). (losses.TestCTCNaNFloat32 holds the
// host's float32 path to the same NaN pattern.)
func testCTCNaN(t *testing.T, s *suite) {
	for i, c := range []ctcCase{
		{T: 20, N: 3, C: 6, blank: 2, lens: []int{8, 3, 4}, ins: []int{20, 15, 18}, repeats: true,
			impossible: -1, nan: true, mode: kernelspec.CTCGradSoftmax, reduction: kernelspec.ReductionMean, hasGrad: true},
		{T: 20, N: 3, C: 6, blank: 0, lens: []int{1, 3, 4}, ins: []int{20, 15, 18}, impossible: -1, nan: true,
			hasLSE: true, batchMajor: true, mode: kernelspec.CTCGradExact, reduction: kernelspec.ReductionSum, hasGrad: true},
	} {
		data := ctcInputs(newRand(19, i), c)
		t.Run(c.String(), func(t *testing.T) {
			b := ctcDevice(t, s.d, c, data)
			want := ctcHost64(t, c, data)
			for i, got := range []device.Buffer{b.alpha, b.loglik, b.grad, b.loss, b.loglikBeta} {
				what := []string{"beta", "loglik", "grad", "loss_rows", "loglik_beta"}[i] + " (float64 mirror)"
				compareFloats(t, what, download(t, s.d, got), want[i], ctcTol)
			}
			ll := download(t, s.d, b.loglik)
			if !math.IsNaN(float64(ll[c.N-1])) {
				t.Errorf("loglik of the sequence with a NaN on every path = %v", ll[c.N-1])
			}
			s.ran("ctc_alpha")
			s.ran("ctc_beta_grad")
		})
	}
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
		must(t, err)
		return b
	}
	i32 := func(v []int32) *host.Buffer {
		b, err := host.Wrap(slices.Clone(v))
		must(t, err)
		return b
	}
	x, lse := f64(data.x), f64(zeros(c.T*c.N))
	targets, offsets, lengths, inputs, next := i32(data.targets), i32(data.offsets), i32(data.lengths), i32(data.inputs), i32(data.next)
	alpha, loglik := f64(zeros(c.N*c.T*data.sMax)), f64(zeros(c.N))
	grad, classWS, stateWS := f64(zeros(c.T*c.N*c.C)), f64(zeros(c.N*c.C)), f64(zeros(3*c.N*data.sMax))
	loss, loglikBeta := f64(zeros(c.N)), f64(zeros(c.N))
	T, N, C := int32(c.T), int32(c.N), int32(c.C)
	if c.hasLSE {
		must(t, h.Launch("logsumexp_rows", device.Grid{Blocks: c.T * c.N, Threads: kernelspec.BlockSize}, x, T*N, C, 1.0, lse))
	}
	g := device.Grid{Blocks: c.N, Threads: kernelspec.BlockSize}
	must(t, h.Launch("ctc_alpha", g, x, lse, T, N, C, int32(data.strideT), int32(data.strideN), b2i(c.hasLSE),
		targets, offsets, lengths, inputs, int32(c.blank), int32(data.sMax), alpha, loglik, stateWS))
	must(t, h.Launch("ctc_beta_grad", g, x, lse, T, N, C, int32(data.strideT), int32(data.strideN), b2i(c.hasLSE),
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

// ctcBufs are the device buffers of one CTC run.
type ctcBufs struct {
	x, lse, targets, offsets, lengths, inputs, next, alpha, loglik device.Buffer
	grad, classWS, stateWS, loss, loglikBeta                       device.Buffer
}

// ctcDevice allocates a case's buffers on d and runs logsumexp_rows (with
// hasLSE), ctc_alpha and ctc_beta_grad once.
func ctcDevice(t testing.TB, d device.Device, c ctcCase, data ctcData) *ctcBufs {
	t.Helper()
	b := &ctcBufs{x: upload(t, d, data.x), lse: upload(t, d, zeros(c.T*c.N)), targets: upload(t, d, data.targets),
		offsets: upload(t, d, data.offsets), lengths: upload(t, d, data.lengths), inputs: upload(t, d, data.inputs),
		next: upload(t, d, data.next), alpha: upload(t, d, zeros(c.N*c.T*data.sMax)), loglik: upload(t, d, zeros(c.N)),
		grad: upload(t, d, zeros(c.T*c.N*c.C)), classWS: upload(t, d, zeros(c.N*c.C)),
		stateWS: upload(t, d, zeros(3*c.N*data.sMax)), loss: upload(t, d, zeros(c.N)), loglikBeta: upload(t, d, zeros(c.N))}
	if c.hasLSE {
		must(t, d.Launch("logsumexp_rows", device.Grid{Blocks: c.T * c.N, Threads: kernelspec.BlockSize},
			b.x, int32(c.T*c.N), int32(c.C), 1.0, b.lse))
	}
	ctcAlpha(t, d, c, data, b)
	ctcBeta(t, d, c, data, b)
	must(t, d.Sync())
	return b
}

func ctcAlpha(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	t.Helper()
	must(t, d.Launch("ctc_alpha", device.Grid{Blocks: c.N, Threads: kernelspec.BlockSize}, b.x, b.lse,
		int32(c.T), int32(c.N), int32(c.C), int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets,
		b.offsets, b.lengths, b.inputs, int32(c.blank), int32(data.sMax), b.alpha, b.loglik, b.stateWS))
}

func ctcBeta(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	t.Helper()
	must(t, d.Launch("ctc_beta_grad", device.Grid{Blocks: c.N, Threads: kernelspec.BlockSize}, b.x, b.lse,
		int32(c.T), int32(c.N), int32(c.C), int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets,
		b.offsets, b.lengths, b.inputs, b.next, int32(c.blank), int32(data.sMax), b.alpha, b.loglik, c.reduction,
		b2i(c.zeroInf), c.mode, b2i(c.hasGrad), b.grad, b.classWS, b.stateWS, b.loss, b.loglikBeta))
}

// ctcBench times ctc_alpha and ctc_beta_grad (lse folded in, with the
// gradient, mean reduction) for two common shapes, each launch followed
// by a Sync. ctc_beta_grad runs after a fresh ctc_alpha, which is not
// timed.
func ctcBench(b *testing.B, d device.Device) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, sh := range []struct{ T, N, C, L int }{{150, 64, 28, 40}, {1000, 32, 29, 200}} {
		lens, ins := make([]int, sh.N), make([]int, sh.N)
		for n := range lens {
			lens[n], ins[n] = sh.L, sh.T
		}
		c := ctcCase{T: sh.T, N: sh.N, C: sh.C, lens: lens, ins: ins, impossible: -1, hasLSE: true,
			mode: kernelspec.CTCGradSoftmax, reduction: kernelspec.ReductionMean, hasGrad: true}
		data := ctcInputs(rng, c)
		bufs := ctcDevice(b, d, c, data) // also builds the program
		name := fmt.Sprintf("T=%d_N=%d_C=%d_L=%d", sh.T, sh.N, sh.C, sh.L)
		b.Run(name+"/ctc_alpha", func(b *testing.B) {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ctcAlpha(b, d, c, data, bufs)
				must(b, d.Sync())
			}
		})
		b.Run(name+"/ctc_beta_grad", func(b *testing.B) {
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ctcAlpha(b, d, c, data, bufs)
				must(b, d.Sync())
				b.StartTimer()
				ctcBeta(b, d, c, data, bufs)
				must(b, d.Sync())
			}
		})
	}
}
