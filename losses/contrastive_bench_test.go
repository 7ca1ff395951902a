package losses_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// BenchmarkNTXentTwoView: the two-view NT-Xent with both gradients on the
// host, float32; bytes are the embeddings read and the gradients written.
func BenchmarkNTXentTwoView(b *testing.B) {
	for _, sh := range [][2]int{{256, 128}, {2048, 128}} {
		n, d := sh[0], sh[1]
		b.Run(fmt.Sprintf("N=%d/D=%d", n, d), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			z1, z2 := make([]float32, n*d), make([]float32, n*d)
			for i := range z1 {
				z1[i], z2[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			}
			loss, g1, g2 := make([]float32, 1), make([]float32, n*d), make([]float32, n*d)
			a := losses.NTXentArgs{Embeddings: losses.HostTensor(z1, n, d), Z2: losses.HostTensor(z2, n, d), Loss: losses.HostTensor(loss),
				GradEmbeddings: losses.HostTensor(g1, n, d), GradZ2: losses.HostTensor(g2, n, d)}
			b.SetBytes(int64(4 * 4 * n * d))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := losses.NTXent(hostDev, a, losses.NTXentOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSupCon: SupCon without labels, every view an anchor, float32 on
// the host.
func BenchmarkSupCon(b *testing.B) {
	bs, v, d := 1024, 2, 128
	r := rand.New(rand.NewPCG(2, 2))
	f := make([]float32, bs*v*d)
	for i := range f {
		f[i] = float32(r.NormFloat64())
	}
	loss, g := make([]float32, 1), make([]float32, bs*v*d)
	a := losses.SupConArgs{Features: losses.HostTensor(f, bs, v, d), Loss: losses.HostTensor(loss), GradFeatures: losses.HostTensor(g, bs, v, d)}
	b.SetBytes(int64(4 * 2 * bs * v * d))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := losses.SupCon(hostDev, a, losses.SupConOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
