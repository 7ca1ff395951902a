package losstest

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// TestClipListOnDevices: the list forms ClipGradNorm and ClipGradValue on
// every device, with buffers of the device (in place, no copies) and with
// host tensors (staged there and back), against the float64 host path on
// the same float32 values; twice, bitwise alike; and with
// error_if_nonfinite, a NaN leaves every device buffer as it was.
func TestClipListOnDevices(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	lens := []int{257, 0, 1, 70001, 3, 5000}
	data := make([][]float32, len(lens))
	for i, n := range lens {
		data[i] = make([]float32, n)
		for j := range data[i] {
			data[i][j] = float32(r.NormFloat64() * 3)
		}
	}
	o := losses.ClipGradNormOptions{MaxNorm: 2}
	// the float64 reference
	ref := make([][]float64, len(data))
	refT := make([]losses.Tensor, len(data))
	for i, d := range data {
		ref[i] = to64(d)
		refT[i] = losses.HostTensor(ref[i])
	}
	want, err := losses.ClipGradNorm(host.Default(), refT, o)
	if err != nil {
		t.Fatal(err)
	}
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		// host tensors, staged
		hs := make([][]float32, len(data))
		ts := make([]losses.Tensor, len(data))
		for i := range data {
			hs[i] = slices.Clone(data[i])
			ts[i] = losses.HostTensor(hs[i])
		}
		got, err := losses.ClipGradNorm(dev, ts, o)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 2e-6*want {
			t.Fatalf("total %v, float64 host %v", got, want)
		}
		for i := range hs {
			if msg := Compare(Outputs{Output: to64(hs[i])}, Outputs{Output: ref[i]}, 2e-6); msg != "" {
				t.Fatalf("grads[%d]: %s", i, msg)
			}
		}
		// device buffers, in place, twice
		run := func(nanAt int, errNF bool) ([][]float32, float64, error) {
			bs := make([]device.Buffer, len(data))
			ts := make([]losses.Tensor, len(data))
			for i, d := range data {
				b, err := dev.Alloc(device.Float32, max(len(d), 1))
				if err != nil {
					t.Fatal(err)
				}
				defer b.Release()
				d = slices.Clone(d)
				if i == nanAt {
					d[len(d)/2] = float32(math.NaN())
				}
				if len(d) > 0 {
					if err := dev.Write(b, d); err != nil {
						t.Fatal(err)
					}
				}
				bs[i], ts[i] = b, losses.NewTensor(b, len(d))
			}
			oo := o
			oo.ErrorIfNonfinite = errNF
			total, cerr := losses.ClipGradNorm(dev, ts, oo)
			out := make([][]float32, len(data))
			for i, b := range bs {
				out[i] = make([]float32, len(data[i]))
				if len(out[i]) > 0 {
					if err := dev.Read(out[i], b); err != nil {
						t.Fatal(err)
					}
				}
			}
			return out, total, cerr
		}
		a, ta, err := run(-1, false)
		if err != nil {
			t.Fatal(err)
		}
		b, tb, err := run(-1, false)
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(ta) != math.Float64bits(tb) || ta != got {
			t.Fatalf("totals %v, %v, staged %v: not bitwise alike", ta, tb, got)
		}
		for i := range a {
			if !slices.Equal(a[i], b[i]) || !slices.Equal(a[i], hs[i]) {
				t.Fatalf("grads[%d] differ between runs or from the staged call", i)
			}
		}
		c, tc, err := run(3, true)
		if !errors.Is(err, losses.ErrNonfiniteNorm) || !math.IsNaN(tc) {
			t.Fatalf("NaN with error_if_nonfinite: total %v, err %v", tc, err)
		}
		for i := range c {
			if i == 3 {
				continue
			}
			if !slices.Equal(c[i], data[i]) {
				t.Fatalf("grads[%d] written despite the error", i)
			}
		}
		// clip_grad_value, staged
		v := slices.Clone(data[3])
		if err := losses.ClipGradValue(dev, []losses.Tensor{losses.HostTensor(v)}, losses.ClipGradValueOptions{ClipValue: 1}); err != nil {
			t.Fatal(err)
		}
		for j, x := range data[3] {
			if w := min(max(x, -1), 1); v[j] != w {
				t.Fatalf("clip_grad_value [%d] = %v, want %v", j, v[j], w)
			}
		}
	})
}
