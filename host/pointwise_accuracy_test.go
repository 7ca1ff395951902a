package host

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/internal/accuracy"
)

// TestPointwiseAccuracy holds the float32 paths of the logistic
// elementwise losses to the float64 host path on saturated logits
// (accuracy.Cases, within accuracy.Bound): the scalar pointwiseOp, the
// unweighted chunks (the vector loops where the CPU has them, else the Go
// loops; every path this build has, see vecModes) and the weighted chunks
// (the Go loops).
func TestPointwiseAccuracy(t *testing.T) {
	var sum strings.Builder
	note := func(c accuracy.Case, path string, st [3]accuracy.Stats) {
		fmt.Fprintf(&sum, "\n  %-52s %-14s", c.Name, path)
		for k, s := range st {
			if k < 2 || c.Target {
				fmt.Fprintf(&sum, " %s %.2g (%.2f of bound)", accuracy.Quantities[k], s.MaxRel, s.Worst)
			}
		}
	}
	for _, c := range accuracy.Cases() {
		ref := accuracy.Bound(c, accuracy.Float64(Default(), c))
		var got [3][]float32
		for k := range got {
			got[k] = make([]float32, len(c.X))
		}
		for i := range c.X {
			a := float32(1)
			if c.A != nil {
				a = c.A[i]
			}
			got[0][i], got[1][i], got[2][i], _ = pointwiseOp(c.Op, c.X[i], c.Y[i], a, c.P0, c.P1, c.P2)
		}
		note(c, "scalar", accuracy.Check(t, "scalar pointwiseOp", c, got, ref))
		vecModes(t, func(mode string) {
			got, err := accuracy.Run(Default(), c, false)
			if err != nil {
				t.Fatal(err)
			}
			note(c, mode, accuracy.Check(t, mode, c, got, ref))
		})
		got, err := accuracy.Run(Default(), c, true)
		if err != nil {
			t.Fatal(err)
		}
		note(c, "weighted", accuracy.Check(t, "weighted chunks", c, got, ref))
	}
	t.Logf("largest relative errors (and the worst error as a fraction of its bound):%s", sum.String())
}
