package host

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/lossengine/lossengine/device"
)

// Float is the element type of float buffers on the host.
type Float = device.Float

type argv struct {
	args []any
	grid device.Grid
}

func fbuf[T Float](a argv, i int) []T {
	var z T
	b := a.args[i].(*Buffer)
	switch any(z).(type) {
	case float32:
		return any(b.f32).([]T)
	default:
		return any(b.f64).([]T)
	}
}
func (a argv) ints(i int) []int32 { return a.args[i].(*Buffer).i32 }
func (a argv) int(i int) int      { return int(a.args[i].(int32)) }
func (a argv) real(i int) float64 { return a.args[i].(float64) }

type mirror struct{ f32, f64 func(argv) error }

var mirrors = map[string]mirror{}

func register(name string, f32, f64 func(argv) error) {
	mirrors[name] = mirror{f32, f64}
}

// parallelFor splits [0, n) into contiguous chunks of at least grain items,
// one per core, and runs fn on them concurrently.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	p := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	if q := (n + grain - 1) / grain; q < p {
		p = q
	}
	if p <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + p - 1) / p
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// parTask is work over items [0, n) that runPar hands out one item at a
// time: item(i) must not depend on which goroutine runs it or when, so the
// results are the same for every schedule.
type parTask interface{ item(i int) }

// par is the shared state of one runPar call. It lives inside a pooled job
// struct, so a call allocates nothing.
type par struct {
	t    parTask
	n    int64
	next atomic.Int64
	wg   sync.WaitGroup
}

func (p *par) work() {
	for {
		i := p.next.Add(1) - 1
		if i >= p.n {
			break
		}
		p.t.item(int(i))
	}
	p.wg.Done()
}

var (
	parMu      sync.Mutex
	parWorkers int
	parCh      = make(chan *par, 256)
)

// ensureWorkers starts persistent worker goroutines up to k.
func ensureWorkers(k int) {
	parMu.Lock()
	defer parMu.Unlock()
	for ; parWorkers < k; parWorkers++ {
		go func() {
			for p := range parCh {
				p.work()
			}
		}()
	}
}

// runPar runs t.item(i) for every i in [0, n) on up to GOMAXPROCS
// goroutines (the caller's included) that take items in turn from a
// shared counter, and returns when all are done. It allocates nothing once
// the workers exist. p must not be in use by another runPar call, and
// items must not call runPar (a worker waiting for workers could
// deadlock). A helper that is busy elsewhere joins late and finds the
// items taken; the caller waits for it all the same, so p is never
// touched after runPar returns.
func runPar(p *par, t parTask, n int) {
	if n <= 0 {
		return
	}
	w := min(runtime.GOMAXPROCS(0), n)
	if w > 1 {
		ensureWorkers(w - 1)
	}
	p.t, p.n = t, int64(n)
	p.next.Store(0)
	p.wg.Add(w)
	for k := 1; k < w; k++ {
		parCh <- p
	}
	p.work()
	p.wg.Wait()
	p.t = nil
}

// jobPool recycles the job structs and scratch rows of the
// allocation-free mirrors: a free list under a mutex (unlike sync.Pool,
// the garbage collector never empties it, so a steady state allocates
// nothing). It keeps at most 64 items.
type jobPool[J any] struct {
	mu    sync.Mutex
	items []*J
}

func (jp *jobPool[J]) get() *J {
	jp.mu.Lock()
	defer jp.mu.Unlock()
	if n := len(jp.items); n > 0 {
		j := jp.items[n-1]
		jp.items = jp.items[:n-1]
		return j
	}
	return new(J)
}

func (jp *jobPool[J]) put(j *J) {
	jp.mu.Lock()
	defer jp.mu.Unlock()
	if len(jp.items) < 64 {
		jp.items = append(jp.items, j)
	}
}
