package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkCTC times ctc_loss forward + gradient on the host in float32,
// buffer form, with a workspace reused across calls (no allocation per
// call), full-length sequences. "logits" folds the softmax in (the
// counterpart of PyTorch's log_softmax + ctc_loss forward and backward,
// scripts/bench_torch.py); "logprobs" is log-probability input with the
// exact gradient. SetBytes counts T·N·C floats read and T·N·C written;
// ns/cell is the time per (t, state) cell of the dynamic program,
// N·T·(2L+1) cells per call; cpu-ms/op the CPU time per call, both cores
// together.
func BenchmarkCTC(b *testing.B) {
	for _, s := range [][4]int{{150, 64, 28, 40}, {150, 64, 5000, 20}, {1000, 32, 29, 200}, {3000, 8, 1000, 1000}} {
		T, N, C, L := s[0], s[1], s[2], s[3]
		r := rand.New(rand.NewPCG(1, 3))
		x := f32s(r, T*N*C, 1)
		tg := make([]int32, N*L)
		for i := range tg {
			tg[i] = int32(1 + r.IntN(C-1))
		}
		il, tl := make([]int32, N), make([]int32, N)
		for i := range il {
			il[i], tl[i] = int32(T), int32(L)
		}
		w := func(v any) device.Buffer {
			buf, err := host.Wrap(v)
			if err != nil {
				b.Fatal(err)
			}
			return buf
		}
		for _, mode := range []string{"logits", "logprobs"} {
			b.Run(fmt.Sprintf("%dx%dx%dx%d/%s", T, N, C, L, mode), func(b *testing.B) {
				opt := losses.CTCLossOptions{Logits: mode == "logits"}
				ws, err := losses.NewCTCWorkspace(host.Default(), device.Float32, T, N, C, L, opt.Logits)
				if err != nil {
					b.Fatal(err)
				}
				defer ws.Release()
				bufs := losses.CTCLossArgs{LogProbs: losses.NewTensor(w(x), T, N, C), Targets: losses.NewTensor(w(tg), N, L),
					InputLengths: losses.NewTensor(w(il)), TargetLengths: losses.NewTensor(w(tl)), Loss: losses.NewTensor(w(make([]float32, 1))),
					GradLogProbs: losses.NewTensor(w(make([]float32, T*N*C)), T, N, C), Workspace: ws}
				if err := losses.CTCLoss(host.Default(), bufs, opt); err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(8 * T * N * C))
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := losses.CTCLoss(host.Default(), bufs, opt); err != nil {
						b.Fatal(err)
					}
				}
				cells := float64(N) * float64(T) * float64(2*L+1)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/cells, "ns/cell")
				b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
			})
		}
	}
}
