package losses_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// The softmetric family in the shared fuzz harness (fuzz_test.go): every
// property it checks, through the declarations.
func init() {
	fuzzFamilies["softmetric"] = []string{"soft_f1_loss", "soft_mcc_loss"}
}

func FuzzSoftmetric(f *testing.F) {
	for i := range fuzzFamilies["softmetric"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("softmetric"))
		f.Add(fuzzCase{loss: byte(i), dims: []byte{0, 2}}.encode("softmetric"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{2, 1, 3},
			vals: []byte{0x00, 0xff, 0x80, 0x40, 0x7f, 0x01}}.encode("softmetric"))
	}
	fuzzFamily(f, "softmetric")
}

// FuzzSoftMetricValues: any values, average, activation and eps: no
// panic, an *ArgError or success, the same bits twice, and for
// probabilities and targets in [0, 1] with eps > 0 a finite loss in
// [0, 1] (soft F1) or [0, 2] (soft MCC).
func FuzzSoftMetricValues(f *testing.F) {
	f.Add(byte(0), byte(0), byte(0), []byte{0, 0, 128, 63, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 0})
	f.Add(byte(1), byte(1), byte(1), make([]byte, 32))
	f.Add(byte(2), byte(2), byte(2), []byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, which, sel, epsSel byte, data []byte) {
		v := fuzzFloats(data)
		n := len(v) / 2
		x, y := v[:n], v[n:2*n]
		avg := []string{"macro", "micro", "binary", "weighted"}[sel%4]
		act := []string{"none", "sigmoid", "softmax"}[(sel/4)%3]
		eps := []float64{1e-7, 0, 1, -1, math.NaN()}[epsSel%5]
		run := func() ([]float32, []float32, error) {
			loss, g := []float32{0}, make([]float32, n)
			a := losses.SoftMetricArgs{Input: losses.HostTensor(x, n), Target: losses.HostTensor(y, n),
				Loss: losses.HostTensor(loss), GradInput: losses.HostTensor(g, n)}
			if which%2 == 0 {
				return loss, g, losses.SoftF1Loss(hostDev, a, losses.SoftF1LossOptions{Average: avg, Activation: act, Eps: &eps})
			}
			return loss, g, losses.SoftMCCLoss(hostDev, a, losses.SoftMCCLossOptions{Activation: act, Eps: &eps})
		}
		l1, g1, err := run()
		l2, g2, err2 := run()
		if err != nil {
			var ae *losses.ArgError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, err.Error(), err2.Error())
			return
		}
		require.NoError(t, err2)
		require.Equal(t, math.Float32bits(l1[0]), math.Float32bits(l2[0]))
		for i := range g1 {
			require.Equal(t, math.Float32bits(g1[i]), math.Float32bits(g2[i]))
		}
		inUnit := func(v []float32) bool {
			for _, u := range v {
				if !(u >= 0 && u <= 1) {
					return false
				}
			}
			return true
		}
		if act == "none" && eps > 0 && inUnit(x) && inUnit(y) {
			hi := float32(1)
			if which%2 == 1 {
				hi = 2
			}
			require.True(t, l1[0] >= -1e-6 && l1[0] <= hi+1e-6, "loss %v", l1[0])
		}
	})
}
