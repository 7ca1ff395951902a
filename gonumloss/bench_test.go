package gonumloss

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkAdapter: cross_entropy over [256, 4096] float64 logits on the
// host through the slice API, through Call on a contiguous *mat.Dense
// (used in place) and through Call on a strided view (packed first).
func BenchmarkAdapter(b *testing.B) {
	const n, c = 256, 4096
	r := rand.New(rand.NewPCG(1, 1))
	big := randDense(r, n, c+64, 2)
	view := big.Slice(0, n, 0, c).(*mat.Dense)
	x := mat.DenseCopyOf(view)
	tf := make([]float64, n)
	ti := make([]int32, n)
	for i := range tf {
		ti[i] = int32(r.IntN(c))
		tf[i] = float64(ti[i])
	}
	tg := mat.NewVecDense(n, tf)
	b.Run("slices", func(b *testing.B) {
		raw := x.RawMatrix().Data
		loss, grad := make([]float64, 1), make([]float64, n*c)
		b.SetBytes(8 * n * c)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{Input: losses.HostTensor(raw, n, c),
				Target: losses.HostTensor(ti), Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad, n, c)},
				losses.CrossEntropyOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, m := range []struct {
		name string
		x    *mat.Dense
	}{{"gonumloss", x}, {"gonumloss_strided", view}} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(8 * n * c)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Call(hostDev, "cross_entropy", map[string]mat.Matrix{"input": m.x, "target": tg}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMSEFloat64: mse_loss and its input gradient over 2^20 float64
// elements, by the host's fused loop and composed from gonum's floats
// routines (a difference, a dot product, a scaling: three passes).
func BenchmarkMSEFloat64(b *testing.B) {
	const n = 1 << 20
	r := rand.New(rand.NewPCG(2, 2))
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = r.NormFloat64(), r.NormFloat64()
	}
	loss, grad := make([]float64, 1), make([]float64, n)
	b.Run("losses", func(b *testing.B) {
		b.SetBytes(8 * n)
		for i := 0; i < b.N; i++ {
			if err := losses.MSELoss(hostDev, losses.ElementwiseArgs{Input: losses.HostTensor(x), Target: losses.HostTensor(y),
				Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(grad)}, losses.MSELossOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gonum_floats", func(b *testing.B) {
		wantLoss, wantGrad := make([]float64, 1), make([]float64, n)
		if err := losses.MSELoss(hostDev, losses.ElementwiseArgs{Input: losses.HostTensor(x), Target: losses.HostTensor(y),
			Loss: losses.HostTensor(wantLoss), GradInput: losses.HostTensor(wantGrad)}, losses.MSELossOptions{}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(8 * n)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			floats.SubTo(grad, x, y)
			loss[0] = floats.Dot(grad, grad) / n
			floats.Scale(2.0/n, grad)
		}
		b.StopTimer()
		// The composition computes what the host's loop does.
		if !scalar.EqualWithinAbsOrRel(loss[0], wantLoss[0], 1e-12, 1e-12) || !floats.EqualApprox(grad, wantGrad, 1e-15) {
			b.Fatalf("gonum's floats give loss %v, the host %v", loss[0], wantLoss[0])
		}
	})
}
