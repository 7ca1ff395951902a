//go:build opencl

package gonumloss

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// TestFloat32Device: on an OpenCL device (float32 only) the matrices are
// converted to float32 and the results back; they agree with the host's
// float64 results to float32 accuracy.
func TestFloat32Device(t *testing.T) {
	dev, err := device.Open("opencl")
	if err != nil {
		t.Skipf("no OpenCL device: %v", err)
	}
	defer dev.Close()
	require.False(t, dev.Info().Float64, "this test is for a float32-only device")
	r := rand.New(rand.NewPCG(13, 14))
	x := randDense(r, 8, 33, 2)
	tg := mat.NewVecDense(8, []float64{0, 32, 5, 5, 1, 7, 30, 2})
	y := randDense(r, 8, 33, 1)
	for _, c := range []struct {
		loss string
		in   map[string]mat.Matrix
		opt  any
	}{
		{"cross_entropy", map[string]mat.Matrix{"input": x, "target": tg}, losses.CrossEntropyOptions{LabelSmoothing: 0.05}},
		{"huber_loss", map[string]mat.Matrix{"input": x.Slice(0, 4, 1, 9), "target": y.Slice(2, 6, 3, 11)}, nil},
	} {
		want, err := Call(hostDev, c.loss, c.in, c.opt)
		require.NoError(t, err)
		got, err := Call(dev, c.loss, c.in, c.opt)
		require.NoError(t, err)
		require.InDelta(t, want.Loss, got.Loss, 2e-6*(1+math.Abs(want.Loss)), c.loss)
		for name, g := range want.Grads {
			require.IsType(t, g, got.Grads[name])
			w, h := rawOf(g), rawOf(got.Grads[name])
			require.Len(t, h, len(w))
			for i := range w {
				require.InDelta(t, w[i], h[i], 1e-6*(1+math.Abs(w[i])), "%s grad_%s[%d]", c.loss, name, i)
			}
		}
	}
}
