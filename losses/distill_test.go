package losses_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// dstSoftmax is softmax(x/tau) of one row, written here independently of
// the package (max subtracted).
func dstSoftmax(x []float64, tau float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v/tau)
	}
	var s float64
	p := make([]float64, len(x))
	for k, v := range x {
		p[k] = math.Exp(v/tau - m)
		s += p[k]
	}
	for k := range p {
		p[k] /= s
	}
	return p
}

// dstKL is KL(p‖q) = Σ p log(p/q), a term with p = 0 counting 0.
func dstKL(p, q []float64) float64 {
	var s float64
	for k := range p {
		if p[k] > 0 {
			s += p[k] * math.Log(p[k]/q[k])
		}
	}
	return s
}

// jsdRef is the generalised JSD of one row from its definition: KL(P‖Q)
// at β = 0, KL(Q‖P) at β = 1, else β KL(P‖M) + (1−β) KL(Q‖M),
// M = β P + (1−β) Q, with Q the student's and P the teacher's softmax.
func jsdRef(x, y []float64, beta, tau float64) float64 {
	q, p := dstSoftmax(x, tau), dstSoftmax(y, tau)
	switch beta {
	case 0:
		return dstKL(p, q)
	case 1:
		return dstKL(q, p)
	}
	m := make([]float64, len(p))
	for k := range m {
		m[k] = beta*p[k] + (1-beta)*q[k]
	}
	return beta*dstKL(p, m) + (1-beta)*dstKL(q, m)
}

type jsdOut struct{ loss, gi, gt []float64 }

// runJSD runs jsd_loss on the host in float64 over [n, c] rows.
func runJSD(t *testing.T, x, y []float64, labels []int32, n, c int, o losses.JSDLossOptions) jsdOut {
	t.Helper()
	nl := 1
	if o.Reduction == losses.None {
		nl = n
	}
	r := jsdOut{make([]float64, nl), make([]float64, n*c), make([]float64, n*c)}
	a := losses.JSDArgs{Input: losses.HostTensor(x, n, c), Target: losses.HostTensor(y, n, c),
		Loss: losses.HostTensor(r.loss), GradInput: losses.HostTensor(r.gi, n, c), GradTarget: losses.HostTensor(r.gt, n, c)}
	if labels != nil {
		a.Labels = losses.HostTensor(labels, n)
	}
	require.NoError(t, losses.JSDLoss(hostDev, a, o))
	return r
}

func TestJSDLossClosedForms(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, c := 3, 5
	x, y := randLogits(r, n*c, 2), randLogits(r, n*c, 2)
	for _, beta := range []float64{0, 0.25, 0.5, 1} {
		for _, tau := range []float64{1, 2.5} {
			res := runJSD(t, x, y, nil, n, c, losses.JSDLossOptions{Beta: losses.Value(beta), Temperature: losses.Value(tau),
				Reduction: losses.None})
			for i := range n {
				want := jsdRef(x[i*c:(i+1)*c], y[i*c:(i+1)*c], beta, tau)
				require.InDelta(t, want, res.loss[i], 1e-13, "beta %v tau %v row %d", beta, tau, i)
				if beta == 0.5 {
					require.LessOrEqual(t, res.loss[i], math.Ln2)
				}
			}
		}
	}
	// Identical rows: every divergence is 0 and so is every gradient.
	res := runJSD(t, x, x, nil, n, c, losses.JSDLossOptions{})
	require.InDelta(t, 0, res.loss[0], 1e-15)
	for k := range res.gi {
		require.InDelta(t, 0, res.gi[k], 1e-15)
		require.InDelta(t, 0, res.gt[k], 1e-15)
	}
}

// Saturated logits (±1e4): the student puts all its mass on class 0, the
// teacher on class 1. JSD(β = ½) is then log 2 exactly, KL(P‖Q) = 2·10⁴
// (log Q_1 = −2·10⁴), and the gradients are finite; in float32 too.
func TestJSDLossSaturated(t *testing.T) {
	x := []float64{1e4, -1e4}
	y := []float64{-1e4, 1e4}
	for _, f32 := range []bool{false, true} {
		for _, c := range []struct {
			beta, want float64
			gi0        float64 // d/dx_0 at the mean of one row
		}{
			{0.5, math.Ln2, 0}, {0, 2e4, 1}, {1, 2e4, 0},
		} {
			o := losses.JSDLossOptions{Beta: losses.Value(c.beta)}
			var loss, gi []float64
			if f32 {
				l, g := make([]float32, 1), make([]float32, 2)
				require.NoError(t, losses.JSDLoss(hostDev, losses.JSDArgs{Input: losses.HostTensor([]float32{1e4, -1e4}, 1, 2),
					Target: losses.HostTensor([]float32{-1e4, 1e4}, 1, 2), Loss: losses.HostTensor(l), GradInput: losses.HostTensor(g, 1, 2)}, o))
				loss, gi = []float64{float64(l[0])}, []float64{float64(g[0]), float64(g[1])}
			} else {
				res := runJSD(t, x, y, nil, 1, 2, o)
				loss, gi = res.loss, res.gi
			}
			require.InDelta(t, c.want, loss[0], 1e-6*c.want, "f32 %v beta %v", f32, c.beta)
			// β = 0: Q − P = (1, −1); β = ½: Q (X − log M − B) = 0 where Q is 1
			// (X − log M = log 2 = B) and 0 elsewhere; β = 1: Q((X−Y) − KL) = 0.
			require.InDelta(t, c.gi0, gi[0], 1e-6, "f32 %v beta %v", f32, c.beta)
			require.InDelta(t, -c.gi0, gi[1], 1e-6, "f32 %v beta %v", f32, c.beta)
		}
	}
}

func TestJSDLossLabelsAndReductions(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n, c := 4, 6
	x, y := randLogits(r, n*c, 1.5), randLogits(r, n*c, 1.5)
	labels := []int32{3, -100, 0, -100}
	none := runJSD(t, x, y, labels, n, c, losses.JSDLossOptions{Reduction: losses.None})
	require.Equal(t, 0.0, none.loss[1])
	require.Equal(t, 0.0, none.loss[3])
	want := jsdRef(x[0:c], y[0:c], 0.5, 1) + jsdRef(x[2*c:3*c], y[2*c:3*c], 0.5, 1)
	require.InDelta(t, want, none.loss[0]+none.loss[2], 1e-13)
	for k := c; k < 2*c; k++ {
		require.Equal(t, 0.0, none.gi[k])
		require.Equal(t, 0.0, none.gt[k])
	}
	mean := runJSD(t, x, y, labels, n, c, losses.JSDLossOptions{})
	require.InDelta(t, want/2, mean.loss[0], 1e-13) // two rows not ignored
	sum := runJSD(t, x, y, labels, n, c, losses.JSDLossOptions{Reduction: losses.Sum})
	require.InDelta(t, want, sum.loss[0], 1e-13)
	for k := range sum.gi {
		require.InDelta(t, sum.gi[k]/2, mean.gi[k], 1e-15)
	}
	// ignore_index of one's own.
	other := runJSD(t, x, y, labels, n, c, losses.JSDLossOptions{IgnoreIndex: losses.Index(3), Reduction: losses.Sum})
	require.InDelta(t, want-jsdRef(x[0:c], y[0:c], 0.5, 1)+jsdRef(x[c:2*c], y[c:2*c], 0.5, 1)+
		jsdRef(x[3*c:], y[3*c:], 0.5, 1), other.loss[0], 1e-13)
	// Every row ignored: the mean is NaN (0/0), the gradients 0.
	all := runJSD(t, x, y, []int32{-100, -100, -100, -100}, n, c, losses.JSDLossOptions{})
	require.True(t, math.IsNaN(all.loss[0]))
	for k := range all.gi {
		require.Equal(t, 0.0, all.gi[k])
	}
	// No rows: NaN mean, 0 sum.
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
		l := []float64{7}
		require.NoError(t, losses.JSDLoss(hostDev, losses.JSDArgs{Input: losses.HostTensor([]float64{}, 0, 3),
			Target: losses.HostTensor([]float64{}, 0, 3), Loss: losses.HostTensor(l)}, losses.JSDLossOptions{Reduction: red}))
		if red == losses.Mean {
			require.True(t, math.IsNaN(l[0]))
		} else {
			require.Equal(t, 0.0, l[0])
		}
	}
}

func TestJSDLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	n, c := 3, 5
	for _, beta := range []float64{0, 0.3, 0.5, 1} {
		for _, tau := range []float64{1, 2.5} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				for _, labels := range [][]int32{nil, {1, -100, 4}} {
					t.Run(fmt.Sprintf("beta=%v/tau=%v/%v/labels=%v", beta, tau, red, labels != nil), func(t *testing.T) {
						x, y := randLogits(r, n*c, 1.5), randLogits(r, n*c, 1.5)
						o := losses.JSDLossOptions{Beta: losses.Value(beta), Temperature: losses.Value(tau), Reduction: red}
						res := runJSD(t, x, y, labels, n, c, o)
						fdCheck(t, x, res.gi, func(v []float64) float64 { return sumLoss(runJSD(t, v, y, labels, n, c, o).loss) })
						fdCheck(t, y, res.gt, func(v []float64) float64 { return sumLoss(runJSD(t, x, v, labels, n, c, o).loss) })
					})
				}
			}
		}
	}
}

func TestJSDLossErrors(t *testing.T) {
	x := make([]float64, 6)
	sentinel := func() []float64 { return []float64{42} }
	for _, c := range []struct {
		arg string
		a   func(loss []float64) losses.JSDArgs
		o   losses.JSDLossOptions
	}{
		{"target", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 3, 2), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{}},
		{"labels", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3),
				Labels: losses.HostTensor([]int32{1, 2, 3}, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{}},
		{"temperature", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{Temperature: losses.Value(0)}},
		{"temperature", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{Temperature: losses.Value(-1)}},
		{"beta", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{Beta: losses.Value(1.5)}},
		{"beta", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{Beta: losses.Value(math.NaN())}},
		{"input", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 6, 0), Target: losses.HostTensor(x, 6, 0), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{}},
		{"grad_input", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l),
				GradInput: losses.HostTensor(make([]float64, 3), 1, 3)}
		}, losses.JSDLossOptions{}},
		{"reduction", func(l []float64) losses.JSDArgs {
			return losses.JSDArgs{Input: losses.HostTensor(x, 2, 3), Target: losses.HostTensor(x, 2, 3), Loss: losses.HostTensor(l)}
		}, losses.JSDLossOptions{Reduction: losses.BatchMean}},
	} {
		l := sentinel()
		err := losses.JSDLoss(hostDev, c.a(l), c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
		require.Equal(t, "jsd_loss", ae.Loss)
		require.Equal(t, 42.0, l[0], "%s: the loss was written", c.arg)
	}
}

// seqRef is sequence_log_probs from its definition: per sequence the sum
// (or mean) of log_softmax(x[b,t,:])[target] over the counted tokens.
func seqRef(x []float64, tg, mask []int32, b, tl, v int, avg bool, ign int32) []float64 {
	out := make([]float64, b)
	for s := range b {
		var sum, cnt float64
		for j := range tl {
			r := s*tl + j
			if tg[r] == ign || (mask != nil && mask[r] == 0) {
				continue
			}
			p := dstSoftmax(x[r*v:(r+1)*v], 1)
			sum += math.Log(p[tg[r]])
			cnt++
		}
		if avg {
			sum /= cnt
		}
		out[s] = sum
	}
	return out
}

func runSeq(t *testing.T, x []float64, tg, mask []int32, gout []float64, b, tl, v int, o losses.SequenceLogProbsOptions) (out, grad []float64) {
	t.Helper()
	out, grad = make([]float64, b), make([]float64, b*tl*v)
	a := losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, b, tl, v), Target: losses.HostTensor(tg, b, tl),
		Output: losses.HostTensor(out, b), GradInput: losses.HostTensor(grad, b, tl, v)}
	if mask != nil {
		a.Mask = losses.HostTensor(mask, b, tl)
	}
	if gout != nil {
		a.GradOutput = losses.HostTensor(gout, b)
	}
	require.NoError(t, losses.SequenceLogProbs(hostDev, a, o))
	return out, grad
}

func TestSequenceLogProbsClosedForm(t *testing.T) {
	// V = 2, logits (0, log 3): p = (1/4, 3/4).
	l3 := math.Log(3)
	x := []float64{0, l3, 0, l3, l3, 0, 0, 0}
	tg := []int32{1, 0, 1, -100} // sequence 0: tokens 0, 1; sequence 1: token 2 (token 3 ignored)
	out, grad := runSeq(t, x, tg, nil, nil, 2, 2, 2, losses.SequenceLogProbsOptions{})
	require.InDelta(t, math.Log(0.75)+math.Log(0.25), out[0], 1e-15)
	require.InDelta(t, math.Log(0.25), out[1], 1e-15)
	// d/dx = onehot − p.
	wantG := []float64{-0.25, 0.25, 0.75, -0.75, -0.75, 0.75, 0, 0}
	for k := range wantG {
		require.InDelta(t, wantG[k], grad[k], 1e-15, "k=%d", k)
	}
	out, grad = runSeq(t, x, tg, []int32{1, 0, 1, 1}, []float64{2, -1}, 2, 2, 2, losses.SequenceLogProbsOptions{AverageLogProb: true})
	require.InDelta(t, math.Log(0.75), out[0], 1e-15)
	require.InDelta(t, math.Log(0.25), out[1], 1e-15)
	wantG = []float64{-0.5, 0.5, 0, 0, 0.75, -0.75, 0, 0}
	for k := range wantG {
		require.InDelta(t, wantG[k], grad[k], 1e-15, "k=%d", k)
	}
	// A sequence with no counted token: its mean is NaN (0/0, TRL's), its sum 0.
	out, _ = runSeq(t, x, []int32{-100, -100, 1, 0}, nil, nil, 2, 2, 2, losses.SequenceLogProbsOptions{AverageLogProb: true})
	require.True(t, math.IsNaN(out[0]))
	out, _ = runSeq(t, x, []int32{-100, -100, 1, 0}, nil, nil, 2, 2, 2, losses.SequenceLogProbsOptions{})
	require.Equal(t, 0.0, out[0])
}

func TestSequenceLogProbsFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	b, tl, v := 2, 3, 5
	tg := []int32{0, 4, -100, 2, 2, 1}
	for _, avg := range []bool{false, true} {
		for _, mask := range [][]int32{nil, {1, 0, 1, 1, 1, 0}} {
			for _, gout := range [][]float64{nil, {0.7, -1.3}} {
				t.Run(fmt.Sprintf("avg=%v/mask=%v/gout=%v", avg, mask != nil, gout != nil), func(t *testing.T) {
					x := randLogits(r, b*tl*v, 2)
					o := losses.SequenceLogProbsOptions{AverageLogProb: avg}
					out, grad := runSeq(t, x, tg, mask, gout, b, tl, v, o)
					want := seqRef(x, tg, mask, b, tl, v, avg, -100)
					for s := range b {
						require.InDelta(t, want[s], out[s], 1e-13)
					}
					fdCheck(t, x, grad, func(xv []float64) float64 {
						o, _ := runSeq(t, xv, tg, mask, nil, b, tl, v, o)
						var s float64
						for i := range o {
							g := 1.0
							if gout != nil {
								g = gout[i]
							}
							s += g * o[i]
						}
						return s
					})
				})
			}
		}
	}
}

func TestSequenceLogProbsErrors(t *testing.T) {
	x := make([]float64, 2*3*4)
	for _, c := range []struct {
		arg string
		a   func(out []float64) losses.SequenceLogProbsArgs
	}{
		{"target", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor([]int32{0, 1, 4, 0, 0, 0}, 2, 3),
				Output: losses.HostTensor(o, 2)}
		}},
		{"target", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor([]int32{0, 1, -1, 0, 0, 0}, 2, 3),
				Output: losses.HostTensor(o, 2)}
		}},
		{"target", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(make([]int32, 6), 3, 2),
				Output: losses.HostTensor(o, 2)}
		}},
		{"input", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 6, 4), Target: losses.HostTensor(make([]int32, 6), 2, 3),
				Output: losses.HostTensor(o, 2)}
		}},
		{"mask", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(make([]int32, 6), 2, 3),
				Mask: losses.HostTensor(make([]int32, 3), 3), Output: losses.HostTensor(o, 2)}
		}},
		{"grad_output", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(make([]int32, 6), 2, 3),
				GradOutput: losses.HostTensor(make([]float64, 3), 3), Output: losses.HostTensor(o, 2)}
		}},
		{"output", func(o []float64) losses.SequenceLogProbsArgs {
			return losses.SequenceLogProbsArgs{Input: losses.HostTensor(x, 2, 3, 4), Target: losses.HostTensor(make([]int32, 6), 2, 3),
				Output: losses.HostTensor(o[:1], 1)}
		}},
	} {
		o := []float64{42, 42}
		err := losses.SequenceLogProbs(hostDev, c.a(o), losses.SequenceLogProbsOptions{})
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
		require.Equal(t, []float64{42, 42}, o, "%s: the output was written", c.arg)
	}
}

type dpoOut struct{ loss, cr, rr, gc, gr []float64 }

func runDPO(t *testing.T, pc, pr, rc, rr []float64, o losses.DPOLossOptions) dpoOut {
	t.Helper()
	n := len(pc)
	nl := 1
	if o.Reduction == losses.None {
		nl = n
	}
	r := dpoOut{make([]float64, nl), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)}
	require.NoError(t, losses.DPOLoss(hostDev, losses.DPOArgs{PolicyChosenLogps: losses.HostTensor(pc), PolicyRejectedLogps: losses.HostTensor(pr),
		ReferenceChosenLogps: losses.HostTensor(rc), ReferenceRejectedLogps: losses.HostTensor(rr), Loss: losses.HostTensor(r.loss),
		ChosenRewards: losses.HostTensor(r.cr), RejectedRewards: losses.HostTensor(r.rr),
		GradPolicyChosenLogps: losses.HostTensor(r.gc), GradPolicyRejectedLogps: losses.HostTensor(r.gr)}, o))
	return r
}

func TestDPOLossClosedForms(t *testing.T) {
	pc, pr := []float64{-3, -10, -2}, []float64{-5, -4, -2}
	rc, rr := []float64{-4, -9, -1}, []float64{-4, -6, -3}
	// margins h = (pc − pr) − (rc − rr): 2 − 0 = 2, −6 − (−3) = −3, 0 − 2 = −2
	h := []float64{2, -3, -2}
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	beta := 0.5
	for _, c := range []struct {
		typ string
		ls  float64
		f   func(h float64) float64
	}{
		{"sigmoid", 0, func(h float64) float64 { return -math.Log(sig(beta * h)) }},
		{"sigmoid", 0.2, func(h float64) float64 { return -0.8*math.Log(sig(beta*h)) - 0.2*math.Log(sig(-beta*h)) }},
		{"hinge", 0, func(h float64) float64 { return math.Max(0, 1-beta*h) }},
		{"ipo", 0, func(h float64) float64 { return (h - 1/(2*beta)) * (h - 1/(2*beta)) }},
	} {
		res := runDPO(t, pc, pr, rc, rr, losses.DPOLossOptions{Beta: losses.Value(beta), LossType: c.typ, LabelSmoothing: c.ls, Reduction: losses.None})
		var mean float64
		for i := range h {
			require.InDelta(t, c.f(h[i]), res.loss[i], 1e-14, "%s ls=%v pair %d", c.typ, c.ls, i)
			mean += c.f(h[i]) / 3
			require.InDelta(t, beta*(pc[i]-rc[i]), res.cr[i], 1e-15)
			require.InDelta(t, beta*(pr[i]-rr[i]), res.rr[i], 1e-15)
			require.Equal(t, -res.gc[i], res.gr[i])
		}
		m := runDPO(t, pc, pr, rc, rr, losses.DPOLossOptions{Beta: losses.Value(beta), LossType: c.typ, LabelSmoothing: c.ls})
		require.InDelta(t, mean, m.loss[0], 1e-14)
	}
	// Default beta 0.1, sigmoid: −log σ(0.2) at h = 2.
	res := runDPO(t, pc[:1], pr[:1], rc[:1], rr[:1], losses.DPOLossOptions{})
	require.InDelta(t, -math.Log(sig(0.2)), res.loss[0], 1e-15)
	// Large margins stay finite: softplus(−1e4) ≈ 0, softplus(1e4) = 1e4.
	big := runDPO(t, []float64{0, 0}, []float64{-1e5, 1e5}, []float64{0, 0}, []float64{0, 0},
		losses.DPOLossOptions{Reduction: losses.None})
	require.InDelta(t, 0, big.loss[0], 1e-300)
	require.InDelta(t, 1e4, big.loss[1], 1e-9)
	require.InDelta(t, 0, big.gc[0], 1e-300)
	require.InDelta(t, -0.1, big.gc[1], 1e-15)
	// No pairs: NaN mean.
	l := []float64{7}
	require.NoError(t, losses.DPOLoss(hostDev, losses.DPOArgs{PolicyChosenLogps: losses.HostTensor([]float64{}),
		PolicyRejectedLogps: losses.HostTensor([]float64{}), ReferenceChosenLogps: losses.HostTensor([]float64{}),
		ReferenceRejectedLogps: losses.HostTensor([]float64{}), Loss: losses.HostTensor(l)}, losses.DPOLossOptions{}))
	require.True(t, math.IsNaN(l[0]))
}

func TestDPOLossFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n := 6
	for _, typ := range []string{"sigmoid", "hinge", "ipo"} {
		for _, ls := range []float64{0, 0.1} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				t.Run(fmt.Sprintf("%s/ls=%v/%v", typ, ls, red), func(t *testing.T) {
					pc, pr, rc, rr := randLogits(r, n, 3), randLogits(r, n, 3), randLogits(r, n, 3), randLogits(r, n, 3)
					o := losses.DPOLossOptions{Beta: losses.Value(0.7), LossType: typ, LabelSmoothing: ls, Reduction: red}
					res := runDPO(t, pc, pr, rc, rr, o)
					fdCheck(t, pc, res.gc, func(v []float64) float64 { return sumLoss(runDPO(t, v, pr, rc, rr, o).loss) })
					fdCheck(t, pr, res.gr, func(v []float64) float64 { return sumLoss(runDPO(t, pc, v, rc, rr, o).loss) })
				})
			}
		}
	}
}

func TestDPOLossErrors(t *testing.T) {
	v := []float64{1, 2}
	a := func(l []float64, pr []float64) losses.DPOArgs {
		return losses.DPOArgs{PolicyChosenLogps: losses.HostTensor(v), PolicyRejectedLogps: losses.HostTensor(pr),
			ReferenceChosenLogps: losses.HostTensor(v), ReferenceRejectedLogps: losses.HostTensor(v), Loss: losses.HostTensor(l)}
	}
	for _, c := range []struct {
		arg string
		pr  []float64
		o   losses.DPOLossOptions
	}{
		{"loss_type", v, losses.DPOLossOptions{LossType: "kto"}},
		{"beta", v, losses.DPOLossOptions{Beta: losses.Value(0)}},
		{"beta", v, losses.DPOLossOptions{Beta: losses.Value(math.Inf(1))}},
		{"label_smoothing", v, losses.DPOLossOptions{LabelSmoothing: -0.1}},
		{"policy_rejected_logps", []float64{1, 2, 3}, losses.DPOLossOptions{}},
		{"reduction", v, losses.DPOLossOptions{Reduction: losses.Reduction(9)}},
	} {
		l := []float64{42}
		err := losses.DPOLoss(hostDev, a(l, c.pr), c.o)
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%s: %v", c.arg, err)
		require.Equal(t, c.arg, ae.Arg, "%v", err)
		require.Equal(t, 42.0, l[0])
	}
}

func TestDistillOptionsJSON(t *testing.T) {
	d, ok := losses.Lookup("dpo_loss")
	require.True(t, ok)
	o, err := d.DecodeOptions([]byte(`{"beta": 0.2, "loss_type": "ipo", "label_smoothing": 0.1, "reduction": "sum"}`))
	require.NoError(t, err)
	opt := o.(*losses.DPOLossOptions)
	require.Equal(t, 0.2, *opt.Beta)
	require.Equal(t, "ipo", opt.LossType)
	require.Equal(t, losses.Sum, opt.Reduction)
	d, ok = losses.Lookup("jsd_loss")
	require.True(t, ok)
	o, err = d.DecodeOptions([]byte(`{"beta": 0, "temperature": 2, "ignore_index": 5}`))
	require.NoError(t, err)
	jo := o.(*losses.JSDLossOptions)
	require.Equal(t, 0.0, *jo.Beta)
	require.Equal(t, 2.0, *jo.Temperature)
	require.Equal(t, 5, *jo.IgnoreIndex)
	d, ok = losses.Lookup("sequence_log_probs")
	require.True(t, ok)
	o, err = d.DecodeOptions([]byte(`{"average_log_prob": true}`))
	require.NoError(t, err)
	require.True(t, o.(*losses.SequenceLogProbsOptions).AverageLogProb)
}
