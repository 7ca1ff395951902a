package losses_test

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// clipBenchN and clipBenchK: 200 gradient buffers of random lengths
// totalling 2^25 float32 (128 MiB).
const (
	clipBenchN = 1 << 25
	clipBenchK = 200
)

// clipBenchData returns the buffers' values and their lengths.
func clipBenchData() ([]float32, []int) {
	r := rand.New(rand.NewPCG(11, 12))
	x := make([]float32, clipBenchN)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	lens := make([]int, clipBenchK)
	left := clipBenchN
	for i := range lens[:clipBenchK-1] {
		lens[i] = clipBenchN/clipBenchK/2 + r.IntN(clipBenchN/clipBenchK)
		left -= lens[i]
	}
	lens[clipBenchK-1] = left
	return x, lens
}

// clipParCopy copies src to dst on every core, in contiguous chunks.
func clipParCopy(dst, src []float32) {
	p := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	chunk := (len(src) + p - 1) / p
	for lo := 0; lo < len(src); lo += chunk {
		hi := min(lo+chunk, len(src))
		wg.Add(1)
		go func() {
			defer wg.Done()
			copy(dst[lo:hi], src[lo:hi])
		}()
	}
	wg.Wait()
}

// BenchmarkClipGradNorm times ClipGradNorm on the host over 200 float32
// buffers totalling 2^25 elements, clipping (max_norm 1: every buffer is
// scaled), with the gradients restored between calls off the clock; bytes
// moved: a read for the norm and a read and a write for the scaling (12
// bytes per element). copy is the yardstick: a plain copy of the same 2^25
// floats on every core (8 bytes per element: a read and a write). norm is
// the norm alone (no clipping: max_norm 1e30, one read).
func BenchmarkClipGradNorm(b *testing.B) {
	orig, lens := clipBenchData()
	data := make([]float32, clipBenchN)
	ts := make([]losses.Tensor, clipBenchK)
	off := 0
	for i, n := range lens {
		ts[i] = losses.HostTensor(data[off : off+n])
		off += n
	}
	b.ResetTimer()
	b.Run("clip", func(b *testing.B) {
		b.SetBytes(12 * clipBenchN)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			clipParCopy(data, orig)
			b.StartTimer()
			if _, err := losses.ClipGradNorm(hostDev, ts, losses.ClipGradNormOptions{MaxNorm: 1}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("norm", func(b *testing.B) {
		clipParCopy(data, orig)
		b.SetBytes(4 * clipBenchN)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := losses.ClipGradNorm(hostDev, ts, losses.ClipGradNormOptions{MaxNorm: 1e30}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("copy", func(b *testing.B) {
		b.SetBytes(8 * clipBenchN)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			clipParCopy(data, orig)
		}
	})
}

// BenchmarkClipGradValue times ClipGradValue on the host over the same
// buffers (a read and a write per element).
func BenchmarkClipGradValue(b *testing.B) {
	orig, lens := clipBenchData()
	ts := make([]losses.Tensor, clipBenchK)
	off := 0
	for i, n := range lens {
		ts[i] = losses.HostTensor(orig[off : off+n])
		off += n
	}
	b.SetBytes(8 * clipBenchN)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.ClipGradValue(hostDev, ts, losses.ClipGradValueOptions{ClipValue: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
