//go:build mpi

package mpi_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/collective/mpi"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// Run under mpirun (scripts/test.sh):
//
//	go test -tags mpi -c -o /tmp/mpi.test ./collective/mpi
//	mpirun -np 4 --allow-run-as-root --oversubscribe /tmp/mpi.test -test.run VocabParallel
//
// Without mpirun the tests run as a group of one rank.
func TestMain(m *testing.M) {
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := mpi.Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func world(t testing.TB) collective.Communicator {
	c, err := mpi.World(host.Default())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// agreeBits fails unless v has the same bits on every rank: the MAX
// all-reduce of v and of −v give back v and −v.
func agreeBits(t *testing.T, c collective.Communicator, what string, v []float64) {
	t.Helper()
	buf := make([]float64, 2*len(v))
	for i, x := range v {
		buf[i], buf[len(v)+i] = x, -x
	}
	hb, _ := host.Wrap(buf)
	if err := c.AllReduce(hb, collective.Max); err != nil {
		t.Fatal(err)
	}
	for i, x := range v {
		if math.Float64bits(buf[i]) != math.Float64bits(x) || math.Float64bits(-buf[len(v)+i]) != math.Float64bits(x) {
			t.Fatalf("rank %d: %s[%d] = %v differs between ranks (max %v, min %v)", c.Rank(), what, i, x, buf[i], -buf[len(v)+i])
		}
	}
}

// TestAllReduce: sums and maxima in rank order, the same on every rank.
func TestAllReduce(t *testing.T) {
	c := world(t)
	r, s := c.Rank(), c.Size()
	v := []float32{float32(r + 1), float32(-r), 1e-8 * float32(r), float32(r % 2)}
	b, _ := host.Wrap(v)
	if err := c.AllReduce(b, collective.Sum); err != nil {
		t.Fatal(err)
	}
	want := float32(s * (s + 1) / 2)
	if v[0] != want {
		t.Fatalf("sum %v, want %v", v[0], want)
	}
	w := []float64{float64(r), -float64(r)}
	b64, _ := host.Wrap(w)
	if err := c.AllReduce(b64, collective.Max); err != nil {
		t.Fatal(err)
	}
	if w[0] != float64(s-1) || w[1] != 0 {
		t.Fatalf("max %v, want [%d 0]", w, s-1)
	}
	agreeBits(t, c, "sum", []float64{float64(v[0]), float64(v[1]), float64(v[2]), float64(v[3])})
}

// TestAllReduceMismatch: a length that differs on one rank is an error on
// every rank (with one rank there is nothing to disagree with).
func TestAllReduceMismatch(t *testing.T) {
	c := world(t)
	if c.Size() < 2 {
		t.Skip("needs at least 2 ranks (mpirun)")
	}
	v := make([]float64, 3+c.Rank()%2)
	b, _ := host.Wrap(v)
	err := c.AllReduce(b, collective.Sum)
	if _, ok := err.(*collective.Error); !ok {
		t.Fatalf("rank %d: got %v, want a *collective.Error", c.Rank(), err)
	}
}

// vpSetup is the same seeded problem on every rank: logits [n, v] and
// targets with ignored rows, this rank's contiguous range of uneven size.
func vpSetup(c collective.Communicator, n, v int) (x []float64, tg []int32, lo, hi int) {
	rng := rand.New(rand.NewPCG(42, 7))
	x = make([]float64, n*v)
	for i := range x {
		x[i] = float64(float32(rng.NormFloat64() * 3))
	}
	tg = make([]int32, n)
	for i := range tg {
		tg[i] = int32(rng.IntN(v))
		if i%6 == 4 {
			tg[i] = -100
		}
	}
	s, r := c.Size(), c.Rank()
	for q := range r + 1 {
		lo = hi
		hi = lo + v/s
		if q < v%s {
			hi++
		}
	}
	return x, tg, lo, hi
}

// TestVocabParallelCrossEntropy: each rank computes its shard; the loss
// (bitwise the same on every rank) and each rank's gradient columns match
// the single-process call on the full logits.
func TestVocabParallelCrossEntropy(t *testing.T) {
	c := world(t)
	const n, v = 37, 1001
	x, tg, lo, hi := vpSetup(c, n, v)
	vs := hi - lo
	xs := make([]float32, n*vs)
	for i := range n {
		for k := range vs {
			xs[i*vs+k] = float32(x[i*v+lo+k])
		}
	}
	full := make([]float32, n*v)
	for i := range full {
		full[i] = float32(x[i])
	}
	w := make([]float64, v)
	for k := range w {
		w[k] = 0.5 + float64(k%7)/7
	}
	for _, o := range []losses.VocabParallelCrossEntropyOptions{
		{},
		{Reduction: losses.Sum, LabelSmoothing: 0.1, Softcap: 5, ZLoss: 1e-3},
		{Weight: w, LabelSmoothing: 0.05, ZLoss: 1e-2},
	} {
		wantLoss, wantGrad := make([]float32, 1), make([]float32, n*v)
		fo := o
		if err := losses.VocabParallelCrossEntropy(host.Default(), nil, losses.VocabParallelCrossEntropyArgs{
			Input: losses.HostTensor(full, n, v), Target: losses.HostTensor(tg), Loss: losses.HostTensor(wantLoss),
			GradInput: losses.HostTensor(wantGrad, n, v)}, fo); err != nil {
			t.Fatal(err)
		}
		so := o
		so.VocabSize, so.VocabStart = v, lo
		if o.Weight != nil {
			so.Weight = o.Weight[lo:hi]
		}
		loss, zl, tw, grad := make([]float32, 1), make([]float32, 1), make([]float32, 1), make([]float32, n*vs)
		if err := losses.VocabParallelCrossEntropy(host.Default(), c, losses.VocabParallelCrossEntropyArgs{
			Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss),
			ZLoss: losses.HostTensor(zl), TotalWeight: losses.HostTensor(tw),
			GradInput: losses.HostTensor(grad, n, vs)}, so); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(loss[0] - wantLoss[0])); d > 2e-6*math.Abs(float64(wantLoss[0])) {
			t.Errorf("rank %d %+v: loss %v, the full call %v", c.Rank(), o, loss[0], wantLoss[0])
		}
		for i := range n {
			for k := range vs {
				g, want := grad[i*vs+k], wantGrad[i*v+lo+k]
				if d := math.Abs(float64(g - want)); d > 2e-6*math.Abs(float64(want))+1e-9 {
					t.Fatalf("rank %d: grad[%d, %d] = %v, the full call %v", c.Rank(), i, lo+k, g, want)
				}
			}
		}
		agreeBits(t, c, "loss, z_loss, total_weight", []float64{float64(loss[0]), float64(zl[0]), float64(tw[0])})
	}
}

// TestVocabParallelMismatch: one rank with another vocabulary size: every
// rank gets an *ArgError, none hangs.
func TestVocabParallelMismatch(t *testing.T) {
	c := world(t)
	if c.Size() < 2 {
		t.Skip("needs at least 2 ranks (mpirun)")
	}
	const n, v = 5, 40
	_, tg, lo, hi := vpSetup(c, n, v)
	o := losses.VocabParallelCrossEntropyOptions{VocabSize: v, VocabStart: lo}
	if c.Rank() == 1 {
		o.VocabSize = v + 1
	}
	err := losses.VocabParallelCrossEntropy(host.Default(), c, losses.VocabParallelCrossEntropyArgs{
		Input: losses.HostTensor(make([]float32, n*(hi-lo)), n, hi-lo), Target: losses.HostTensor(tg),
		Loss: losses.HostTensor(make([]float32, 1))}, o)
	if _, ok := err.(*losses.ArgError); !ok {
		t.Fatalf("rank %d: got %v, want an *ArgError", c.Rank(), err)
	}
}

// TestVocabParallelTiming logs the time of one rank's call (forward and
// backward, float32, N = 512 rows of a 32000-class vocabulary split across
// the ranks) over a fixed count of calls, the same on every rank; a log,
// not an assertion.
func TestVocabParallelTiming(t *testing.T) {
	c := world(t)
	const n, v, calls = 512, 32000, 10
	rng := rand.New(rand.NewPCG(1, 1))
	s, r := c.Size(), c.Rank()
	lo := r * v / s
	hi := (r + 1) * v / s
	vs := hi - lo
	xs := make([]float32, n*vs)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32((i * 7919) % v)
	}
	loss, grad := make([]float32, 1), make([]float32, n*vs)
	args := losses.VocabParallelCrossEntropyArgs{Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg),
		Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, vs)}
	o := losses.VocabParallelCrossEntropyOptions{VocabSize: v, VocabStart: lo}
	var best time.Duration
	for i := range calls {
		start := time.Now()
		if err := losses.VocabParallelCrossEntropy(host.Default(), c, args, o); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); i == 0 || d < best {
			best = d
		}
	}
	t.Logf("rank %d of %d: N=%d V=%d (this rank %d classes): best of %d calls %v", r, s, n, v, vs, calls, best)
}

// TestVocabParallelLinearCrossEntropy: the fused form with the output
// embedding's rows split across the ranks: the loss and grad_hidden
// (bitwise the same on every rank) and each rank's weight-gradient rows
// match LinearCrossEntropy with the whole weight in one process.
func TestVocabParallelLinearCrossEntropy(t *testing.T) {
	c := world(t)
	const n, h, v = 23, 16, 301
	rng := rand.New(rand.NewPCG(43, 8))
	gauss := func(k int, s float64) []float64 {
		x := make([]float64, k)
		for i := range x {
			x[i] = rng.NormFloat64() * s
		}
		return x
	}
	hid, w := gauss(n*h, 1), gauss(v*h, 0.3)
	_, tg, lo, hi := vpSetup(c, n, v)
	vs := hi - lo
	o := losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.1, Softcap: 5, ZLoss: 1e-3}
	wantLoss, wantGH, wantGW := make([]float64, 1), make([]float64, n*h), make([]float64, v*h)
	if err := losses.LinearCrossEntropy(host.Default(), losses.LinearCrossEntropyArgs{
		Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w, v, h), Target: losses.HostTensor(tg),
		Loss: losses.HostTensor(wantLoss), GradHidden: losses.HostTensor(wantGH, n, h), GradWeight: losses.HostTensor(wantGW, v, h)},
		losses.LinearCrossEntropyOptions{LabelSmoothing: o.LabelSmoothing, Softcap: o.Softcap, ZLoss: o.ZLoss}); err != nil {
		t.Fatal(err)
	}
	so := o
	so.VocabSize, so.VocabStart = v, lo
	loss, gh, gw := make([]float64, 1), make([]float64, n*h), make([]float64, vs*h)
	if err := losses.VocabParallelLinearCrossEntropy(host.Default(), c, losses.VocabParallelLinearCrossEntropyArgs{
		Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w[lo*h:hi*h], vs, h), Target: losses.HostTensor(tg),
		Loss: losses.HostTensor(loss), GradHidden: losses.HostTensor(gh, n, h), GradWeight: losses.HostTensor(gw, vs, h)},
		losses.VocabParallelLinearCrossEntropyOptions{VocabParallelCrossEntropyOptions: so, ChunkRows: 5}); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want []float64) {
		for i := range want {
			if d := math.Abs(got[i] - want[i]); d > 1e-11*(1+math.Abs(want[i])) {
				t.Fatalf("rank %d: %s[%d] = %v, the one-process call %v", c.Rank(), what, i, got[i], want[i])
			}
		}
	}
	near("loss", loss, wantLoss)
	near("grad_hidden", gh, wantGH)
	near("grad_weight", gw, wantGW[lo*h:hi*h])
	agreeBits(t, c, "loss and grad_hidden", append(loss, gh...))
}
