package host

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestClipSumSqBlocks checks that the one-call form over a buffer's runs
// gives, run by run, the same bits as clipSumSq over each run alone, with
// huge, tiny, zero and non-finite values among them.
func TestClipSumSqBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 7*256)
	for i := range x {
		x[i] = float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)))
	}
	x[5], x[300], x[600], x[900] = 0, float32(math.Inf(1)), float32(math.NaN()), 3e38
	out := make([]float64, 2*7)
	if !clipSumSqBlocks(x, out) {
		t.Skip("no vector loop on this machine")
	}
	for k := range 7 {
		s, m := clipSumSq(x[k*256 : (k+1)*256])
		gs, gm := out[2*k], math.Sqrt(out[2*k+1])
		if math.Float64bits(s) != math.Float64bits(gs) && !(math.IsNaN(s) && math.IsNaN(gs)) {
			t.Errorf("run %d: sum %v, per run %v", k, gs, s)
		}
		if math.Float64bits(m) != math.Float64bits(gm) && !(math.IsNaN(m) && math.IsNaN(gm)) {
			t.Errorf("run %d: max %v, per run %v", k, gm, m)
		}
	}
}
