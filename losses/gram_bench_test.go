package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// BenchmarkGramLosses times feature_loss and gram_style_loss over 4 layers
// of [N, C, H·W] features on the host device, float32, with the gradient
// w.r.t. the input. SetBytes counts each layer's input and target read and
// its gradient written once, as lossbench's byte model.
func BenchmarkGramLosses(b *testing.B) {
	dev := host.Default()
	for _, sh := range [][3]int{{2, 64, 32 * 32}, {4, 256, 16 * 16}} {
		r := rand.New(rand.NewPCG(1, 2))
		var a losses.LayersArgs
		a.Loss = losses.HostTensor(make([]float32, 1))
		n := sh[0] * sh[1] * sh[2]
		for l := 0; l < 4; l++ {
			x, y := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			a.Layers = append(a.Layers, losses.LayerPair{Input: losses.HostTensor(x, sh[:]...), Target: losses.HostTensor(y, sh[:]...),
				GradInput: losses.HostTensor(make([]float32, n), sh[:]...)})
		}
		for _, name := range []string{"feature_loss", "gram_style_loss"} {
			b.Run(fmt.Sprintf("%s/4x%dx%dx%d", name, sh[0], sh[1], sh[2]), func(b *testing.B) {
				b.SetBytes(4 * 3 * 4 * int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var err error
					if name == "feature_loss" {
						err = losses.FeatureLossLayers(dev, a, losses.FeatureLossLayersOptions{})
					} else {
						err = losses.GramStyleLossLayers(dev, a, losses.GramStyleLossLayersOptions{})
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
