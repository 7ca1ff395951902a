package kerneltest

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// testDeterminism runs the reducing kernels and the CTC kernels twice on
// the same inputs and wants bitwise-identical results.
func testDeterminism(t *testing.T, s *suite) {
	d := s.d
	grid := func(blocks int) device.Grid { return device.Grid{Blocks: blocks, Threads: kernelspec.BlockSize} }
	t.Run("cross_entropy+reduce_sum", func(t *testing.T) {
		rng := newRand(11, 0)
		const rows, cols = 5, 70001
		x := upload(t, d, randn(rng, rows*cols, 2))
		tg := upload(t, d, []int32{1, 5, 70000, 3, 0})
		w := upload(t, d, uniform(rng, cols, 0.1, 2))
		denom := upload(t, d, []float32{0, 0})
		run := func() []float32 {
			grad, loss, lse, sum := upload(t, d, zeros(rows*cols)), upload(t, d, zeros(rows)), upload(t, d, zeros(rows)),
				upload(t, d, zeros(1))
			must(t, d.Launch("cross_entropy_weight_sum", grid(1), tg, w, int32(rows), int32(cols), int32(1), int32(-100),
				kernelspec.ReductionMean, denom))
			must(t, d.Launch("cross_entropy_rows", grid(rows), x, tg, w, int32(rows), int32(cols), int32(1), int32(-100),
				0.1, denom, int32(1), grad, loss, int32(1), lse))
			must(t, d.Launch("reduce_sum", grid(1), grad, int32(rows*cols), 1.0, int32(0), denom, sum))
			return readAll(t, d, grad, loss, lse, sum)
		}
		if a, b := run(), run(); !sameBits(a, b) {
			t.Error("two identical runs gave different bits")
		}
	})
	t.Run("cross_entropy_rows_ext", func(t *testing.T) {
		rng := newRand(11, 2)
		const rows, cols = 5, 70001
		x := upload(t, d, randn(rng, rows*cols, 8))
		tg := upload(t, d, []int32{1, 5, 70000, -100, 0})
		w := upload(t, d, uniform(rng, cols, 0.1, 2))
		denom, zdenom := upload(t, d, []float32{3.5, 3.5}), upload(t, d, []float32{4, 4})
		run := func() []float32 {
			grad, loss, lse, zr, acc := upload(t, d, zeros(rows*cols)), upload(t, d, zeros(rows)), upload(t, d, zeros(rows)),
				upload(t, d, zeros(rows)), upload(t, d, zeros(rows))
			must(t, d.Launch("cross_entropy_rows_ext", grid(rows), x, tg, w, int32(rows), int32(cols), int32(1), int32(-100),
				0.1, denom, int32(1), grad, loss, int32(1), lse, 15.0, 1e-3, zdenom, int32(1), zr, int32(1), acc, int32(0)))
			return readAll(t, d, grad, loss, lse, zr, acc)
		}
		if a, b := run(), run(); !sameBits(a, b) {
			t.Error("two identical runs gave different bits")
		}
	})
	t.Run("cross_entropy+reduce_sum+pointwise+softmax", func(t *testing.T) {
		rng := newRand(11, 1)
		n, c := 3, 131072
		x := upload(t, d, randn(rng, n*c, 4))
		tg := upload(t, d, []int32{5, 77, 131071})
		w := upload(t, d, randn(rng, c, 0.1))
		denom := upload(t, d, []float32{3, 1.0 / 3})
		ione := upload(t, d, []int32{1})
		run := func() []float32 {
			grad, loss, lse := upload(t, d, zeros(n*c)), upload(t, d, zeros(n)), upload(t, d, zeros(n))
			must(t, d.Launch("cross_entropy_rows", grid(n), x, tg, w, int32(n), int32(c), int32(1), int32(-100), 0.1,
				denom, int32(1), grad, loss, int32(1), lse))
			out := upload(t, d, zeros(1))
			must(t, d.Launch("reduce_sum", grid(1), x, int32(n*c), 1.0, int32(0), denom, out))
			m := n * c
			part := upload(t, d, zeros(partialBlocks(m)))
			must(t, d.Launch("pointwise_loss", grid(partialBlocks(m)), kernelspec.OpMSE, x, grad, x, x, ione, int32(m),
				0.0, 0.0, 0.0, int32(1), int32(1), int32(1), int32(1), int32(1), int32(1), 1.0, x, kernelspec.FlagReduce,
				x, x, x, part))
			y := upload(t, d, zeros(n*c))
			must(t, d.Launch("softmax_rows", grid(n), x, int32(n), int32(c), 0.7, int32(1), y))
			return readAll(t, d, grad, loss, lse, out, part, y)
		}
		if a, b := run(), run(); !sameBits(a, b) {
			t.Error("two identical runs gave different bits")
		}
	})
	t.Run("ctc", func(t *testing.T) {
		c := ctcCase{T: 200, N: 5, C: 12, blank: 3, lens: []int{40, 150, 0, 7, 99}, ins: []int{200, 190, 50, 3, 200},
			repeats: true, impossible: -1, hasLSE: true, mode: kernelspec.CTCGradSoftmax, reduction: kernelspec.ReductionMean,
			hasGrad: true}
		data := ctcInputs(newRand(15, 0), c)
		run := func() []float32 {
			b := ctcDevice(t, d, c, data)
			return readAll(t, d, b.alpha, b.loglik, b.grad, b.loss, b.loglikBeta)
		}
		if a, b := run(), run(); !sameBits(a, b) {
			t.Error("two identical CTC runs gave different bits")
		}
	})
}

// readAll reads float buffers of d, one after the other.
func readAll(t *testing.T, d device.Device, bufs ...device.Buffer) []float32 {
	t.Helper()
	var all []float32
	for _, b := range bufs {
		all = append(all, download(t, d, b)...)
	}
	return all
}
