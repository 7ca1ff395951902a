package losstest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, vocabParallelCases) }

const vpLoss = "vocab_parallel_cross_entropy"

// vpData returns logits [n, v] of the given scale and targets, every fifth
// row (from row 2) ignore_index -100.
func vpData(seed uint64, n, v int, scale float64) ([]float64, []int32) {
	r := rand.New(rand.NewPCG(seed, 31))
	x := logits(r, n*v, scale)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
		if i%5 == 2 {
			tg[i] = -100
		}
	}
	return x, tg
}

// vpShardedRun runs the loss on ranks simulated ranks of one
// collective.NewLocal group, all on dev (one goroutine each, the
// vocabulary split into ranges of uneven sizes), and gathers rank 0's loss
// and every rank's gradient columns into [n, v].
func vpShardedRun(x []float64, tg []int32, n, v, ranks int, w []float64, o losses.VocabParallelCrossEntropyOptions) func(device.Device, bool) (Outputs, error) {
	return func(under device.Device, f64 bool) (Outputs, error) {
		dev := vpSerialOf(under)
		comms := collective.NewLocal(ranks)
		nl := 1
		if o.Reduction == losses.None {
			nl = n
		}
		losses64 := make([][]float64, ranks)
		grads := make([][]float64, ranks)
		errs := make([]error, ranks)
		bounds := make([]int, ranks+1)
		for q := range ranks {
			bounds[q+1] = bounds[q] + v/ranks
			if q < v%ranks {
				bounds[q+1]++
			}
		}
		var wg sync.WaitGroup
		for q := range ranks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lo, hi := bounds[q], bounds[q+1]
				vs := hi - lo
				xs := make([]float64, n*vs)
				for i := range n {
					copy(xs[i*vs:], x[i*v+lo:i*v+hi])
				}
				oq := o
				oq.VocabSize, oq.VocabStart = v, lo
				if w != nil {
					oq.Weight = w[lo:hi]
				}
				if f64 {
					loss, grad := make([]float64, nl), make([]float64, n*vs)
					errs[q] = losses.VocabParallelCrossEntropy(dev, comms[q], losses.VocabParallelCrossEntropyArgs{
						Input: losses.HostTensor(xs, n, vs), Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss, nl),
						GradInput: losses.HostTensor(grad, n, vs)}, oq)
					losses64[q], grads[q] = loss, grad
					return
				}
				loss, grad := make([]float32, nl), make([]float32, n*vs)
				errs[q] = losses.VocabParallelCrossEntropy(dev, comms[q], losses.VocabParallelCrossEntropyArgs{
					Input: losses.HostTensor(to32(xs), n, vs), Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss, nl),
					GradInput: losses.HostTensor(grad, n, vs)}, oq)
				losses64[q], grads[q] = to64(loss), to64(grad)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return Outputs{}, err
		}
		g := make([]float64, n*v)
		for q := range ranks {
			lo, hi := bounds[q], bounds[q+1]
			for i := range n {
				copy(g[i*v+lo:i*v+hi], grads[q][i*(hi-lo):(i+1)*(hi-lo)])
			}
		}
		return Outputs{Loss: losses64[0], Grad: g}, nil
	}
}

func vocabParallelCases() []Case {
	var cs []Case
	ig := 7
	opts := []struct {
		what string
		o    losses.VocabParallelCrossEntropyOptions
		w    bool
	}{
		{"mean", losses.VocabParallelCrossEntropyOptions{}, false},
		{"sum-weight-smooth", losses.VocabParallelCrossEntropyOptions{Reduction: losses.Sum, LabelSmoothing: 0.1}, true},
		{"none-softcap-z", losses.VocabParallelCrossEntropyOptions{Reduction: losses.None, Softcap: 4, ZLoss: 1e-2}, false},
		{"mean-all", losses.VocabParallelCrossEntropyOptions{LabelSmoothing: 0.05, Softcap: 3, ZLoss: 1e-3, IgnoreIndex: &ig}, true},
	}
	for _, sh := range [][2]int{{9, 37}, {33, 1000}, {1, 5}, {0, 6}} {
		n, v := sh[0], sh[1]
		for oi, o := range opts {
			x, tg := vpData(uint64(n*1000+v+oi), n, v, 3)
			if o.o.IgnoreIndex != nil {
				for i := range tg {
					if tg[i] == -100 {
						tg[i] = int32(*o.o.IgnoreIndex) // also a class: rows of class 7 are ignored
					}
				}
			}
			var w []float64
			if o.w {
				w = logits(rand.New(rand.NewPCG(uint64(v), 3)), v, 0.3)
				for i := range w {
					w[i] += 1
				}
				w = roundTo32(w)
			}
			oo := o.o
			oo.Weight = w
			cs = append(cs, declCase(fmt.Sprintf("%s/%s/N=%d/V=%d", vpLoss, o.what, n, v), vpLoss, 1e-5,
				inputs{"input": fl(x, n, v), "target": ints(tg, n)}, oo))
			if n > 0 {
				for _, ranks := range []int{2, 3} {
					cs = append(cs, Case{Name: fmt.Sprintf("%s/%s/N=%d/V=%d/ranks=%d", vpLoss, o.what, n, v, ranks), Loss: vpLoss,
						Tol: 1e-5, Run: vpShardedRun(x, tg, n, v, ranks, w, o.o)})
				}
			}
		}
	}
	return cs
}

// vpSerial is a device whose every call holds one lock: the ranks of a
// sharded case call it from several goroutines, and a device of the tests
// (the launch recorder) is not safe for concurrent use. One per underlying
// device (vpSerialOf), so that the scratch pool keeps one set per device.
type vpSerial struct {
	device.Device
	mu sync.Mutex
}

type vpSerialBuf struct {
	device.Buffer
	dev *vpSerial
}

func (b *vpSerialBuf) Device() device.Device { return b.dev }

var vpSerials sync.Map // device.Device → *vpSerial

func vpSerialOf(d device.Device) *vpSerial {
	s, _ := vpSerials.LoadOrStore(d, &vpSerial{Device: d})
	return s.(*vpSerial)
}

func vpUnwrap(b device.Buffer) device.Buffer {
	if sb, ok := b.(*vpSerialBuf); ok {
		return sb.Buffer
	}
	return b
}

func (d *vpSerial) Alloc(dt device.DType, n int) (device.Buffer, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, err := d.Device.Alloc(dt, n)
	if err != nil {
		return nil, err
	}
	return &vpSerialBuf{b, d}, nil
}

func (d *vpSerial) Write(dst device.Buffer, src any) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Write(vpUnwrap(dst), src)
}

func (d *vpSerial) Read(dst any, src device.Buffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Read(dst, vpUnwrap(src))
}

func (d *vpSerial) Copy(dst, src device.Buffer, n int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Copy(vpUnwrap(dst), vpUnwrap(src), n)
}

func (d *vpSerial) Launch(kernel string, grid device.Grid, args ...any) error {
	in := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.(device.Buffer); ok {
			a = vpUnwrap(b)
		}
		in[i] = a
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Launch(kernel, grid, in...)
}

func (d *vpSerial) Check(b device.Buffer) error {
	sb, ok := b.(*vpSerialBuf)
	if !ok || sb.dev != d {
		return device.ErrWrongDevice
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Check(sb.Buffer)
}

func (d *vpSerial) Sync() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.Device.Sync()
}
