package host

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// BenchmarkLaunch times Device.Launch on tiny inputs, with the argument
// lists boxed once: the per-launch cost of the checks and the dispatch to
// the mirror, which a training loop of small tensors pays on every launch.
func BenchmarkLaunch(b *testing.B) {
	const n, c = 8, 16
	d := Default()
	f := func(k int) *Buffer {
		buf, _ := d.Alloc(device.Float32, k)
		return buf.(*Buffer)
	}
	x, g, y, rows, w, denom, out := f(n*c), f(n*c), f(n*c), f(n), f(c), f(2), f(kernelspec.MaxReduceBlocks)
	denom.f32[1] = 1
	tg, _ := d.Alloc(device.Int32, n)
	mask, _ := d.Alloc(device.Int32, 1)
	grid := func(k int) device.Grid { return device.Grid{Blocks: k, Threads: kernelspec.BlockSize} }
	for _, k := range []struct {
		name string
		grid device.Grid
		args []any
	}{
		{"reduce_sum", grid(1), []any{x, int32(n * c), 1.0, int32(0), x, out}},
		{"pointwise_loss", grid(1), []any{kernelspec.OpMSE, x, y, x, x, mask, int32(n * c), 0.0, 0.0, 0.0,
			int32(1), int32(1), int32(n * c), int32(1), int32(n * c), int32(1), 1.0, x,
			kernelspec.FlagGradInput | kernelspec.FlagReduce, g, x, x, out}},
		{"cross_entropy_rows", grid(n), []any{x, tg, w, int32(n), int32(c), int32(0), int32(-100), 0.0, denom,
			int32(1), g, rows, int32(0), x}},
		{"softmax_rows", grid(n), []any{x, int32(n), int32(c), 1.0, int32(0), y}},
	} {
		b.Run(k.name, func(b *testing.B) {
			if err := d.Launch(k.name, k.grid, k.args...); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := d.Launch(k.name, k.grid, k.args...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
