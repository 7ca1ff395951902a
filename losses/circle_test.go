package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

func runCircle(t *testing.T, x []float64, lab []int32, d int, o losses.CircleLossOptions) (float64, []float64) {
	t.Helper()
	b := len(lab)
	loss, grad := make([]float64, 1), make([]float64, len(x))
	require.NoError(t, losses.CircleLoss(hostDev, losses.MiningArgs{Embeddings: losses.HostTensor(x, b, d),
		Labels: losses.HostTensor(lab, b), Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(grad, b, d)}, o))
	return loss[0], grad
}

// circleRef is Keras' circle formula, pair by pair, on normalised rows;
// with frozen != nil the weights α are taken from it (index i*b+j) instead
// of from x (the constant weights of the gradient).
func circleRef(x []float64, lab []int32, d int, gamma, m float64, frozen []float64) (float64, []float64) {
	b := len(lab)
	u := make([]float64, len(x))
	for i := range b {
		n := 0.0
		for k := range d {
			n += x[i*d+k] * x[i*d+k]
		}
		n = max(math.Sqrt(n), 1e-12)
		for k := range d {
			u[i*d+k] = x[i*d+k] / n
		}
	}
	w := make([]float64, b*b)
	sum, cnt := 0.0, 0.0
	for i := range b {
		var pz, nz []float64
		for j := range b {
			s := 0.0
			for k := range d {
				s += u[i*d+k] * u[j*d+k]
			}
			dist := max(1-s, 0)
			if lab[j] == lab[i] && j != i {
				w[i*b+j] = max(m+dist, 0)
			} else if lab[j] != lab[i] {
				w[i*b+j] = max(1+m-dist, 0)
			}
			wij := w[i*b+j]
			if frozen != nil {
				wij = frozen[i*b+j]
			}
			if lab[j] == lab[i] && j != i {
				pz = append(pz, -gamma*wij*(m-dist))
			} else if lab[j] != lab[i] {
				nz = append(nz, gamma*wij*(1-m-dist))
			}
		}
		if len(pz) == 0 || len(nz) == 0 {
			continue
		}
		lse := func(v []float64) float64 {
			mx := math.Inf(-1)
			for _, e := range v {
				mx = max(mx, e)
			}
			s := 0.0
			for _, e := range v {
				s += math.Exp(e - mx)
			}
			return mx + math.Log(s)
		}
		z := lse(pz) + lse(nz)
		sum += max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
		cnt++
	}
	if cnt == 0 {
		return 0, w
	}
	return sum / cnt, w
}

func TestCircleLossBruteForceAndFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, sh := range []struct{ b, d, classes int }{{4, 3, 2}, {9, 5, 3}, {12, 2, 4}} {
		x, lab := mineRand(r, sh.b, sh.d, sh.classes)
		for _, gm := range [][2]float64{{80, 0.4}, {4, 0.25}} {
			o := losses.CircleLossOptions{Gamma: &gm[0], Margin: &gm[1]}
			loss, grad := runCircle(t, x, lab, sh.d, o)
			want, w := circleRef(x, lab, sh.d, gm[0], gm[1], nil)
			require.InDelta(t, want, loss, 1e-10*(1+want))
			fdCheck(t, x, grad, func(x []float64) float64 {
				l, _ := circleRef(x, lab, sh.d, gm[0], gm[1], w)
				return l
			})
		}
	}
}

// Rows without a positive or a negative: loss 0 and no gradient; the
// mean over the other rows.
func TestCircleLossEdges(t *testing.T) {
	x := []float64{1, 0, 0, 1, 1, 1, -1, 0.5}
	loss, grad := runCircle(t, x, []int32{0, 1, 2, 3}, 2, losses.CircleLossOptions{})
	require.Equal(t, 0.0, loss)
	require.Equal(t, make([]float64, 8), grad)
	loss, _ = runCircle(t, x, []int32{0, 0, 0, 0}, 2, losses.CircleLossOptions{})
	require.Equal(t, 0.0, loss)
	lab := []int32{0, 0, 1, 2}
	loss, _ = runCircle(t, x, lab, 2, losses.CircleLossOptions{})
	want, _ := circleRef(x, lab, 2, 80, 0.4, nil)
	require.InDelta(t, want, loss, 1e-12)
	// Two rows, one pair each way: softplus(γ(m + d)(d − m) + γ... ) by hand
	// for d = 1 (orthogonal rows of labels 0, 0 and a row of label 1 at d = 0).
	x = []float64{1, 0, 0, 1, 1, 0}
	g, m := 2.0, 0.4
	loss, _ = runCircle(t, x, []int32{0, 0, 1}, 2, losses.CircleLossOptions{Gamma: &g, Margin: &m})
	// Row 0: positive row 1 at d = 1: −2·1.4·(0.4 − 1) = 1.68; negative row 2
	// at d = 0: 2·1.4·0.6 = 1.68. Row 1: positive row 0 (1.68), negative row
	// 2 at d = 1: 2·0.4·(−0.4) = −0.32. Row 2: no positive.
	sp := func(v float64) float64 { return math.Log1p(math.Exp(v)) }
	require.InDelta(t, (sp(1.68+1.68)+sp(1.68-0.32))/2, loss, 1e-12)
}

func TestCircleLossErrors(t *testing.T) {
	x := make([]float64, 12)
	nan := math.NaN()
	for _, c := range []struct {
		arg string
		a   losses.MiningArgs
		o   losses.CircleLossOptions
	}{
		{"labels", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor([]int32{0}, 1)}, losses.CircleLossOptions{}},
		{"gamma", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor([]int32{0, 1, 0}, 3)}, losses.CircleLossOptions{Gamma: &nan}},
		{"margin", losses.MiningArgs{Embeddings: losses.HostTensor(x, 3, 4), Labels: losses.HostTensor([]int32{0, 1, 0}, 3)}, losses.CircleLossOptions{Margin: &nan}},
		{"embeddings", losses.MiningArgs{Embeddings: losses.HostTensor(x, 12), Labels: losses.HostTensor([]int32{0, 1, 0}, 3)}, losses.CircleLossOptions{}},
	} {
		err := losses.CircleLoss(hostDev, c.a, c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
	}
}
