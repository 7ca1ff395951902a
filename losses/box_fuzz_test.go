package losses_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// The box and boundary families in the shared fuzz harness (fuzz_test.go):
// every property it checks, through the declarations.
func init() {
	fuzzFamilies["box"] = []string{"box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"}
	fuzzFamilies["boundary"] = []string{"boundary_loss"}
	fuzzEnums["*losses.Reduction"] = []string{"none", "mean", "sum", "batchmean"}
	if _, ok := fuzzEnums["string"]; !ok {
		fuzzEnums["string"] = []string{"softmax", "sigmoid", "none", "relu"} // boundary_loss's activation
	}
}

func FuzzBox(f *testing.F) {
	for i := range fuzzFamilies["box"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("box"))
		// reduction mean, eps 1e-3-ish; ties and zero-area boxes from the value pattern
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{2, 4},
			vals: []byte{0x40, 0x40, 0x60, 0x60, 0x40, 0x40, 0x60, 0x40, 0x40, 0x40, 0x60, 0x60, 0x50, 0x50, 0x50, 0x50}}.encode("box"))
	}
	fuzzFamily(f, "box")
}

func FuzzBoundary(f *testing.F) {
	f.Add(fuzzCase{dims: []byte{2, 3, 5}}.encode("boundary"))
	f.Add(fuzzCase{opts: []byte{1, 1, 2, 2}, dims: []byte{1, 1, 3}}.encode("boundary"))
	fuzzFamily(f, "boundary")
}

// fuzzFloats reads float32 values from b, 4 bytes each.
func fuzzFloats(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func boundedFinite(v []float32, lim float64) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.Abs(float64(x)) > lim {
			return false
		}
	}
	return true
}

// FuzzBoxLosses: any coordinates, loss, reduction and eps: no panic, an
// *ArgError or success, the same bits twice, and finite results for
// boxes of positive size and moderate coordinates with eps > 0.
func FuzzBoxLosses(f *testing.F) {
	f.Add(byte(1), byte(0), byte(0), []byte{0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 64, 0, 0, 128, 63, 0, 0, 128, 63, 0, 0, 64, 64, 0, 0, 64, 64})
	f.Add(byte(3), byte(1), byte(1), make([]byte, 64))
	f.Add(byte(2), byte(2), byte(2), []byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	names := []string{"box_iou_loss", "generalized_box_iou_loss", "distance_box_iou_loss", "complete_box_iou_loss"}
	f.Fuzz(func(t *testing.T, which, red, epsSel byte, data []byte) {
		v := fuzzFloats(data)
		n := len(v) / 8
		b1, b2 := v[:4*n], v[4*n:8*n]
		r := []losses.Reduction{losses.None, losses.Mean, losses.Sum, 5}[red%4]
		eps := []float64{1e-7, 0, 1e-3, -1}[epsSel%4]
		nl := 1
		if r == losses.None {
			nl = n
		}
		run := func() ([]float32, []float32, []float32, error) {
			loss, g1, g2 := make([]float32, nl), make([]float32, 4*n), make([]float32, 4*n)
			err := boxLosses[names[which%4]](hostDev, losses.BoxArgs{Boxes1: losses.HostTensor(b1, n, 4),
				Boxes2: losses.HostTensor(b2, n, 4), Loss: losses.HostTensor(loss), GradBoxes1: losses.HostTensor(g1, n, 4),
				GradBoxes2: losses.HostTensor(g2, n, 4)}, losses.BoxLossOptions{Reduction: &r, Eps: &eps})
			return loss, g1, g2, err
		}
		l1, ga, gb, err := run()
		if err != nil {
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Fatalf("%v (want an *ArgError)", err)
			}
			return
		}
		l2, gc, gd, _ := run()
		for _, p := range [][2][]float32{{l1, l2}, {ga, gc}, {gb, gd}} {
			if !slices.Equal(bits(p[0]), bits(p[1])) {
				t.Fatal("two calls differ")
			}
		}
		ok := eps > 0 && boundedFinite(v[:8*n], 1e15)
		for i := 0; ok && i < 2*n; i++ {
			bx := v[4*i : 4*i+4]
			ok = bx[2] > bx[0] && bx[3] > bx[1]
		}
		if ok && !(boundedFinite(l1, math.MaxFloat32) && boundedFinite(ga, math.MaxFloat32) && boundedFinite(gb, math.MaxFloat32)) {
			t.Fatalf("non-finite results for positive boxes: loss %v grads %v %v", l1, ga, gb)
		}
	})
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// FuzzBoundaryLoss: any logits and distances, shape, activation and idc:
// no panic, an *ArgError or success, the same bits twice, and finite
// results for moderate inputs.
func FuzzBoundaryLoss(f *testing.F) {
	f.Add(byte(2), byte(3), byte(0), byte(0), byte(0), make([]byte, 96))
	f.Add(byte(1), byte(1), byte(1), byte(1), byte(3), []byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, nb, cb, act, red, idc byte, data []byte) {
		v := fuzzFloats(data)
		n, c := int(nb%4), int(cb%5)
		s := 0
		if n*c > 0 {
			s = len(v) / 2 / (n * c)
		}
		total := n * c * s
		x, dist := v[:total], v[total:2*total]
		o := losses.BoundaryLossOptions{Activation: []string{"softmax", "sigmoid", "none", "relu"}[act%4],
			Reduction: []losses.Reduction{losses.Mean, losses.Sum, losses.None, 9}[red%4]}
		if idc%3 == 1 {
			o.Idc = []int{int(idc/3) % 6}
		}
		nl := 1
		if o.Reduction == losses.None {
			nl = total
		}
		shape := []int{n, c, s}
		run := func() ([]float32, []float32, error) {
			loss, grad := make([]float32, nl), make([]float32, total)
			lt := losses.HostTensor(loss)
			if o.Reduction == losses.None {
				lt = losses.HostTensor(loss, shape...)
			}
			err := losses.BoundaryLoss(hostDev, losses.BoundaryLossArgs{Input: losses.HostTensor(x, shape...),
				DistMap: losses.HostTensor(dist, shape...), Loss: lt, GradInput: losses.HostTensor(grad, shape...)}, o)
			return loss, grad, err
		}
		l1, g1, err := run()
		if err != nil {
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Fatalf("%v (want an *ArgError)", err)
			}
			return
		}
		l2, g2, _ := run()
		if !slices.Equal(bits(l1), bits(l2)) || !slices.Equal(bits(g1), bits(g2)) {
			t.Fatal("two calls differ")
		}
		if total > 0 && boundedFinite(v[:2*total], 1e15) && !(boundedFinite(l1, math.MaxFloat32) && boundedFinite(g1, math.MaxFloat32)) {
			t.Fatalf("non-finite results for finite inputs: loss %v grad %v", l1, g1)
		}
	})
}
