package losses_test

import (
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// TestCrossEntropyBeyondInt32 runs cross_entropy over N·C = 2³¹ + 2
// float32 logits (8.6 GB, the gradient written in place), so that row 1's
// elements sit past the int32 range: its loss, log-sum-exp, z-loss and
// gradient must be those of the closed form. It needs about 9 GB of
// memory and runs only with LOSSENGINE_LONG=1 (scripts/test.sh runs it
// once).
func TestCrossEntropyBeyondInt32(t *testing.T) {
	if os.Getenv("LOSSENGINE_LONG") != "1" {
		t.Skip("set LOSSENGINE_LONG=1 to run the 8.6 GB case")
	}
	const n, c = 2, 1<<30 + 1
	x := make([]float32, n*c)
	// Row 0: logit 3 at column 7, 0 elsewhere; row 1: logit 5 at the last
	// column (element 2³¹ + 1), 0 elsewhere. Targets: 7 and the last.
	x[7] = 3
	x[2*c-1] = 5
	tg := []int32{7, c - 1}
	loss, lse, zl := make([]float32, n), make([]float32, n), make([]float32, n)
	const z = 1e-4
	require.NoError(t, losses.CrossEntropy(hostDev, losses.CrossEntropyArgs{
		Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(tg, n),
		Loss: losses.HostTensor(loss, n), GradInput: losses.HostTensor(x, n, c), LSE: losses.HostTensor(lse, n),
		ZLoss: losses.HostTensor(zl, n),
	}, losses.CrossEntropyOptions{Reduction: losses.None, ZLoss: z}))
	for i, top := range []float64{3, 5} {
		L := math.Log(float64(c-1) + math.Exp(top))
		require.InDelta(t, L, float64(lse[i]), 2e-6*L, "lse[%d]", i)
		require.InDelta(t, L-top+z*L*L, float64(loss[i]), 2e-6*L, "loss[%d]", i)
		require.InDelta(t, z*L*L, float64(zl[i]), 2e-6*z*L*L, "z_loss[%d]", i)
		// d/dx_k = p_k (1 + 2 z L) − [k == t].
		scale := 1 + 2*z*L
		p0, pt := math.Exp(-L), math.Exp(top-L)
		row := x[i*c : (i+1)*c]
		for _, k := range []int{0, 1, c / 2, c - 2} {
			if k == int(tg[i]) {
				continue
			}
			require.InDelta(t, p0*scale, float64(row[k]), 1e-5*p0*scale, "grad[%d, %d]", i, k)
		}
		require.InDelta(t, pt*scale-1, float64(row[tg[i]]), 1e-5, "grad[%d, target]", i)
	}
}
