package kerneltest_test

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	_ "github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kerneltest"
)

// TestHost runs the suite on the host device, opened through the registry
// as users open it. The host device runs the very mirrors it is compared
// with, so the comparisons hold by construction (they exercise the
// harness, the cases and every launch path); the float64 mirror of
// ctc_nan, the CTC self-checks, the all-ignored denom check and
// determinism test the host device for real.
func TestHost(t *testing.T) {
	d, err := device.Open("host")
	if err != nil {
		t.Fatal(err)
	}
	kerneltest.Run(t, d)
}

func BenchmarkCTC(b *testing.B) {
	d, err := device.Open("host")
	if err != nil {
		b.Fatal(err)
	}
	kerneltest.Bench(b, d)
}
