package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

type boxFn func(device.Device, losses.BoxArgs, losses.BoxLossOptions) error

// boxLosses are the four box losses behind one signature.
var boxLosses = map[string]boxFn{
	"box_iou_loss": func(d device.Device, a losses.BoxArgs, o losses.BoxLossOptions) error {
		return losses.BoxIoULoss(d, a, losses.BoxIoULossOptions{BoxLossOptions: o})
	},
	"generalized_box_iou_loss": func(d device.Device, a losses.BoxArgs, o losses.BoxLossOptions) error {
		return losses.GeneralizedBoxIoULoss(d, a, losses.GeneralizedBoxIoULossOptions{BoxLossOptions: o})
	},
	"distance_box_iou_loss": func(d device.Device, a losses.BoxArgs, o losses.BoxLossOptions) error {
		return losses.DistanceBoxIoULoss(d, a, losses.DistanceBoxIoULossOptions{BoxLossOptions: o})
	},
	"complete_box_iou_loss": func(d device.Device, a losses.BoxArgs, o losses.BoxLossOptions) error {
		return losses.CompleteBoxIoULoss(d, a, losses.CompleteBoxIoULossOptions{BoxLossOptions: o})
	},
}

// runBox runs loss name on the host in float64 with reduction red and
// returns the loss and both gradients.
func runBox(t *testing.T, name string, b1, b2 []float64, red losses.Reduction, eps *float64) (loss, g1, g2 []float64) {
	t.Helper()
	n := len(b1) / 4
	nl := 1
	if red == losses.None {
		nl = n
	}
	loss, g1, g2 = make([]float64, nl), make([]float64, 4*n), make([]float64, 4*n)
	err := boxLosses[name](hostDev, losses.BoxArgs{
		Boxes1: losses.HostTensor(b1, n, 4), Boxes2: losses.HostTensor(b2, n, 4),
		Loss: losses.HostTensor(loss), GradBoxes1: losses.HostTensor(g1, n, 4), GradBoxes2: losses.HostTensor(g2, n, 4),
	}, losses.BoxLossOptions{Reduction: losses.ReductionOpt(red), Eps: eps})
	require.NoError(t, err)
	return loss, g1, g2
}

func TestBoxLossesClosedForm(t *testing.T) {
	const eps = 1e-7
	k := 4 / (math.Pi * math.Pi)
	vAsp := k * math.Pow(math.Atan(0.5)-math.Atan(2), 2)
	cases := []struct {
		what   string
		b1, b2 []float64
		want   map[string]float64 // by loss; absent: the IoU loss's value
	}{
		{"identical", []float64{0, 0, 2, 2}, []float64{0, 0, 2, 2},
			map[string]float64{"box_iou_loss": eps / (4 + eps), "generalized_box_iou_loss": eps / (4 + eps),
				"distance_box_iou_loss": eps / (4 + eps), "complete_box_iou_loss": eps / (4 + eps)}},
		{"disjoint", []float64{0, 0, 1, 1}, []float64{2, 0, 3, 1},
			map[string]float64{"box_iou_loss": 1, "generalized_box_iou_loss": 1 + 1/(3+eps),
				"distance_box_iou_loss": 1 + 4/(10+eps), "complete_box_iou_loss": 1 + 4/(10+eps)}},
		{"overlap", []float64{0, 0, 2, 2}, []float64{1, 1, 3, 3},
			map[string]float64{"box_iou_loss": 1 - 1/(7+eps), "generalized_box_iou_loss": 1 - 1/(7+eps) + 2/(9+eps),
				"distance_box_iou_loss": 1 - 1/(7+eps) + 2/(18+eps), "complete_box_iou_loss": 1 - 1/(7+eps) + 2/(18+eps)}},
		{"aspect", []float64{0, 0, 2, 1}, []float64{0, 0, 1, 2},
			map[string]float64{"box_iou_loss": 1 - 1/(3+eps), "generalized_box_iou_loss": 1 - 1/(3+eps) + 1/(4+eps),
				"distance_box_iou_loss": 1 - 1/(3+eps) + 0.5/(8+eps),
				"complete_box_iou_loss": 1 - 1/(3+eps) + 0.5/(8+eps) + vAsp*vAsp/(1-1/(3+eps)+vAsp+eps)}},
		// x2 < x1: no check, the formulas as torchvision applies them (area -2, union 0).
		{"inverted", []float64{2, 0, 0, 1}, []float64{0, 0, 2, 1},
			map[string]float64{"box_iou_loss": 1, "generalized_box_iou_loss": 1 + 2/(2+eps),
				"distance_box_iou_loss": 1 + 0/(4+1+eps)}},
		// a zero-height box: finite, its aspect angle π/2.
		{"line", []float64{0, 0, 2, 0}, []float64{0, 0, 2, 2},
			map[string]float64{"box_iou_loss": 1, "generalized_box_iou_loss": 1,
				"distance_box_iou_loss": 1 + 1/(8+eps),
				"complete_box_iou_loss": 1 + 1/(8+eps) + 0.25*0.25/(1+0.25+eps)}},
		// a point on a point: eps keeps it finite (complete IoU: atan(0/0) is NaN, as in torchvision).
		{"points", []float64{1, 1, 1, 1}, []float64{1, 1, 1, 1},
			map[string]float64{"box_iou_loss": 1, "generalized_box_iou_loss": 1, "distance_box_iou_loss": 1,
				"complete_box_iou_loss": math.NaN()}},
	}
	for _, c := range cases {
		for name, want := range c.want {
			loss, g1, g2 := runBox(t, name, c.b1, c.b2, losses.None, nil)
			if math.IsNaN(want) {
				require.True(t, math.IsNaN(loss[0]), "%s %s: %v", c.what, name, loss[0])
				continue
			}
			require.InDelta(t, want, loss[0], 1e-12, "%s %s", c.what, name)
			for i := range 4 {
				require.False(t, math.IsNaN(g1[i]) || math.IsNaN(g2[i]), "%s %s: gradient %v %v", c.what, name, g1, g2)
			}
		}
	}
}

// randBoxes returns n pairs of boxes with positive sizes, overlapping or
// not, no coordinate of one pair equal to another (no ties).
func randBoxes(r *rand.Rand, n int) (b1, b2 []float64) {
	one := func() []float64 {
		x, y := r.Float64()*4, r.Float64()*4
		return []float64{x, y, x + 0.2 + r.Float64()*3, y + 0.2 + r.Float64()*3}
	}
	for range n {
		b1 = append(b1, one()...)
		b2 = append(b2, one()...)
	}
	return b1, b2
}

func TestBoxLossesReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	b1, b2 := randBoxes(r, 7)
	for name := range boxLosses {
		per, g1n, g2n := runBox(t, name, b1, b2, losses.None, nil)
		sum, g1s, _ := runBox(t, name, b1, b2, losses.Sum, nil)
		mean, g1m, g2m := runBox(t, name, b1, b2, losses.Mean, nil)
		require.InDelta(t, sumLoss(per), sum[0], 1e-12, name)
		require.InDelta(t, sumLoss(per)/7, mean[0], 1e-12, name)
		for i := range g1n {
			require.InDelta(t, g1n[i], g1s[i], 1e-15, name)
			require.InDelta(t, g1n[i]/7, g1m[i], 1e-15, name)
			require.InDelta(t, g2n[i]/7, g2m[i], 1e-15, name)
		}
		// The zero options: torchvision's reduction "none".
		loss := make([]float64, 7)
		require.NoError(t, boxLosses[name](hostDev, losses.BoxArgs{Boxes1: losses.HostTensor(b1, 7, 4),
			Boxes2: losses.HostTensor(b2, 7, 4), Loss: losses.HostTensor(loss, 7)}, losses.BoxLossOptions{}))
		require.Equal(t, per, loss, name)
		// No pairs: mean and sum are 0, as torchvision returns.
		for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
			out := []float64{math.NaN()}
			require.NoError(t, boxLosses[name](hostDev, losses.BoxArgs{Boxes1: losses.HostTensor([]float64{}, 0, 4),
				Boxes2: losses.HostTensor([]float64{}, 0, 4), Loss: losses.HostTensor(out)},
				losses.BoxLossOptions{Reduction: losses.ReductionOpt(red)}))
			require.Equal(t, 0.0, out[0], "%s %v", name, red)
		}
	}
}

// ciouAspect is complete IoU's v for one pair (boxes2 the target).
func ciouAspect(p, g []float64) float64 {
	d := math.Atan((g[2]-g[0])/(g[3]-g[1])) - math.Atan((p[2]-p[0])/(p[3]-p[1]))
	return 4 / (math.Pi * math.Pi) * d * d
}

func TestBoxLossesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b1, b2 := randBoxes(r, 9)
	// An enclosed pair and a pair sharing no edge value.
	b1 = append(b1, 0, 0, 4, 4)
	b2 = append(b2, 1, 1.5, 2, 3)
	n := len(b1) / 4
	eps := 1e-7
	for name := range boxLosses {
		_, g1, g2 := runBox(t, name, b1, b2, losses.Mean, &eps)
		f := func(name string) func(x1, x2 []float64) float64 {
			return func(x1, x2 []float64) float64 {
				l, _, _ := runBox(t, name, x1, x2, losses.Mean, &eps)
				return l[0]
			}
		}
		loss := f(name)
		if name == "complete_box_iou_loss" {
			// torchvision holds α = v / (1 − IoU + v + eps) constant in the
			// gradient: differentiate DIoU + α₀·v with α₀ at the point.
			per, _, _ := runBox(t, "box_iou_loss", b1, b2, losses.None, &eps)
			alpha := make([]float64, n)
			for i := range n {
				v := ciouAspect(b1[4*i:4*i+4], b2[4*i:4*i+4])
				alpha[i] = v / (per[i] + v + eps) // per = 1 − IoU
			}
			diou := f("distance_box_iou_loss")
			loss = func(x1, x2 []float64) float64 {
				s := diou(x1, x2)
				for i := range n {
					s += alpha[i] * ciouAspect(x1[4*i:4*i+4], x2[4*i:4*i+4]) / float64(n)
				}
				return s
			}
		}
		fdCheck(t, b1, g1, func(x []float64) float64 { return loss(x, b2) })
		fdCheck(t, b2, g2, func(x []float64) float64 { return loss(b1, x) })
	}
}

// At a tie the gradient of min and max is split evenly, as in PyTorch:
// identical boxes (every min and max tied) get equal gradients, as the
// losses are symmetric there; and every loss is unchanged by moving both
// boxes together, so the x and the y parts of the gradients cancel.
func TestBoxLossesTies(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	b1, b2 := randBoxes(r, 5)
	b := []float64{0, 0, 2, 3}
	b1, b2 = append(b1, b...), append(b2, b...)
	for name := range boxLosses {
		_, g1, g2 := runBox(t, name, b1, b2, losses.None, nil)
		for i := range 4 {
			require.Equal(t, g1[20+i], g2[20+i], "%s %v %v", name, g1[20:], g2[20:])
		}
		for i := range 6 {
			sx := g1[4*i] + g1[4*i+2] + g2[4*i] + g2[4*i+2]
			sy := g1[4*i+1] + g1[4*i+3] + g2[4*i+1] + g2[4*i+3]
			require.InDelta(t, 0, sx, 1e-12, "%s box %d", name, i)
			require.InDelta(t, 0, sy, 1e-12, "%s box %d", name, i)
		}
	}
}

func TestBoxLossesFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	b1, b2 := randBoxes(r, 300)
	for name := range boxLosses {
		want, w1, w2 := runBox(t, name, b1, b2, losses.Mean, nil)
		loss, g1, g2 := []float32{0}, make([]float32, len(b1)), make([]float32, len(b1))
		require.NoError(t, boxLosses[name](hostDev, losses.BoxArgs{
			Boxes1: losses.HostTensor(to32s(b1), 300, 4), Boxes2: losses.HostTensor(to32s(b2), 300, 4),
			Loss: losses.HostTensor(loss), GradBoxes1: losses.HostTensor(g1, 300, 4), GradBoxes2: losses.HostTensor(g2, 300, 4),
		}, losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}))
		require.InDelta(t, want[0], float64(loss[0]), 1e-6, name)
		for i := range g1 {
			require.InDelta(t, w1[i], float64(g1[i]), 1e-6, name)
			require.InDelta(t, w2[i], float64(g2[i]), 1e-6, name)
		}
	}
}

func TestBoxLossesErrors(t *testing.T) {
	d := hostDev
	b := make([]float64, 8)
	loss := make([]float64, 2)
	neg := -1.0
	bad := losses.Reduction(7)
	for _, c := range []struct {
		arg string
		a   losses.BoxArgs
		o   losses.BoxLossOptions
	}{
		{"boxes1", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 3), Boxes2: losses.HostTensor(b, 2, 4)}, losses.BoxLossOptions{}},
		{"boxes2", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(b, 1, 4)}, losses.BoxLossOptions{}},
		{"boxes2", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4)}, losses.BoxLossOptions{}},
		{"loss", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(b, 2, 4),
			Loss: losses.HostTensor(loss, 2)}, losses.BoxLossOptions{Reduction: losses.ReductionOpt(losses.Mean)}},
		{"grad_boxes2", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(b, 2, 4),
			GradBoxes2: losses.HostTensor(make([]float64, 4), 1, 4)}, losses.BoxLossOptions{}},
		{"eps", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(b, 2, 4)}, losses.BoxLossOptions{Eps: &neg}},
		{"reduction", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(b, 2, 4)},
			losses.BoxLossOptions{Reduction: &bad}},
		{"boxes2", losses.BoxArgs{Boxes1: losses.HostTensor(b, 2, 4), Boxes2: losses.HostTensor(make([]float32, 8), 2, 4),
			Loss: losses.HostTensor(loss, 2)}, losses.BoxLossOptions{}},
	} {
		for name, fn := range boxLosses {
			err := fn(d, c.a, c.o)
			var ae *losses.ArgError
			require.True(t, errors.As(err, &ae), "%s %s: %v", name, c.arg, err)
			require.Equal(t, c.arg, ae.Arg, "%s: %v", name, err)
			require.Equal(t, name, ae.Loss)
		}
	}
}

func TestBoxLossOptionsJSON(t *testing.T) {
	d, ok := losses.Lookup("generalized_box_iou_loss")
	require.True(t, ok)
	o, err := d.DecodeOptions([]byte(`{"reduction": "sum", "eps": 1e-6}`))
	require.NoError(t, err)
	opt := o.(*losses.GeneralizedBoxIoULossOptions)
	require.Equal(t, losses.Sum, *opt.Reduction)
	require.Equal(t, 1e-6, *opt.Eps)
	o, err = d.DecodeOptions([]byte(`{}`))
	require.NoError(t, err)
	require.Nil(t, o.(*losses.GeneralizedBoxIoULossOptions).Reduction)
}
