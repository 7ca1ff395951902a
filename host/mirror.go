package host

import (
	"runtime"
	"sync"

	"github.com/lossengine/lossengine/device"
)

// Float is the element type of float buffers on the host.
type Float interface{ ~float32 | ~float64 }

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
