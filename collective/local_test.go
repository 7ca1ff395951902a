package collective_test

import (
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// runRanks calls f on every rank of a new local group of n, concurrently,
// and returns each rank's error.
func runRanks(n int, f func(c collective.Communicator) error) []error {
	cs := collective.NewLocal(n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	return errs
}

// TestLocalSumMax: sums in rank order (rounded once for float32) and
// maxima, the same bits on every rank, over several rounds.
func TestLocalSumMax(t *testing.T) {
	const n = 4
	var mu sync.Mutex
	got := map[int][]float32{}
	errs := runRanks(n, func(c collective.Communicator) error {
		r := c.Rank()
		if c.Size() != n {
			t.Errorf("size %d", c.Size())
		}
		for round := range 3 {
			// Sums of large and tiny terms and of opposite signs; every
			// rank must get the same bits (checked below).
			v := []float32{1, float32(math.Ldexp(1, -24)), float32(r), float32(-r), float32(round)}
			b, _ := host.Wrap(v)
			if err := c.AllReduce(b, collective.Sum); err != nil {
				return err
			}
			want := []float32{n, float32(n * math.Ldexp(1, -24)), 6, -6, float32(n * round)}
			for i := range v {
				if v[i] != want[i] {
					t.Errorf("rank %d round %d: sum[%d] = %v, want %v", r, round, i, v[i], want[i])
				}
			}
			m := []float64{float64(r), -float64(r), math.Inf(-1)}
			if r == 2 {
				m[2] = math.NaN()
			}
			bm, _ := host.Wrap(m)
			if err := c.AllReduce(bm, collective.Max); err != nil {
				return err
			}
			if m[0] != n-1 || m[1] != 0 || !math.IsNaN(m[2]) {
				t.Errorf("rank %d: max %v", r, m)
			}
			mu.Lock()
			got[r] = append(got[r], v...)
			mu.Unlock()
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for r := 1; r < n; r++ {
		for i := range got[0] {
			if math.Float32bits(got[r][i]) != math.Float32bits(got[0][i]) {
				t.Fatalf("rank %d differs from rank 0 at %d", r, i)
			}
		}
	}
}

// TestLocalMismatch: a length, dtype or op that differs on one rank, or a
// bad buffer, is an *Error on every rank, and nothing hangs.
func TestLocalMismatch(t *testing.T) {
	cases := map[string]func(c collective.Communicator) error{
		"length": func(c collective.Communicator) error {
			b, _ := host.Wrap(make([]float32, 3+c.Rank()%2))
			return c.AllReduce(b, collective.Sum)
		},
		"dtype": func(c collective.Communicator) error {
			if c.Rank() == 1 {
				b, _ := host.Wrap(make([]float64, 3))
				return c.AllReduce(b, collective.Sum)
			}
			b, _ := host.Wrap(make([]float32, 3))
			return c.AllReduce(b, collective.Sum)
		},
		"op": func(c collective.Communicator) error {
			b, _ := host.Wrap(make([]float32, 3))
			return c.AllReduce(b, collective.Op(c.Rank()%2))
		},
		"int32 buffer on one rank": func(c collective.Communicator) error {
			if c.Rank() == 2 {
				b, _ := host.Wrap(make([]int32, 3))
				return c.AllReduce(b, collective.Sum)
			}
			b, _ := host.Wrap(make([]float32, 3))
			return c.AllReduce(b, collective.Sum)
		},
		"nil buffer on one rank": func(c collective.Communicator) error {
			if c.Rank() == 0 {
				return c.AllReduce(nil, collective.Sum)
			}
			b, _ := host.Wrap(make([]float32, 3))
			return c.AllReduce(b, collective.Sum)
		},
		"unknown op": func(c collective.Communicator) error {
			b, _ := host.Wrap(make([]float32, 3))
			return c.AllReduce(b, collective.Op(7))
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			for r, err := range runRanks(3, f) {
				var ce *collective.Error
				if !errors.As(err, &ce) {
					t.Errorf("rank %d: %v, want a *collective.Error", r, err)
				}
			}
		})
	}
}

// TestLocalOneRank: a group of one returns its own values; n < 1 gives nil.
func TestLocalOneRank(t *testing.T) {
	if collective.NewLocal(0) != nil {
		t.Fatal("NewLocal(0) is not nil")
	}
	c := collective.NewLocal(1)[0]
	v := []float32{1.5, -2}
	b, _ := host.Wrap(v)
	if err := c.AllReduce(b, collective.Max); err != nil || v[0] != 1.5 || v[1] != -2 {
		t.Fatalf("%v %v", v, err)
	}
	var _ device.Buffer = b
}
