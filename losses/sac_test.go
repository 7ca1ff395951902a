package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// sacSoftmax is the plain softmax and log-softmax of one row.
func sacSoftmax(z []float64) (p, lp []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	s := 0.0
	for _, v := range z {
		s += math.Exp(v - m)
	}
	for _, v := range z {
		l := v - m - math.Log(s)
		lp = append(lp, l)
		p = append(p, math.Exp(l))
	}
	return p, lp
}

func sacRandn(rg *rand.Rand, n int, s float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rg.NormFloat64() * s
	}
	return x
}

func TestSACDiscreteActorLoss(t *testing.T) {
	rg := rand.New(rand.NewPCG(1, 2))
	const B, A = 5, 4
	z, q := sacRandn(rg, B*A, 2), sacRandn(rg, B*A, 3)
	z[0], z[1] = 1e4, -1e4 // a saturated row
	for _, alpha := range []float64{0.2, 0, 1.5} {
		for _, ar := range []string{"", "mean"} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
				ref := func(z []float64) []float64 {
					var out []float64
					for i := range B {
						p, lp := sacSoftmax(z[i*A : i*A+A])
						l := 0.0
						for k := range A {
							l += p[k] * (alpha*lp[k] - q[i*A+k])
						}
						if ar == "mean" {
							l /= A
						}
						out = append(out, l)
					}
					return out
				}
				reduce := func(v []float64) float64 {
					s := sumLoss(v)
					if red == losses.Mean {
						s /= B
					}
					return s
				}
				nl := 1
				if red == losses.None {
					nl = B
				}
				loss, g := make([]float64, nl), make([]float64, B*A)
				require.NoError(t, losses.SACDiscreteActorLoss(hostDev, losses.SACDiscreteActorLossArgs{
					Logits: losses.HostTensor(z, B, A), QValues: losses.HostTensor(q, B, A), Loss: losses.HostTensor(loss, nl),
					GradLogits: losses.HostTensor(g, B, A)},
					losses.SACDiscreteActorLossOptions{Alpha: &alpha, Reduction: red, ActionReduction: ar}))
				if red == losses.None {
					require.InDeltaSlice(t, ref(z), loss, 1e-12)
				} else {
					require.InDelta(t, reduce(ref(z)), loss[0], 1e-12)
				}
				// finite differences on the unsaturated rows
				zz := append([]float64{}, z...)
				f := func(x []float64) float64 { copy(zz[A:], x); return reduce(ref(zz)) }
				fdCheck(t, append([]float64{}, z[A:]...), g[A:], f)
				// the saturated row: π = (1, 0, 0, 0) exactly, gradient 0 but where the policy is certain
				for k := range A {
					require.False(t, math.IsNaN(g[k]))
				}
			}
		}
	}
}

func TestSACDiscreteCriticTarget(t *testing.T) {
	z := []float64{0, math.Log(3), 1e4, -1e4}
	q := []float64{1, 2, 5, 7}
	target := make([]float64, 2)
	alpha, gamma := 0.5, 0.9
	require.NoError(t, losses.SACDiscreteCriticTarget(hostDev, losses.SACDiscreteCriticTargetArgs{
		NextLogits: losses.HostTensor(z, 2, 2), NextQValues: losses.HostTensor(q, 2, 2),
		Rewards: losses.HostTensor([]float64{1, 2}), Dones: losses.HostTensor([]float64{0, 1}), Target: losses.HostTensor(target)},
		losses.SACDiscreteCriticTargetOptions{Alpha: &alpha, Gamma: &gamma}))
	// row 0: π = (¼, ¾): Σ π(Q − α log π) = ¼(1 − ½ log ¼) + ¾(2 − ½ log ¾); row 1 is done: r
	v := 0.25*(1-0.5*math.Log(0.25)) + 0.75*(2-0.5*math.Log(0.75))
	require.InDelta(t, 1+0.9*v, target[0], 1e-12)
	require.Equal(t, 2.0, target[1])
}

func TestSACTemperatureLoss(t *testing.T) {
	rg := rand.New(rand.NewPCG(3, 4))
	const B, A = 6, 3
	z, lpi := sacRandn(rg, B*A, 1), sacRandn(rg, B, 2)
	for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
		nl := 1
		if red == losses.None {
			nl = B
		}
		for _, form := range []string{"logits", "log_pi", "logits-mean"} {
			te := -1.3
			ref := func(la float64) []float64 {
				var out []float64
				for i := range B {
					var l float64
					if form == "log_pi" {
						l = -math.Exp(la) * (lpi[i] + te)
					} else {
						p, lp := sacSoftmax(z[i*A : i*A+A])
						for k := range A {
							l += p[k] * (-math.Exp(la) * (lp[k] + te))
						}
						if form == "logits-mean" {
							l /= A
						}
					}
					out = append(out, l)
				}
				return out
			}
			total := func(la float64) float64 {
				s := sumLoss(ref(la))
				if red == losses.Mean {
					s /= B
				}
				return s
			}
			la := []float64{0.3}
			loss, g := make([]float64, nl), make([]float64, 1)
			a := losses.SACTemperatureLossArgs{LogAlpha: losses.HostTensor(la), Loss: losses.HostTensor(loss, nl),
				GradLogAlpha: losses.HostTensor(g)}
			o := losses.SACTemperatureLossOptions{TargetEntropy: &te, Reduction: red}
			if form == "log_pi" {
				a.LogPi = losses.HostTensor(lpi)
			} else {
				a.Logits = losses.HostTensor(z, B, A)
				if form == "logits-mean" {
					o.ActionReduction = "mean"
				}
			}
			require.NoError(t, losses.SACTemperatureLoss(hostDev, a, o))
			if red == losses.None {
				require.InDeltaSlice(t, ref(0.3), loss, 1e-12)
			} else {
				require.InDelta(t, total(0.3), loss[0], 1e-12)
			}
			fdCheck(t, la, g, func(x []float64) float64 { return total(x[0]) })
		}
	}
	// the default target entropy with logits: CleanRL's 0.89·log A
	loss := make([]float64, 1)
	require.NoError(t, losses.SACTemperatureLoss(hostDev, losses.SACTemperatureLossArgs{LogAlpha: losses.HostTensor([]float64{0}),
		Logits: losses.HostTensor([]float64{0, 0}, 1, 2), Loss: losses.HostTensor(loss)}, losses.SACTemperatureLossOptions{}))
	require.InDelta(t, -(math.Log(0.5) + 0.89*math.Log(2)), loss[0], 1e-12)
}

// sacCont is the continuous actor's per-row loss in plain float64 math
// (1 − tanh² as written), with the critic Q(ã) = −Σ (ã − c)², and
// returns the action, q and dq/dã too.
func sacCont(mean, ls, eps []float64, B, A int, alpha, scale, bias float64, c []float64) (loss, act, q, dq, lpi []float64) {
	for i := range B {
		lp, qi := 0.0, 0.0
		for j := range A {
			e := i*A + j
			sg := math.Exp(ls[e])
			x := mean[e] + sg*eps[e]
			y := math.Tanh(x)
			z := (x - mean[e]) / sg
			lp += -0.5*z*z - ls[e] - 0.5*math.Log(2*math.Pi) - math.Log(scale*(1-y*y)+1e-6)
			a := y*scale + bias
			act = append(act, a)
			qi -= (a - c[j]) * (a - c[j])
			dq = append(dq, -2*(a-c[j]))
		}
		lpi = append(lpi, lp)
		q = append(q, qi)
		loss = append(loss, alpha*lp-qi)
	}
	return
}

func TestSACContinuousActorLoss(t *testing.T) {
	rg := rand.New(rand.NewPCG(5, 6))
	const B, A = 4, 3
	mean, ls, eps := sacRandn(rg, B*A, 0.7), sacRandn(rg, B*A, 0.3), sacRandn(rg, B*A, 1)
	c := []float64{0.3, -0.5, 1.2}
	for _, alpha := range []float64{0.2, 0} {
		for _, sb := range [][2]float64{{1, 0}, {2, 0.5}} {
			for _, red := range []losses.Reduction{losses.Mean, losses.Sum} {
				total := func(mean, ls []float64) float64 {
					l, _, _, _, _ := sacCont(mean, ls, eps, B, A, alpha, sb[0], sb[1], c)
					s := sumLoss(l)
					if red == losses.Mean {
						s /= B
					}
					return s
				}
				wantL, act, q, dq, lpi := sacCont(mean, ls, eps, B, A, alpha, sb[0], sb[1], c)
				loss, gotLp, gotAct := make([]float64, 1), make([]float64, B), make([]float64, B*A)
				gm, gl := make([]float64, B*A), make([]float64, B*A)
				require.NoError(t, losses.SACContinuousActorLoss(hostDev, losses.SACContinuousActorLossArgs{
					Mean: losses.HostTensor(mean, B, A), LogStd: losses.HostTensor(ls, B, A), Noise: losses.HostTensor(eps, B, A),
					QValue: losses.HostTensor(q), DqDa: losses.HostTensor(dq, B, A), Loss: losses.HostTensor(loss),
					LogPi: losses.HostTensor(gotLp), Action: losses.HostTensor(gotAct, B, A), GradMean: losses.HostTensor(gm, B, A),
					GradLogStd: losses.HostTensor(gl, B, A)},
					losses.SACContinuousActorLossOptions{Alpha: &alpha, ActionScale: &sb[0], ActionBias: &sb[1], Reduction: red}))
				s := sumLoss(wantL)
				if red == losses.Mean {
					s /= B
				}
				require.InDelta(t, s, loss[0], 1e-9)
				require.InDeltaSlice(t, lpi, gotLp, 1e-9)
				require.InDeltaSlice(t, act, gotAct, 1e-12)
				fdCheck(t, append([]float64{}, mean...), gm, func(x []float64) float64 { return total(x, ls) })
				fdCheck(t, append([]float64{}, ls...), gl, func(x []float64) float64 { return total(mean, x) })
			}
		}
	}
}

// TestSACContinuousFloat32Saturated: far into tanh's tails (|x| up to 12)
// float32 log_pi and gradients agree with float64 on the same inputs.
func TestSACContinuousFloat32Saturated(t *testing.T) {
	xs := []float64{-12, -9, -6, -3, -0.5, 0, 0.5, 3, 6, 9, 12}
	n := len(xs)
	mean, ls, eps, q, dq := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, x := range xs {
		mean[i], ls[i], eps[i], dq[i] = x-0.25, math.Log(0.5), 0.5, 0.3
	}
	run64 := func() (lp, gm, gl []float64) {
		lp, gm, gl = make([]float64, n), make([]float64, n), make([]float64, n)
		require.NoError(t, losses.SACContinuousActorLoss(hostDev, losses.SACContinuousActorLossArgs{Mean: losses.HostTensor(mean, n, 1),
			LogStd: losses.HostTensor(ls, n, 1), Noise: losses.HostTensor(eps, n, 1), QValue: losses.HostTensor(q),
			DqDa: losses.HostTensor(dq, n, 1), LogPi: losses.HostTensor(lp), GradMean: losses.HostTensor(gm, n, 1),
			GradLogStd: losses.HostTensor(gl, n, 1)}, losses.SACContinuousActorLossOptions{Reduction: losses.Sum}))
		return
	}
	lp, gm, gl := run64()
	f32 := func(v []float64) []float32 { return to32s(v) }
	lp32, gm32, gl32 := make([]float32, n), make([]float32, n), make([]float32, n)
	require.NoError(t, losses.SACContinuousActorLoss(hostDev, losses.SACContinuousActorLossArgs{Mean: losses.HostTensor(f32(mean), n, 1),
		LogStd: losses.HostTensor(f32(ls), n, 1), Noise: losses.HostTensor(f32(eps), n, 1), QValue: losses.HostTensor(f32(q)),
		DqDa: losses.HostTensor(f32(dq), n, 1), LogPi: losses.HostTensor(lp32), GradMean: losses.HostTensor(gm32, n, 1),
		GradLogStd: losses.HostTensor(gl32, n, 1)}, losses.SACContinuousActorLossOptions{Reduction: losses.Sum}))
	for i := range n {
		require.InDelta(t, lp[i], float64(lp32[i]), 1e-5*(1+math.Abs(lp[i])), "log_pi x=%g", xs[i])
		require.InDelta(t, gm[i], float64(gm32[i]), 1e-5*(1+math.Abs(gm[i])), "grad_mean x=%g", xs[i])
		require.InDelta(t, gl[i], float64(gl32[i]), 1e-5*(1+math.Abs(gl[i])), "grad_log_std x=%g", xs[i])
		require.False(t, math.IsNaN(lp[i]) || math.IsInf(lp[i], 0))
	}
}

func TestSACBadInput(t *testing.T) {
	isArg := func(err error, arg string) {
		t.Helper()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%v", err)
		require.Equal(t, arg, ae.Arg, "%v", err)
	}
	z := make([]float64, 6)
	actor := func(q []float64, o losses.SACDiscreteActorLossOptions) error {
		return losses.SACDiscreteActorLoss(hostDev, losses.SACDiscreteActorLossArgs{Logits: losses.HostTensor(z, 2, 3),
			QValues: losses.HostTensor(q, 2, 3), Loss: losses.HostTensor(make([]float64, 1))}, o)
	}
	require.NoError(t, actor(z, losses.SACDiscreteActorLossOptions{}))
	isArg(actor(z, losses.SACDiscreteActorLossOptions{Alpha: ptrF(-1)}), "alpha")
	isArg(actor(z, losses.SACDiscreteActorLossOptions{ActionReduction: "max"}), "action_reduction")
	isArg(losses.SACDiscreteActorLoss(hostDev, losses.SACDiscreteActorLossArgs{Logits: losses.HostTensor(z, 2, 3),
		QValues: losses.HostTensor(z, 3, 2)}, losses.SACDiscreteActorLossOptions{}), "q_values")
	la := losses.HostTensor([]float64{0})
	isArg(losses.SACTemperatureLoss(hostDev, losses.SACTemperatureLossArgs{LogAlpha: la, LogPi: losses.HostTensor(z)},
		losses.SACTemperatureLossOptions{}), "target_entropy")
	isArg(losses.SACTemperatureLoss(hostDev, losses.SACTemperatureLossArgs{LogAlpha: la}, losses.SACTemperatureLossOptions{}), "logits")
	isArg(losses.SACTemperatureLoss(hostDev, losses.SACTemperatureLossArgs{LogAlpha: losses.HostTensor(z[:2]), Logits: losses.HostTensor(z, 2, 3)},
		losses.SACTemperatureLossOptions{}), "log_alpha")
	isArg(losses.SACDiscreteCriticTarget(hostDev, losses.SACDiscreteCriticTargetArgs{NextLogits: losses.HostTensor(z, 2, 3),
		NextQValues: losses.HostTensor(z, 2, 3), Rewards: losses.HostTensor(z[:2]), Dones: losses.HostTensor(z[:2]),
		Target: losses.HostTensor(make([]float64, 2))}, losses.SACDiscreteCriticTargetOptions{Gamma: ptrF(2)}), "gamma")
	cont := func(dq losses.Tensor, o losses.SACContinuousActorLossOptions) error {
		return losses.SACContinuousActorLoss(hostDev, losses.SACContinuousActorLossArgs{Mean: losses.HostTensor(z, 2, 3),
			LogStd: losses.HostTensor(z, 2, 3), Noise: losses.HostTensor(z, 2, 3), QValue: losses.HostTensor(z[:2]), DqDa: dq,
			GradMean: losses.HostTensor(make([]float64, 6), 2, 3)}, o)
	}
	require.NoError(t, cont(losses.HostTensor(z, 2, 3), losses.SACContinuousActorLossOptions{}))
	isArg(cont(losses.Tensor{}, losses.SACContinuousActorLossOptions{}), "dq_da")
	isArg(cont(losses.HostTensor(z, 3, 2), losses.SACContinuousActorLossOptions{}), "dq_da")
	isArg(cont(losses.HostTensor(z, 2, 3), losses.SACContinuousActorLossOptions{ActionScale: ptrF(0)}), "action_scale")
	isArg(cont(losses.HostTensor(z, 2, 3), losses.SACContinuousActorLossOptions{Alpha: ptrF(math.NaN())}), "alpha")
}

// TestSACNoActions: with A = 0 the actor and temperature losses of any
// number of rows are 0 (no pass over the rows).
func TestSACNoActions(t *testing.T) {
	huge := 1<<31 - 1
	empty := losses.HostTensor([]float32{}, huge, 0)
	loss := make([]float32, 1)
	require.NoError(t, losses.SACDiscreteActorLoss(hostDev, losses.SACDiscreteActorLossArgs{Logits: empty, QValues: empty,
		Loss: losses.HostTensor(loss)}, losses.SACDiscreteActorLossOptions{}))
	require.Equal(t, float32(0), loss[0])
	g := []float32{7}
	require.NoError(t, losses.SACTemperatureLoss(hostDev, losses.SACTemperatureLossArgs{LogAlpha: losses.HostTensor([]float32{0.1}),
		Logits: empty, Loss: losses.HostTensor(loss), GradLogAlpha: losses.HostTensor(g)},
		losses.SACTemperatureLossOptions{TargetEntropy: ptrF(1), Reduction: losses.Sum}))
	require.Equal(t, []float32{0, 0}, []float32{loss[0], g[0]})
}
