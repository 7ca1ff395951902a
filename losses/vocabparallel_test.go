package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/diff/fd"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/losses"
)

// vpRef is the full-vocabulary reference of the vocabulary-parallel
// cross-entropy, in float64, written from the definitions: x [n, v],
// capped logits x' = s·tanh(x/s), L = log Σ exp(x'), per-row loss
// (1−ε)·w[t]·(L − x'_t) + ε/v·Σ_k w[k]·(L − x'_k) + z·L², mean = CE part
// / Σ w[t] + z part / count. It returns the loss (1 or n values), the
// z-loss, the total weight and the gradient w.r.t. x by the chain rule.
func vpRef(x []float64, tg []int32, n, v int, w []float64, o losses.VocabParallelCrossEntropyOptions) (loss, zl []float64, tw float64, grad []float64) {
	ign := -100
	if o.IgnoreIndex != nil {
		ign = *o.IgnoreIndex
	}
	wk := func(k int) float64 {
		if w == nil {
			return 1
		}
		return w[k]
	}
	eps, s, z := o.LabelSmoothing, o.Softcap, o.ZLoss
	ce := make([]float64, n)
	zr := make([]float64, n)
	grad = make([]float64, n*v)
	// dCE[i,k] and dZ[i,k]: d row loss / d x'_k of the two parts.
	dCE, dZ := make([]float64, n*v), make([]float64, n*v)
	fac := make([]float64, n*v)
	cnt := 0.0
	for i := range n {
		xc := make([]float64, v)
		for k := range v {
			xc[k], fac[i*v+k] = x[i*v+k], 1
			if s > 0 {
				th := math.Tanh(x[i*v+k] / s)
				xc[k], fac[i*v+k] = s*th, 1-th*th
			}
		}
		t := int(tg[i])
		if t == ign {
			continue
		}
		cnt++
		tw += wk(t)
		m := math.Inf(-1)
		for _, c := range xc {
			m = math.Max(m, c)
		}
		se := 0.0
		for _, c := range xc {
			se += math.Exp(c - m)
		}
		L := m + math.Log(se)
		W := 0.0
		for k := range v {
			W += wk(k)
		}
		ce[i] = (1 - eps) * wk(t) * (L - xc[t])
		for k := range v {
			ce[i] += eps / float64(v) * wk(k) * (L - xc[k])
		}
		zr[i] = z * L * L
		for k := range v {
			p := math.Exp(xc[k] - L)
			d := p*((1-eps)*wk(t)+eps*W/float64(v)) - eps*wk(k)/float64(v)
			if k == t {
				d -= (1 - eps) * wk(t)
			}
			dCE[i*v+k] = d
			dZ[i*v+k] = 2 * z * L * p
		}
	}
	dce, dz := 1.0, 1.0
	switch o.Reduction {
	case losses.Mean:
		dce, dz = tw, cnt
		a, b := 0.0, 0.0
		for i := range n {
			a += ce[i]
			b += zr[i]
		}
		zv := 0.0
		if z != 0 {
			zv = b / dz
		}
		loss, zl = []float64{a/dce + zv}, []float64{zv}
	case losses.Sum:
		a, b := 0.0, 0.0
		for i := range n {
			a += ce[i]
			b += zr[i]
		}
		loss, zl = []float64{a + b}, []float64{b}
	default:
		loss, zl = make([]float64, n), zr
		for i := range n {
			loss[i] = ce[i] + zr[i]
		}
	}
	for i := range grad {
		grad[i] = (dCE[i]/dce + dZ[i]/dz) * fac[i]
	}
	return loss, zl, tw, grad
}

// vpShards splits v classes into s contiguous ranges of uneven sizes
// (each at least 1): the first ones one class larger.
func vpShards(v, s int) [][2]int {
	var r [][2]int
	at := 0
	for q := range s {
		n := v / s
		if q < v%s {
			n++
		}
		r = append(r, [2]int{at, at + n})
		at += n
	}
	return r
}

type vpOut[T float32 | float64] struct {
	loss, zl, tw []T
	grad         []T // gathered [n, v]
	errs         []error
}

// vpRunShards runs the loss on s simulated ranks (collective.NewLocal, one
// goroutine each) over the columns of x [n, v], and gathers the results.
// Every rank's loss, z-loss and total weight must be bitwise the same.
func vpRunShards[T float32 | float64](t *testing.T, x []T, tg []int32, n, v, s int, w []float64,
	o losses.VocabParallelCrossEntropyOptions, inPlace bool) vpOut[T] {
	t.Helper()
	comms := collective.NewLocal(s)
	ranges := vpShards(v, s)
	nl := 1
	if o.Reduction == losses.None {
		nl = n
	}
	type rankOut struct {
		loss, zl, tw, grad []T
		err                error
	}
	res := make([]rankOut, s)
	var wg sync.WaitGroup
	for q := range s {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo, hi := ranges[q][0], ranges[q][1]
			vs := hi - lo
			xs := make([]T, n*vs)
			for i := range n {
				copy(xs[i*vs:], x[i*v+lo:i*v+hi])
			}
			oq := o
			oq.VocabSize, oq.VocabStart = v, lo
			if w != nil {
				oq.Weight = w[lo:hi]
			}
			ro := rankOut{loss: make([]T, nl), zl: make([]T, nl), tw: make([]T, 1), grad: make([]T, n*vs)}
			g := losses.HostTensor(ro.grad, n, vs)
			if inPlace {
				ro.grad = xs
				g = losses.HostTensor(xs, n, vs)
			}
			var comm collective.Communicator = comms[q]
			if s == 1 {
				comm = nil
			}
			ro.err = losses.VocabParallelCrossEntropy(hostDev, comm, losses.VocabParallelCrossEntropyArgs{
				Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg),
				Loss: losses.HostTensor(ro.loss, nl), ZLoss: losses.HostTensor(ro.zl, nl),
				TotalWeight: losses.HostTensor(ro.tw, 1), GradInput: g}, oq)
			res[q] = ro
		}()
	}
	wg.Wait()
	out := vpOut[T]{grad: make([]T, n*v)}
	for q, r := range res {
		out.errs = append(out.errs, r.err)
		if r.err != nil {
			continue
		}
		if out.loss == nil {
			out.loss, out.zl, out.tw = r.loss, r.zl, r.tw
		} else {
			for i := range r.loss {
				require.Equal(t, math.Float64bits(float64(out.loss[i])), math.Float64bits(float64(r.loss[i])), "rank %d loss[%d] bits", q, i)
				require.Equal(t, math.Float64bits(float64(out.zl[i])), math.Float64bits(float64(r.zl[i])), "rank %d z_loss bits", q)
			}
			require.Equal(t, out.tw, r.tw, "rank %d total_weight", q)
		}
		lo, hi := ranges[q][0], ranges[q][1]
		for i := range n {
			copy(out.grad[i*v+lo:i*v+hi], r.grad[i*(hi-lo):(i+1)*(hi-lo)])
		}
	}
	return out
}

func vpInputs(seed uint64, n, v int, scale float64, ignoreEvery int) ([]float64, []int32) {
	r := rand.New(rand.NewPCG(seed, 5))
	x := make([]float64, n*v)
	for i := range x {
		x[i] = float64(float32(r.NormFloat64() * scale))
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
		if ignoreEvery > 0 && i%ignoreEvery == 1 {
			tg[i] = -100
		}
	}
	return x, tg
}

func vpNear(t *testing.T, what string, got []float64, want []float64, rel, abs float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range want {
		if math.IsNaN(want[i]) {
			require.True(t, math.IsNaN(got[i]), "%s[%d] = %v, want NaN", what, i, got[i])
			continue
		}
		require.InDelta(t, want[i], got[i], abs+rel*(math.Abs(want[i])+scale), "%s[%d]", what, i)
	}
}

func vpF64[T float32 | float64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func vpF32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

type vpCase struct {
	name    string
	n, v    int
	weight  bool
	opt     losses.VocabParallelCrossEntropyOptions
	inPlace bool
}

func vpCases() []vpCase {
	ig := func(i int) *int { return &i }
	return []vpCase{
		{"mean", 9, 37, false, losses.VocabParallelCrossEntropyOptions{}, false},
		{"sum-weight", 7, 23, true, losses.VocabParallelCrossEntropyOptions{Reduction: losses.Sum}, false},
		{"none-smooth", 6, 29, false, losses.VocabParallelCrossEntropyOptions{Reduction: losses.None, LabelSmoothing: 0.1}, true},
		{"mean-weight-smooth-ignore", 11, 41, true, losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.2, IgnoreIndex: ig(3)}, false},
		{"mean-softcap-z", 8, 31, false, losses.VocabParallelCrossEntropyOptions{Softcap: 2.5, ZLoss: 1e-2}, false},
		{"sum-all", 5, 19, true, losses.VocabParallelCrossEntropyOptions{Reduction: losses.Sum, Softcap: 3, ZLoss: 0.1, LabelSmoothing: 0.05}, true},
		{"none-z", 4, 17, true, losses.VocabParallelCrossEntropyOptions{Reduction: losses.None, ZLoss: 0.3}, false},
		{"mean-empty", 0, 13, false, losses.VocabParallelCrossEntropyOptions{}, false},
		// every target in classes 0-2: the later shards own none
		{"shards-without-targets", 10, 26, true, losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.1, ZLoss: 0.01}, false},
	}
}

// TestVocabParallelCrossEntropyShards: 1 to 4 simulated ranks (V not
// divisible by the rank count) against the full-vocabulary float64
// reference, in float64 and float32, every rank getting the same bits.
func TestVocabParallelCrossEntropyShards(t *testing.T) {
	for ci, c := range vpCases() {
		for s := 1; s <= 4; s++ {
			t.Run(fmt.Sprintf("%s/ranks=%d", c.name, s), func(t *testing.T) {
				x, tg := vpInputs(uint64(ci), c.n, c.v, 3, 4)
				if c.name == "shards-without-targets" {
					for i := range tg {
						if tg[i] >= 0 {
							tg[i] %= 3
						}
					}
				}
				if c.opt.IgnoreIndex != nil {
					for i := range tg {
						if tg[i] == -100 {
							tg[i] = int32(*c.opt.IgnoreIndex)
						}
					}
				}
				var w []float64
				if c.weight {
					r := rand.New(rand.NewPCG(uint64(ci), 9))
					w = make([]float64, c.v)
					for i := range w {
						w[i] = float64(float32(0.2 + 2*r.Float64()))
					}
				}
				loss, zl, tw, grad := vpRef(x, tg, c.n, c.v, w, c.opt)
				o64 := vpRunShards(t, x, tg, c.n, c.v, s, w, c.opt, c.inPlace)
				for q, err := range o64.errs {
					require.NoError(t, err, "rank %d", q)
				}
				vpNear(t, "loss", vpF64(o64.loss), loss, 1e-12, 1e-13)
				vpNear(t, "z_loss", vpF64(o64.zl), zl, 1e-12, 1e-13)
				vpNear(t, "grad", vpF64(o64.grad), grad, 1e-12, 1e-14)
				if c.n > 0 || c.opt.Reduction != losses.Mean {
					require.InDelta(t, tw, o64.tw[0], 1e-12*tw)
				}
				o32 := vpRunShards(t, vpF32(x), tg, c.n, c.v, s, w, c.opt, c.inPlace)
				for q, err := range o32.errs {
					require.NoError(t, err, "rank %d", q)
				}
				vpNear(t, "loss32", vpF64(o32.loss), loss, 1e-5, 1e-6)
				vpNear(t, "z_loss32", vpF64(o32.zl), zl, 1e-5, 1e-6)
				vpNear(t, "grad32", vpF64(o32.grad), grad, 1e-5, 1e-7)
			})
		}
	}
}

// TestVocabParallelCrossEntropyEmptyMean: a mean over no rows (or only
// ignored rows) is NaN, as PyTorch (0/0), with a zero gradient.
func TestVocabParallelCrossEntropyEmptyMean(t *testing.T) {
	x, tg := vpInputs(3, 3, 10, 1, 0)
	for i := range tg {
		tg[i] = -100
	}
	o := vpRunShards(t, x, tg, 3, 10, 2, nil, losses.VocabParallelCrossEntropyOptions{}, false)
	require.NoError(t, errors.Join(o.errs...))
	require.True(t, math.IsNaN(o.loss[0]))
	require.Zero(t, o.tw[0])
	for _, g := range o.grad {
		require.Zero(t, g)
	}
}

// TestVocabParallelCrossEntropyVsCrossEntropy: shards against
// losses.CrossEntropy on the full logits, for the options it has.
func TestVocabParallelCrossEntropyVsCrossEntropy(t *testing.T) {
	const n, v = 13, 53
	x, tg := vpInputs(11, n, v, 4, 5)
	tg[2] = 52 // the last class, in the last shard
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float64, v)
	for i := range w {
		w[i] = float64(float32(0.1 + r.Float64()))
	}
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		for _, eps := range []float64{0, 0.15} {
			for _, weighted := range []bool{false, true} {
				var ww []float64
				if weighted {
					ww = w
				}
				nl := 1
				if red == losses.None {
					nl = n
				}
				x32 := vpF32(x)
				loss, grad := make([]float32, nl), make([]float32, n*v)
				require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor(x32, n, v),
					Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss, nl), GradInput: losses.HostTensor(grad, n, v)},
					losses.CrossEntropyOptions{Reduction: red, Weight: ww, LabelSmoothing: eps}))
				for s := 1; s <= 4; s++ {
					o := vpRunShards(t, x32, tg, n, v, s, ww,
						losses.VocabParallelCrossEntropyOptions{Reduction: red, LabelSmoothing: eps}, false)
					require.NoError(t, errors.Join(o.errs...))
					what := fmt.Sprintf("red=%v eps=%v w=%v ranks=%d", red, eps, weighted, s)
					vpNear(t, what+" loss", vpF64(o.loss), vpF64(loss), 2e-6, 1e-7)
					vpNear(t, what+" grad", vpF64(o.grad), vpF64(grad), 2e-6, 1e-8)
				}
			}
		}
	}
}

// TestVocabParallelCrossEntropyFiniteDifferences: the gathered gradient of
// 3 ranks against central differences of the loss, with every option on.
func TestVocabParallelCrossEntropyFiniteDifferences(t *testing.T) {
	const n, v = 4, 11
	x, tg := vpInputs(21, n, v, 2, 3)
	r := rand.New(rand.NewPCG(4, 4))
	w := make([]float64, v)
	for i := range w {
		w[i] = 0.3 + r.Float64()
	}
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
		o := losses.VocabParallelCrossEntropyOptions{Reduction: red, LabelSmoothing: 0.1, Softcap: 2, ZLoss: 0.05}
		got := vpRunShards(t, x, tg, n, v, 3, w, o, false)
		require.NoError(t, errors.Join(got.errs...))
		f := func(xx []float64) float64 {
			out := vpRunShards(t, xx, tg, n, v, 3, w, o, false)
			require.NoError(t, errors.Join(out.errs...))
			return out.loss[0]
		}
		want := fd.Gradient(nil, f, x, &fd.Settings{Formula: fd.Central, Step: 1e-6})
		vpNear(t, fmt.Sprintf("fd grad (%v)", red), got.grad, want, 1e-6, 1e-8)
	}
}

// TestVocabParallelCrossEntropyBadInput: a refusal is an *ArgError on
// every rank before anything is written.
func TestVocabParallelCrossEntropyBadInput(t *testing.T) {
	const n, v = 5, 12
	x, tg := vpInputs(8, n, v, 1, 0)
	var ae *losses.ArgError
	// One rank with a bad value: every rank fails, none hangs.
	run := func(s int, mod func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int)) []error {
		comms := collective.NewLocal(s)
		ranges := vpShards(v, s)
		errs := make([]error, s)
		sentinel := float64(-7)
		var wg sync.WaitGroup
		for q := range s {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lo, hi := ranges[q][0], ranges[q][1]
				o := losses.VocabParallelCrossEntropyOptions{VocabSize: v, VocabStart: lo}
				vs := hi - lo
				mod(q, &o, &vs)
				xs := make([]float64, n*vs)
				loss, grad := []float64{sentinel}, make([]float64, n*vs)
				for i := range grad {
					grad[i] = sentinel
				}
				var comm collective.Communicator = comms[q]
				errs[q] = losses.VocabParallelCrossEntropy(hostDev, comm, losses.VocabParallelCrossEntropyArgs{
					Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss),
					GradInput: losses.HostTensor(grad, n, vs)}, o)
				require.Equal(t, sentinel, loss[0], "rank %d wrote its loss", q)
				for _, g := range grad {
					require.Equal(t, sentinel, g, "rank %d wrote its gradient", q)
				}
			}()
		}
		wg.Wait()
		return errs
	}
	cases := []struct {
		name, arg string
		mod       func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int)
	}{
		{"range past V", "vocab_start", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			if q == 2 {
				o.VocabStart = v - 1
			}
		}},
		{"negative start", "vocab_start", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			if q == 0 {
				o.VocabStart = -1
			}
		}},
		{"overlap", "vocab_start", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			if q == 1 {
				o.VocabStart--
			}
		}},
		{"V disagrees", "comm", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			if q == 1 {
				o.VocabSize = v + 1
			}
		}},
		{"softcap < 0", "softcap", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			o.Softcap = -1
		}},
		{"softcap disagrees", "comm", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			if q == 3 {
				o.Softcap = 5
			}
		}},
		{"z_loss < 0", "z_loss", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) { o.ZLoss = -1 }},
		{"smoothing > 1", "label_smoothing", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) { o.LabelSmoothing = 2 }},
		{"weight length", "weight", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			o.Weight = make([]float64, *vs+1)
		}},
		{"V for 3 of 4 ranks", "vocab_start", func(q int, o *losses.VocabParallelCrossEntropyOptions, vs *int) {
			// the ranks split 12 classes in 3: a fourth range is left over
			*vs = 4
			o.VocabStart = min(4*q, 8)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := run(4, c.mod)
			sawArg := false
			for q, err := range errs {
				require.Error(t, err, "rank %d", q)
				require.ErrorAs(t, err, &ae, "rank %d: %v", q, err)
				require.ErrorIs(t, err, losses.ErrInvalidArgument)
				if ae.Arg == c.arg {
					sawArg = true
				}
			}
			require.True(t, sawArg, "no rank named %s: %v", c.arg, errs)
		})
	}
	t.Run("target outside [0, V)", func(t *testing.T) {
		bad := append([]int32(nil), tg...)
		bad[1] = v
		for _, s := range []int{1, 3} {
			o := vpRunShards(t, x, bad, n, v, s, nil, losses.VocabParallelCrossEntropyOptions{}, false)
			for _, err := range o.errs {
				require.ErrorAs(t, err, &ae)
				require.Equal(t, "target", ae.Arg)
			}
		}
	})
	t.Run("rows disagree", func(t *testing.T) {
		comms := collective.NewLocal(2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for q := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rows := n - q
				errs[q] = losses.VocabParallelCrossEntropy(hostDev, comms[q], losses.VocabParallelCrossEntropyArgs{
					Input: losses.HostTensor(make([]float32, rows*6), rows, 6), Target: losses.HostTensor(tg[:rows]),
					Loss: losses.HostTensor(make([]float32, 1))}, losses.VocabParallelCrossEntropyOptions{VocabSize: 12, VocabStart: 6 * q})
			}()
		}
		wg.Wait()
		for _, err := range errs {
			var ce *collective.Error
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "comm", ae.Arg)
			require.ErrorAs(t, err, &ce)
		}
	})
	t.Run("nil device", func(t *testing.T) {
		err := losses.VocabParallelCrossEntropy(nil, nil, losses.VocabParallelCrossEntropyArgs{}, losses.VocabParallelCrossEntropyOptions{})
		require.ErrorAs(t, err, &ae)
	})
}

// TestVocabParallelCrossEntropyDeterministic: the same call twice gives the
// same bits.
func TestVocabParallelCrossEntropyDeterministic(t *testing.T) {
	x, tg := vpInputs(2, 40, 300, 3, 7)
	o := losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.1, ZLoss: 1e-3, Softcap: 10}
	a := vpRunShards(t, vpF32(x), tg, 40, 300, 4, nil, o, false)
	b := vpRunShards(t, vpF32(x), tg, 40, 300, 4, nil, o, false)
	require.Equal(t, a.loss, b.loss)
	require.Equal(t, a.grad, b.grad)
}
