package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// boundaryRef is the boundary loss written out: per element p·dist over
// the classes in idc (all when empty), reduced.
func boundaryRef(x, dist []float64, shape []int, o losses.BoundaryLossOptions) []float64 {
	n, c := shape[0], shape[1]
	s := len(x) / max(n*c, 1)
	use := make([]bool, c)
	for k := range use {
		use[k] = len(o.Idc) == 0
	}
	for _, k := range o.Idc {
		use[k] = true
	}
	per := make([]float64, len(x))
	for i := range n {
		for j := range s {
			p := make([]float64, c)
			z, m := 0.0, math.Inf(-1)
			for k := range c {
				m = math.Max(m, x[(i*c+k)*s+j])
			}
			for k := range c {
				v := x[(i*c+k)*s+j]
				switch o.Activation {
				case "", "softmax":
					p[k] = math.Exp(v - m)
					z += p[k]
				case "sigmoid":
					p[k] = 1 / (1 + math.Exp(-v))
				default:
					p[k] = v
				}
			}
			for k := range c {
				if o.Activation == "" || o.Activation == "softmax" {
					p[k] /= z
				}
				if use[k] {
					per[(i*c+k)*s+j] = p[k] * dist[(i*c+k)*s+j]
				}
			}
		}
	}
	cnt := 0
	for _, u := range use {
		if u {
			cnt++
		}
	}
	switch o.Reduction {
	case losses.None:
		return per
	case losses.Sum:
		return []float64{sumLoss(per)}
	}
	return []float64{sumLoss(per) / float64(n*s*cnt)}
}

func runBoundary(t *testing.T, x, dist []float64, shape []int, o losses.BoundaryLossOptions) (loss, grad []float64) {
	t.Helper()
	nl := 1
	if o.Reduction == losses.None {
		nl = len(x)
	}
	loss, grad = make([]float64, nl), make([]float64, len(x))
	lt := losses.HostTensor(loss)
	if o.Reduction == losses.None {
		lt = losses.HostTensor(loss, shape...)
	}
	require.NoError(t, losses.BoundaryLoss(hostDev, losses.BoundaryLossArgs{
		Input: losses.HostTensor(x, shape...), DistMap: losses.HostTensor(dist, shape...),
		Loss: lt, GradInput: losses.HostTensor(grad, shape...)}, o))
	return loss, grad
}

func TestBoundaryLossClosedForm(t *testing.T) {
	x, dist := []float64{0, 0}, []float64{-1, 3}
	loss, grad := runBoundary(t, x, dist, []int{1, 2, 1}, losses.BoundaryLossOptions{})
	require.InDelta(t, 0.5, loss[0], 1e-15)
	require.InDeltaSlice(t, []float64{-0.5, 0.5}, grad, 1e-15)
	loss, grad = runBoundary(t, x, dist, []int{1, 2, 1}, losses.BoundaryLossOptions{Idc: []int{1}})
	require.InDelta(t, 1.5, loss[0], 1e-15)
	require.InDeltaSlice(t, []float64{-0.75, 0.75}, grad, 1e-15)
	// sigmoid: p = 1/2 each, p(1−p) = 1/4; none: p = x.
	loss, grad = runBoundary(t, x, dist, []int{1, 2, 1}, losses.BoundaryLossOptions{Activation: "sigmoid", Reduction: losses.Sum})
	require.InDelta(t, 1.0, loss[0], 1e-15)
	require.InDeltaSlice(t, []float64{-0.25, 0.75}, grad, 1e-15)
	loss, grad = runBoundary(t, []float64{0.25, 0.75}, dist, []int{1, 2}, losses.BoundaryLossOptions{Activation: "none", Reduction: losses.None})
	require.InDeltaSlice(t, []float64{-0.25, 2.25}, loss, 1e-15)
	require.InDeltaSlice(t, []float64{-1, 3}, grad, 1e-15)
}

func boundaryShapes() [][]int {
	return [][]int{{2, 3, 5, 7}, {3, 1, 9}, {1, 2, 3, 4, 5}, {2, 4}, {1, 3, 257}}
}

func boundaryOptions() []losses.BoundaryLossOptions {
	return []losses.BoundaryLossOptions{
		{}, {Reduction: losses.Sum, Idc: []int{0}}, {Reduction: losses.None},
		{Activation: "sigmoid"}, {Activation: "none", Reduction: losses.Sum}, {Idc: []int{0}, Activation: "sigmoid", Reduction: losses.None},
	}
}

func TestBoundaryLossAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, sh := range boundaryShapes() {
		total := 1
		for _, d := range sh {
			total *= d
		}
		x, dist := randLogits(r, total, 3), randLogits(r, total, 5)
		for _, o := range boundaryOptions() {
			loss, _ := runBoundary(t, x, dist, sh, o)
			require.InDeltaSlice(t, boundaryRef(x, dist, sh, o), loss, 1e-12, "%v %+v", sh, o)
		}
	}
}

func TestBoundaryLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, sh := range [][]int{{2, 3, 2, 3}, {1, 1, 5}, {1, 2, 2, 2, 2}} {
		total := 1
		for _, d := range sh {
			total *= d
		}
		x, dist := randLogits(r, total, 2), randLogits(r, total, 4)
		for _, o := range boundaryOptions() {
			_, grad := runBoundary(t, x, dist, sh, o)
			fdCheck(t, x, grad, func(v []float64) float64 {
				return sumLoss(boundaryRef(v, dist, sh, o))
			})
		}
	}
}

func TestBoundaryLossFloat32AndInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	sh := []int{3, 4, 17, 19}
	total := 3 * 4 * 17 * 19
	x, dist := randLogits(r, total, 3), randLogits(r, total, 10)
	for _, o := range boundaryOptions() {
		want, wg := runBoundary(t, x, dist, sh, o)
		x32 := to32s(x)
		loss := make([]float32, len(want))
		lt := losses.HostTensor(loss)
		if o.Reduction == losses.None {
			lt = losses.HostTensor(loss, sh...)
		}
		require.NoError(t, losses.BoundaryLoss(hostDev, losses.BoundaryLossArgs{
			Input: losses.HostTensor(x32, sh...), DistMap: losses.HostTensor(to32s(dist), sh...),
			Loss: lt, GradInput: losses.HostTensor(x32, sh...)}, o))
		for i := range want {
			require.InDelta(t, want[i], float64(loss[i]), 1e-5*(1+math.Abs(want[i])))
		}
		for i := range wg {
			require.InDelta(t, wg[i], float64(x32[i]), 1e-6*(1+math.Abs(wg[i])))
		}
	}
}

func TestBoundaryLossEmpty(t *testing.T) {
	for _, sh := range [][]int{{0, 3, 4}, {2, 3, 0}, {2, 0, 5}} {
		mean, sum := []float64{0}, []float64{1}
		require.NoError(t, losses.BoundaryLoss(hostDev, losses.BoundaryLossArgs{Input: losses.HostTensor([]float64{}, sh...),
			DistMap: losses.HostTensor([]float64{}, sh...), Loss: losses.HostTensor(mean)}, losses.BoundaryLossOptions{}))
		require.True(t, math.IsNaN(mean[0]), "%v: the mean of nothing is NaN, got %v", sh, mean[0])
		require.NoError(t, losses.BoundaryLoss(hostDev, losses.BoundaryLossArgs{Input: losses.HostTensor([]float64{}, sh...),
			DistMap: losses.HostTensor([]float64{}, sh...), Loss: losses.HostTensor(sum)}, losses.BoundaryLossOptions{Reduction: losses.Sum}))
		require.Equal(t, 0.0, sum[0])
	}
}

func TestBoundaryLossErrors(t *testing.T) {
	x := make([]float64, 12)
	args := losses.BoundaryLossArgs{Input: losses.HostTensor(x, 1, 3, 4), DistMap: losses.HostTensor(x, 1, 3, 4),
		Loss: losses.HostTensor([]float64{0})}
	for _, c := range []struct {
		arg string
		a   losses.BoundaryLossArgs
		o   losses.BoundaryLossOptions
	}{
		{"idc", args, losses.BoundaryLossOptions{Idc: []int{3}}},
		{"idc", args, losses.BoundaryLossOptions{Idc: []int{1, 1}}},
		{"idc", args, losses.BoundaryLossOptions{Idc: []int{-1}}},
		{"activation", args, losses.BoundaryLossOptions{Activation: "tanh"}},
		{"reduction", args, losses.BoundaryLossOptions{Reduction: 9}},
		{"dist_map", losses.BoundaryLossArgs{Input: losses.HostTensor(x, 1, 3, 4), DistMap: losses.HostTensor(x, 1, 4, 3)}, losses.BoundaryLossOptions{}},
		{"input", losses.BoundaryLossArgs{Input: losses.HostTensor(x, 12), DistMap: losses.HostTensor(x, 12)}, losses.BoundaryLossOptions{}},
		{"loss", losses.BoundaryLossArgs{Input: losses.HostTensor(x, 1, 3, 4), DistMap: losses.HostTensor(x, 1, 3, 4),
			Loss: losses.HostTensor([]float64{0, 0})}, losses.BoundaryLossOptions{}},
		{"grad_input", losses.BoundaryLossArgs{Input: losses.HostTensor(x, 1, 3, 4), DistMap: losses.HostTensor(x, 1, 3, 4),
			GradInput: losses.HostTensor(x, 1, 12)}, losses.BoundaryLossOptions{}},
	} {
		err := losses.BoundaryLoss(hostDev, c.a, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
	}
}

// sdmBrute is the signed distance map by brute force: every pixel against
// every pixel of the other side.
func sdmBrute(lab []int32, spatial []int, classes int, spacing []float64) []float64 {
	vol := len(lab)
	coord := func(j int) []float64 {
		c := make([]float64, len(spatial))
		for a := len(spatial) - 1; a >= 0; a-- {
			c[a] = float64(j%spatial[a]) * spacing[a]
			j /= spatial[a]
		}
		return c
	}
	out := make([]float64, classes*vol)
	for k := range classes {
		in := 0
		for _, l := range lab {
			if int(l) == k {
				in++
			}
		}
		if in == 0 || in == vol {
			continue
		}
		for j := range vol {
			best := math.Inf(1)
			cj := coord(j)
			for q := range vol {
				if (lab[q] == int32(k)) == (lab[j] == int32(k)) {
					continue
				}
				cq, d := coord(q), 0.0
				for a := range cj {
					d += (cj[a] - cq[a]) * (cj[a] - cq[a])
				}
				best = math.Min(best, d)
			}
			if lab[j] == int32(k) {
				out[k*vol+j] = -(math.Sqrt(best) - 1)
			} else {
				out[k*vol+j] = math.Sqrt(best)
			}
		}
	}
	return out
}

func TestSignedDistanceMapBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct {
		spatial []int
		classes int
		spacing []float64
	}{
		{[]int{7, 9}, 3, nil}, {[]int{1, 13}, 2, nil}, {[]int{6, 5, 4}, 3, nil}, {[]int{8, 7}, 4, []float64{0.5, 2}},
		{[]int{4, 5, 6}, 2, []float64{1.5, 1, 0.25}}, {[]int{17}, 3, nil}, {[]int{3, 2, 2, 3}, 2, nil},
	} {
		vol := 1
		for _, d := range c.spatial {
			vol *= d
		}
		const n = 3
		lab := make([]int32, n*vol)
		for i := range lab {
			lab[i] = int32(r.IntN(c.classes - 1)) // the last class is absent
		}
		// image 1: blobs (a few labels of class 1 over class 0); image 2: all class 0 (a full class).
		for j := range vol {
			lab[vol+j] = 0
			if r.IntN(8) == 0 {
				lab[vol+j] = 1
			}
			lab[2*vol+j] = 0
		}
		shape := append([]int{n}, c.spatial...)
		got := make([]float64, n*c.classes*vol)
		require.NoError(t, losses.SignedDistanceMap(got, lab, shape, c.classes, c.spacing))
		sp := c.spacing
		if sp == nil {
			sp = make([]float64, len(c.spatial))
			for a := range sp {
				sp[a] = 1
			}
		}
		for i := range n {
			want := sdmBrute(lab[i*vol:(i+1)*vol], c.spatial, c.classes, sp)
			require.InDeltaSlice(t, want, got[i*c.classes*vol:(i+1)*c.classes*vol], 1e-12, "%v image %d", c.spatial, i)
		}
		// float32 output: the same values rounded.
		got32 := make([]float32, len(got))
		require.NoError(t, losses.SignedDistanceMap(got32, lab, shape, c.classes, c.spacing))
		for i := range got {
			require.Equal(t, float32(got[i]), got32[i])
		}
	}
}

func TestSignedDistanceMapConventions(t *testing.T) {
	// One row: class 1 on pixels 2..4 of 7.
	lab := []int32{0, 0, 1, 1, 1, 0, 0}
	got := make([]float64, 3*7)
	require.NoError(t, losses.SignedDistanceMap(got, lab, []int{1, 7}, 3, nil))
	require.Equal(t, []float64{-1, 0, 1, 2, 1, 0, -1}, got[:7], "class 0")
	require.Equal(t, []float64{2, 1, 0, -1, 0, 1, 2}, got[7:14], "class 1")
	require.Equal(t, make([]float64, 7), got[14:], "an absent class is zeros")
	full := make([]float64, 7)
	require.NoError(t, losses.SignedDistanceMap(full, make([]int32, 7), []int{1, 7}, 1, nil))
	require.Equal(t, make([]float64, 7), full, "a class filling the image is zeros")
	for _, c := range []struct {
		lab     []int32
		shape   []int
		classes int
		spacing []float64
		dst     int
	}{
		{[]int32{0, 3}, []int{1, 2}, 3, nil, 6},
		{[]int32{0, 1}, []int{1, 2}, 2, []float64{0}, 4},
		{[]int32{0, 1}, []int{1, 2}, 2, []float64{1, 1}, 4},
		{[]int32{0, 1}, []int{2}, 2, nil, 4},
		{[]int32{0, 1}, []int{1, 2}, 2, nil, 3},
		{[]int32{0, 1}, []int{1, 2}, 0, nil, 0},
	} {
		err := losses.SignedDistanceMap(make([]float64, c.dst), c.lab, c.shape, c.classes, c.spacing)
		require.ErrorIs(t, err, losses.ErrInvalidArgument, "%+v", c)
	}
}
