package losses_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// The clip family in the shared fuzz harness (fuzz_test.go): every
// property it checks, through the declarations clip_grad_norm and
// clip_grad_value.
func init() {
	fuzzFamilies["clip"] = []string{"clip_grad_norm", "clip_grad_value"}
	fuzzEnums["losses.ClipMode"] = []string{"torch", "optax", "keras", ""}
}

func FuzzClip(f *testing.F) {
	f.Add(fuzzCase{loss: 0, dims: []byte{3, 4}}.encode("clip"))
	// max_norm 1, norm_type inf, error_if_nonfinite; NaN and Inf values
	f.Add(fuzzCase{loss: 0, opts: []byte{0, 1, 1, 0xF1, 2, 1}, dims: []byte{2, 5},
		vals: []byte{0x40, 0xC0, 0xC1, 0x50, 0x60}}.encode("clip"))
	f.Add(fuzzCase{loss: 1, opts: []byte{0, 3}, dims: []byte{4, 4}}.encode("clip"))
	fuzzFamily(f, "clip")
}

// FuzzClipGradNorm: any gradients split into buffers, max_norm and norm
// order: no panic; an *ArgError or success; the same bits twice; with
// finite gradients a total within 1e-5 of a float64 brute force (unless
// the norm leaves the float32 range) and every gradient its original
// times the coefficient torch computes from that total; with a NaN or Inf
// and error_if_nonfinite, ErrNonfiniteNorm and nothing written.
func FuzzClipGradNorm(f *testing.F) {
	f.Add(byte(2), byte(0), byte(0), []byte{0, 0, 64, 64, 0, 0, 128, 64})
	f.Add(byte(3), byte(4), byte(1), []byte{0, 0, 192, 127, 0, 0, 128, 63, 0, 0, 128, 127, 1, 2, 3, 4, 9, 9, 9, 9})
	f.Add(byte(7), byte(2), byte(0), make([]byte, 64))
	f.Fuzz(func(t *testing.T, split, pSel, flags byte, data []byte) {
		v := fuzzFloats(data)
		// buffers: cut v every (split%5)+1 elements, an empty one after each
		// cut when split&8
		var gs [][]float32
		step := int(split%5) + 1
		for lo := 0; lo < len(v); lo += step {
			gs = append(gs, slices.Clone(v[lo:min(lo+step, len(v))]))
			if split&8 != 0 {
				gs = append(gs, []float32{})
			}
		}
		p := []float64{2, 1, 3, 0.5, math.Inf(1), -1, 0}[int(pSel)%7]
		maxNorm := []float64{1, 0.5, 1e-3, 1e30, 0, math.NaN()}[int(flags>>1)%6]
		o := losses.ClipGradNormOptions{MaxNorm: maxNorm, NormType: losses.ClipNormType(p), ErrorIfNonfinite: flags&1 != 0}
		orig := make([][]float32, len(gs))
		a, b := make([][]float32, len(gs)), make([][]float32, len(gs))
		for i := range gs {
			orig[i], a[i], b[i] = gs[i], slices.Clone(gs[i]), slices.Clone(gs[i])
		}
		ta, errA := losses.ClipGradNorm(hostDev, clipTensors(a...), o)
		tb, errB := losses.ClipGradNorm(hostDev, clipTensors(b...), o)
		if (errA == nil) != (errB == nil) || math.Float64bits(ta) != math.Float64bits(tb) {
			t.Fatalf("twice: %v %v, then %v %v", ta, errA, tb, errB)
		}
		for i := range a {
			if !slices.Equal(tensorBits(losses.HostTensor(a[i])), tensorBits(losses.HostTensor(b[i]))) {
				t.Fatalf("twice: grads[%d] differ", i)
			}
		}
		finite := true
		for _, g := range orig {
			for _, x := range g {
				finite = finite && !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
			}
		}
		if errA != nil {
			var ae *losses.ArgError
			if !errors.As(errA, &ae) {
				t.Fatalf("error %v (%T), want an *ArgError", errA, errA)
			}
			if errors.Is(errA, losses.ErrNonfiniteNorm) != (o.ErrorIfNonfinite && !(math.Abs(ta) <= math.MaxFloat64)) {
				t.Fatalf("error %v with total %v", errA, ta)
			}
			for i := range a {
				if !slices.Equal(tensorBits(losses.HostTensor(a[i])), tensorBits(losses.HostTensor(orig[i]))) {
					t.Fatalf("error %v, but grads[%d] written", errA, i)
				}
			}
			return
		}
		if !finite {
			return
		}
		pp := p
		if pp == 0 {
			pp = 2
		}
		want := clipBrute(pp, orig...)
		if want > math.MaxFloat32 || want < 1e-30 {
			return // beyond the float32 range, or where its subnormals round
		}
		if math.Abs(ta-want) > 1e-5*want {
			t.Fatalf("total %v, brute force %v (p = %v)", ta, want, pp)
		}
		c := float32(maxNorm) / (float32(ta) + 1e-6)
		if c > 1 {
			c = 1
		}
		for i := range a {
			for j := range a[i] {
				if w := orig[i][j] * c; a[i][j] != w {
					t.Fatalf("grads[%d][%d] = %v, want %v·%v = %v", i, j, a[i][j], orig[i][j], c, w)
				}
			}
		}
	})
}
