package losses_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// lceBenchShape is N×H×V of BenchmarkLinearCrossEntropy:
// LOSSENGINE_LCE_SHAPE (e.g. 4096x1024x50257, GPT-2's vocabulary), or a
// small default for a quick run.
func lceBenchShape(b *testing.B) (n, h, v int) {
	s := os.Getenv("LOSSENGINE_LCE_SHAPE")
	if s == "" {
		s = "512x256x8192"
	}
	p := strings.Split(s, "x")
	if len(p) != 3 {
		b.Fatalf("LOSSENGINE_LCE_SHAPE = %q: want NxHxV", s)
	}
	var d [3]int
	for i := range p {
		var err error
		if d[i], err = strconv.Atoi(p[i]); err != nil || d[i] < 1 {
			b.Fatalf("LOSSENGINE_LCE_SHAPE = %q: want NxHxV", s)
		}
	}
	return d[0], d[1], d[2]
}

// BenchmarkLinearCrossEntropy times the loss and all gradients (hidden,
// weight, bias) of cross_entropy(hidden · weightᵀ + bias) on the host,
// float32, two ways: fused (LinearCrossEntropy, tiles of 128 rows) and
// unfused (blas32.Gemm for all N×V logits, the fused cross_entropy with
// its gradient written over them, then blas32.Gemm for the two gradient
// products, and the bias gradient's column sums): the same GEMM. It
// reports peak_MB, the peak resident memory above the inputs and outputs
// during the first full call (VmHWM after resetting it through
// /proc/self/clear_refs, the BLAS started by a one-tile call before; 0
// where that is not available). SetBytes counts the inputs read and the
// gradients written once.
func BenchmarkLinearCrossEntropy(b *testing.B) {
	n, h, v := lceBenchShape(b)
	r := rand.New(rand.NewPCG(7, 8))
	fill := func(k int, s float64) []float32 {
		x := make([]float32, k)
		for i := range x {
			x[i] = float32(r.NormFloat64() * s)
		}
		return x
	}
	hid, w, bias := fill(n*h, 1), fill(v*h, 0.05), fill(v, 0.1)
	tg := make([]int32, n)
	for i := range tg {
		tg[i] = int32(r.IntN(v))
	}
	loss, gh, gw, gb := make([]float32, 1), make([]float32, n*h), make([]float32, v*h), make([]float32, v)
	bytes := 4 * int64(2*n*h+2*v*h+2*v+n)
	dev := host.Default()
	fused := func() error {
		return losses.LinearCrossEntropy(dev, losses.LinearCrossEntropyArgs{
			Hidden: losses.HostTensor(hid, n, h), Weight: losses.HostTensor(w, v, h), Bias: losses.HostTensor(bias, v),
			Target: losses.HostTensor(tg, n), Loss: losses.HostTensor(loss), GradHidden: losses.HostTensor(gh, n, h),
			GradWeight: losses.HostTensor(gw, v, h), GradBias: losses.HostTensor(gb, v)}, losses.LinearCrossEntropyOptions{})
	}
	unfused := func() error {
		logits := make([]float32, n*v)
		for i := 0; i < n; i++ {
			copy(logits[i*v:(i+1)*v], bias)
		}
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, blas32.General{Rows: n, Cols: h, Stride: h, Data: hid},
			blas32.General{Rows: v, Cols: h, Stride: h, Data: w}, 1, blas32.General{Rows: n, Cols: v, Stride: v, Data: logits})
		if err := losses.CrossEntropy(dev, losses.CrossEntropyArgs{Input: losses.HostTensor(logits, n, v),
			Target: losses.HostTensor(tg, n), Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(logits, n, v)},
			losses.CrossEntropyOptions{}); err != nil {
			return err
		}
		g := blas32.General{Rows: n, Cols: v, Stride: v, Data: logits}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, g, blas32.General{Rows: v, Cols: h, Stride: h, Data: w},
			0, blas32.General{Rows: n, Cols: h, Stride: h, Data: gh})
		blas32.Gemm(blas.Trans, blas.NoTrans, 1, g, blas32.General{Rows: n, Cols: h, Stride: h, Data: hid},
			0, blas32.General{Rows: v, Cols: h, Stride: h, Data: gw})
		clear(gb)
		for i := 0; i < n; i++ {
			blas32.Axpy(1, blas32.Vector{N: v, Inc: 1, Data: logits[i*v : (i+1)*v]}, blas32.Vector{N: v, Inc: 1, Data: gb})
		}
		return nil
	}
	// warm runs the fused call on the first rows (one tile): the BLAS's
	// own start-up on these very product shapes (its threads and packing
	// areas: OpenBLAS's under the openblas tag) is then not counted in a
	// call's peak memory.
	warm := func() {
		k := min(n, 128)
		_ = losses.LinearCrossEntropy(dev, losses.LinearCrossEntropyArgs{
			Hidden: losses.HostTensor(hid[:k*h], k, h), Weight: losses.HostTensor(w, v, h), Bias: losses.HostTensor(bias, v),
			Target: losses.HostTensor(tg[:k], k), Loss: losses.HostTensor(make([]float32, 1)),
			GradHidden: losses.HostTensor(make([]float32, k*h), k, h), GradWeight: losses.HostTensor(make([]float32, v*h), v, h),
			GradBias: losses.HostTensor(make([]float32, v), v)}, losses.LinearCrossEntropyOptions{})
	}
	for _, m := range []struct {
		name string
		call func() error
	}{{"fused", fused}, {"unfused", unfused}} {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", m.name, n, h, v), func(b *testing.B) {
			b.SetBytes(bytes)
			b.ReportAllocs()
			warm()
			// The outputs are written before: their pages count as
			// outputs, not as the call's memory.
			for _, o := range [][]float32{loss, gh, gw, gb} {
				for i := range o {
					o[i] = 1
				}
			}
			peak := peakAbove(m.call) // the first full call
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := m.call(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/1e6, "peak_MB")
		})
	}
}

// peakAbove runs f once and returns the growth of the peak resident set
// over the resident set before it (bytes), or 0 where /proc does not
// offer it. The garbage collector runs first, and is returned its memory,
// so that what f allocates is what is counted.
func peakAbove(f func() error) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return 0
	}
	before := procStatusKB("VmRSS")
	if err := f(); err != nil {
		return 0
	}
	return (procStatusKB("VmHWM") - before) * 1024
}

func procStatusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field+":") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}
