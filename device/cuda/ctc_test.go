//go:build cuda

package cuda_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
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
	mode       int32
	reduction  int32
	zeroInf    bool
	hasGrad    bool
	gtol       float64 // gradient tolerance, relative to the largest |grad|
}

func (c ctcCase) String() string {
	return fmt.Sprintf("T=%d N=%d C=%d L=%v Tn=%v blank=%d bm=%v lse=%v rep=%v imp=%d -inf=%v mode=%d red=%d zi=%v grad=%v",
		c.T, c.N, c.C, c.lens, c.ins, c.blank, c.batchMajor, c.hasLSE, c.repeats, c.impossible, c.negInf,
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
	d := ctcData{x: randF(rng, c.T*c.N*c.C, 2), strideT: c.N * c.C, strideN: c.C}
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
			impossible: none, hasLSE: true, mode: sm, reduction: mean, hasGrad: true, gtol: 2e-3},
		ctcCase{T: 300, N: 2, C: 40, blank: 39, lens: []int{140, 129}, ins: []int{300, 290}, impossible: none,
			batchMajor: true, mode: ex, reduction: red0, hasGrad: true, gtol: 2e-3},
	)
	// The long case: L = 1000, T = 3000.
	out = append(out,
		ctcCase{T: 3000, N: 2, C: 30, lens: []int{1000, 700}, ins: []int{3000, 2500}, repeats: true,
			impossible: none, hasLSE: true, mode: sm, reduction: mean, hasGrad: true, gtol: 3e-2},
	)
	return out
}

// ctcGradScale is the largest gradient factor of a case's sequences.
func ctcGradScale(c ctcCase) float64 {
	if c.reduction != kernels.ReductionMean {
		return 1
	}
	s := 0.0
	for _, L := range c.lens {
		s = math.Max(s, 1/float64(c.N*max(L, 1)))
	}
	return s
}

func fill(n int, v float32) []float32 {
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

// TestCTC compares ctc_alpha and ctc_beta_grad with their host mirrors,
// kernel by kernel: logsumexp_rows (with lse) and ctc_alpha run on both
// sides from the same input, then ctc_beta_grad on both from the host's
// lse, alpha and loglik. alpha starts full of a sentinel, so that writes
// outside a sequence's cells show; grad full of NaN, so that a missing
// write shows.
func TestCTC(t *testing.T) {
	d := openGPU(t)
	rng := rand.New(rand.NewPCG(13, 14))
	cases := 0
	for _, c := range ctcCases() {
		data := ctcInputs(rng, c)
		label := c.String()
		T, N, C := int32(c.T), int32(c.N), int32(c.C)
		st, sn := int32(data.strideT), int32(data.strideN)
		lse := make([]float32, c.T*c.N)
		if c.hasLSE {
			ho, gpu := launchBoth(t, d, "logsumexp_rows", rowGrid(c.T*c.N), data.x, T*N, C, 1.0, lse)
			compareAll(t, "logsumexp_rows "+label, ho, gpu, defTol)
			lse = ho[4].([]float32)
		}
		alpha := fill(c.N*c.T*data.sMax, 7.5)
		ho, gpu := launchBoth(t, d, "ctc_alpha", rowGrid(c.N), data.x, lse, T, N, C, st, sn, b2i(c.hasLSE),
			data.targets, data.offsets, data.lengths, data.inputs, int32(c.blank), int32(data.sMax), alpha,
			make([]float32, c.N), make([]float32, 3*c.N*data.sMax))
		for _, i := range []int{14, 15} { // alpha, loglik (state_ws is the kernel's own scratch)
			compareF(t, fmt.Sprintf("ctc_alpha %s arg %d", label, i), gpu[i].([]float32), ho[i].([]float32),
				tol{rel: 2e-5, floor: 1e-5})
		}
		alpha, loglik := ho[14].([]float32), ho[15].([]float32)

		gtol := c.gtol
		if gtol == 0 {
			gtol = 2e-4
		}
		ho, gpu = launchBoth(t, d, "ctc_beta_grad", rowGrid(c.N), data.x, lse, T, N, C, st, sn, b2i(c.hasLSE),
			data.targets, data.offsets, data.lengths, data.inputs, data.next, int32(c.blank), int32(data.sMax),
			alpha, loglik, c.reduction, b2i(c.zeroInf), c.mode, b2i(c.hasGrad), fill(c.T*c.N*c.C, float32(math.NaN())),
			make([]float32, c.N*c.C), make([]float32, 3*c.N*data.sMax), fill(c.N, 9), fill(c.N, 9))
		for _, i := range []int{15, 24, 25} { // beta, loss_rows, loglik_beta
			compareF(t, fmt.Sprintf("ctc_beta_grad %s arg %d", label, i), gpu[i].([]float32), ho[i].([]float32),
				tol{rel: 2e-5, floor: 1e-5})
		}
		compareF(t, "ctc_beta_grad grad "+label, gpu[21].([]float32), ho[21].([]float32),
			tol{floor: gtol * ctcGradScale(c)})
		cases += 2
	}
	t.Logf("ctc: %d kernel cases compared with the host mirrors", cases)
}

// TestCTCDeterminism runs the CTC kernels twice on the same inputs and
// requires bitwise-identical results.
func TestCTCDeterminism(t *testing.T) {
	d := openGPU(t)
	rng := rand.New(rand.NewPCG(15, 16))
	c := ctcCase{T: 200, N: 5, C: 12, blank: 3, lens: []int{40, 150, 0, 7, 99}, ins: []int{200, 190, 50, 3, 200},
		repeats: true, impossible: -1, hasLSE: true, mode: kernels.CTCGradSoftmax, reduction: kernels.ReductionMean,
		hasGrad: true}
	data := ctcInputs(rng, c)
	run := func() []float32 {
		b := ctcDevice(t, d, c, data)
		var all []float32
		for _, x := range []device.Buffer{b.alpha, b.loglik, b.grad, b.loss, b.loglikBeta} {
			all = append(all, download(t, d, x)...)
		}
		return all
	}
	a, b := run(), run()
	if !sameBits(a, b) {
		t.Error("two identical CTC runs gave different bits")
	}
}

// ctcBufs are the device buffers of one CTC run.
type ctcBufs struct {
	x, lse, targets, offsets, lengths, inputs, next, alpha, loglik device.Buffer
	grad, classWS, stateWS, loss, loglikBeta                       device.Buffer
}

// ctcDevice allocates a case's buffers on d and runs logsumexp_rows (with
// hasLSE), ctc_alpha and ctc_beta_grad once.
func ctcDevice(t testing.TB, d device.Device, c ctcCase, data ctcData) *ctcBufs {
	alloc := func(v any) device.Buffer {
		dt, n, _ := device.Elems(v)
		b, err := d.Alloc(dt, n)
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
		ctcMust(t, d.Launch("logsumexp_rows", rowGrid(c.T*c.N), b.x, int32(c.T*c.N), int32(c.C), 1.0, b.lse))
	}
	ctcAlpha(t, d, c, data, b)
	ctcBeta(t, d, c, data, b)
	ctcMust(t, d.Sync())
	return b
}

func ctcAlpha(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	ctcMust(t, d.Launch("ctc_alpha", rowGrid(c.N), b.x, b.lse, int32(c.T), int32(c.N), int32(c.C),
		int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets, b.offsets, b.lengths, b.inputs,
		int32(c.blank), int32(data.sMax), b.alpha, b.loglik, b.stateWS))
}

func ctcBeta(t testing.TB, d device.Device, c ctcCase, data ctcData, b *ctcBufs) {
	ctcMust(t, d.Launch("ctc_beta_grad", rowGrid(c.N), b.x, b.lse, int32(c.T), int32(c.N), int32(c.C),
		int32(data.strideT), int32(data.strideN), b2i(c.hasLSE), b.targets, b.offsets, b.lengths, b.inputs, b.next,
		int32(c.blank), int32(data.sMax), b.alpha, b.loglik, c.reduction, b2i(c.zeroInf), c.mode, b2i(c.hasGrad),
		b.grad, b.classWS, b.stateWS, b.loss, b.loglikBeta))
}

func ctcMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkCTC times ctc_alpha and ctc_beta_grad (lse folded in, with
// the gradient, mean reduction) for two common shapes, each launch
// followed by a Sync. ctc_beta_grad runs after a fresh ctc_alpha, which
// is not timed.
func BenchmarkCTC(b *testing.B) {
	ctcBench(b, openGPU(b))
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
