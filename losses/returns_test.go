package losses_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lossengine/lossengine/losses"
)

// retRollout is a random time-major rollout [T, B] with episode ends.
type retRollout struct {
	T, B                    int
	r, v, boot, term, trunc []float64
	tv                      []float64
}

// newRollout draws rewards and values; terminated and truncated each with
// probability pEnd per step (truncated only where not terminated).
func newRollout(seed uint64, T, B int, pEnd float64, truncs bool) retRollout {
	rg := rand.New(rand.NewPCG(seed, 11))
	ro := retRollout{T: T, B: B}
	n := T * B
	for range n {
		ro.r = append(ro.r, rg.NormFloat64())
		ro.v = append(ro.v, rg.NormFloat64())
		ro.tv = append(ro.tv, rg.NormFloat64())
		te, tr := 0.0, 0.0
		if rg.Float64() < pEnd {
			te = 1
		} else if truncs && rg.Float64() < pEnd {
			tr = 1
		}
		ro.term = append(ro.term, te)
		ro.trunc = append(ro.trunc, tr)
	}
	for range B {
		ro.boot = append(ro.boot, rg.NormFloat64())
	}
	return ro
}

// sb3GAE is Stable-Baselines3's compute_returns_and_advantage loop, per
// column, in its own convention: episode_starts[t] (the observation at t
// starts an episode) = terminated[t−1], dones = terminated[T−1], and
// last_values the bootstrap.
func sb3GAE(ro retRollout, gamma, lam float64) (adv, ret []float64) {
	T, B := ro.T, ro.B
	adv, ret = make([]float64, T*B), make([]float64, T*B)
	for b := range B {
		starts := make([]float64, T)
		for t := 1; t < T; t++ {
			starts[t] = ro.term[(t-1)*B+b]
		}
		last := 0.0
		for step := T - 1; step >= 0; step-- {
			var nonTerminal, next float64
			if step == T-1 {
				nonTerminal, next = 1-ro.term[step*B+b], ro.boot[b]
			} else {
				nonTerminal, next = 1-starts[step+1], ro.v[(step+1)*B+b]
			}
			delta := ro.r[step*B+b] + gamma*next*nonTerminal - ro.v[step*B+b]
			last = delta + gamma*lam*nonTerminal*last
			adv[step*B+b] = last
			ret[step*B+b] = last + ro.v[step*B+b]
		}
	}
	return adv, ret
}

// truncGAE is GAE with truncations spelled out per episode segment: a
// segment ends at a termination (no bootstrap), a truncation (bootstrap
// from truncation_values) or the end of the rollout (bootstrap_value),
// and the advantages are Σ_k (γλ)^k δ_{t+k} within the segment.
func truncGAE(ro retRollout, gamma, lam float64) []float64 {
	T, B := ro.T, ro.B
	adv := make([]float64, T*B)
	for b := range B {
		delta := make([]float64, T)
		end := make([]bool, T)
		for t := range T {
			i := t*B + b
			next := ro.boot[b]
			if t < T-1 {
				next = ro.v[i+B]
			}
			d := gamma
			switch {
			case ro.term[i] != 0:
				d, end[t] = 0, true
			case ro.trunc[i] != 0:
				next, end[t] = ro.tv[i], true
			}
			delta[t] = ro.r[i] + d*next - ro.v[i]
		}
		for t := range T {
			s, w := 0.0, 1.0
			for k := t; k < T; k++ {
				s += w * delta[k]
				if end[k] {
					break
				}
				w *= gamma * lam
			}
			adv[t*B+b] = s
		}
	}
	return adv
}

func runGAE(t *testing.T, ro retRollout, o losses.GAEOptions, truncs bool, disc []float64) (adv, ret []float64, err error) {
	t.Helper()
	n := ro.T * ro.B
	adv, ret = make([]float64, n), make([]float64, n)
	a := losses.GAEArgs{Rewards: losses.HostTensor(ro.r, ro.T, ro.B), Values: losses.HostTensor(ro.v, ro.T, ro.B),
		BootstrapValue: losses.HostTensor(ro.boot, ro.B), Advantages: losses.HostTensor(adv, ro.T, ro.B),
		Returns: losses.HostTensor(ret, ro.T, ro.B)}
	if disc != nil {
		a.Discounts = losses.HostTensor(disc, ro.T, ro.B)
	} else {
		a.Terminated = losses.HostTensor(ro.term, ro.T, ro.B)
	}
	if truncs {
		a.Truncated = losses.HostTensor(ro.trunc, ro.T, ro.B)
		a.TruncationValues = losses.HostTensor(ro.tv, ro.T, ro.B)
	}
	err = losses.GAE(hostDev, a, o)
	return adv, ret, err
}

func TestGAEMatchesSB3(t *testing.T) {
	for _, tc := range []struct {
		T, B         int
		pEnd, gm, lm float64
	}{{37, 5, 0.1, 0.99, 0.95}, {1, 1, 0.5, 0.9, 0.8}, {1, 7, 0.5, 0.99, 0.95}, {9, 1, 1, 0.99, 0.95},
		{20, 3, 0.2, 0, 0.95}, {20, 3, 0.2, 0.9, 0}, {20, 3, 0.2, 0.9, 1}, {20, 3, 0, 1, 1}} {
		ro := newRollout(uint64(tc.T*100+tc.B), tc.T, tc.B, tc.pEnd, false)
		wantA, wantR := sb3GAE(ro, tc.gm, tc.lm)
		adv, ret, err := runGAE(t, ro, losses.GAEOptions{Gamma: &tc.gm, Lambda: &tc.lm}, false, nil)
		require.NoError(t, err)
		require.InDeltaSlice(t, wantA, adv, 1e-12)
		require.InDeltaSlice(t, wantR, ret, 1e-12)
		// the same through discounts = γ(1 − terminated)
		disc := make([]float64, len(ro.term))
		for i, x := range ro.term {
			disc[i] = tc.gm * (1 - x)
		}
		adv2, _, err := runGAE(t, ro, losses.GAEOptions{Lambda: &tc.lm}, false, disc)
		require.NoError(t, err)
		require.InDeltaSlice(t, wantA, adv2, 1e-12)
	}
}

func TestGAETruncations(t *testing.T) {
	for _, tc := range []struct {
		T, B   int
		pEnd   float64
		gm, lm float64
	}{{40, 4, 0.15, 0.99, 0.95}, {6, 2, 1, 0.9, 0.9}, {1, 3, 0.5, 0.99, 0.95}, {30, 2, 0.3, 0.9, 1}} {
		ro := newRollout(uint64(tc.T*7+tc.B), tc.T, tc.B, tc.pEnd, true)
		adv, ret, err := runGAE(t, ro, losses.GAEOptions{Gamma: &tc.gm, Lambda: &tc.lm}, true, nil)
		require.NoError(t, err)
		require.InDeltaSlice(t, truncGAE(ro, tc.gm, tc.lm), adv, 1e-12)
		for i := range ret {
			require.InDelta(t, adv[i]+ro.v[i], ret[i], 1e-12)
		}
	}
	// every step truncated: A_t = r_t + γ·tv_t − v_t
	ro := newRollout(5, 4, 2, 0, false)
	for i := range ro.trunc {
		ro.trunc[i] = 1
	}
	adv, _, err := runGAE(t, ro, losses.GAEOptions{}, true, nil)
	require.NoError(t, err)
	for i := range adv {
		require.InDelta(t, ro.r[i]+0.99*ro.tv[i]-ro.v[i], adv[i], 1e-12)
	}
}

// rlaxLambda is rlax.lambda_returns for one column, as written there.
func rlaxLambda(r, d, v []float64, lam float64) []float64 {
	T := len(r)
	out := make([]float64, T)
	g := v[T-1]
	for i := T - 1; i >= 0; i-- {
		g = r[i] + d[i]*((1-lam)*v[i]+lam*g)
		out[i] = g
	}
	return out
}

// rlaxNStep is rlax.n_step_bootstrapped_returns for one column with its
// padded arrays.
func rlaxNStep(r, d, v []float64, n int, lam float64) []float64 {
	T := len(r)
	pad := func(x []float64, fill float64) []float64 {
		out := append([]float64{}, x...)
		for range n - 1 {
			out = append(out, fill)
		}
		return out
	}
	targets := make([]float64, T)
	for t := range T {
		targets[t] = v[min(t+n-1, T-1)]
	}
	rp, dp, vp := pad(r, 0), pad(d, 1), pad(v, v[T-1])
	for i := n - 1; i >= 0; i-- {
		for t := range T {
			targets[t] = rp[i+t] + dp[i+t]*((1-lam)*vp[i+t]+lam*targets[t])
		}
	}
	return targets
}

func column(x []float64, b, B int) []float64 {
	var out []float64
	for i := b; i < len(x); i += B {
		out = append(out, x[i])
	}
	return out
}

func TestLambdaAndNStepReturns(t *testing.T) {
	for _, tc := range []struct {
		T, B int
		pEnd float64
	}{{25, 3, 0.15}, {1, 1, 0.5}, {8, 2, 1}} {
		ro := newRollout(uint64(tc.T+31*tc.B), tc.T, tc.B, tc.pEnd, false)
		disc := make([]float64, len(ro.term))
		for i, x := range ro.term {
			disc[i] = 0.9 * (1 - x)
		}
		for _, lam := range []float64{0, 0.7, 1} {
			got := make([]float64, tc.T*tc.B)
			a := losses.ReturnsArgs{Rewards: losses.HostTensor(ro.r, tc.T, tc.B), Values: losses.HostTensor(ro.v, tc.T, tc.B),
				Discounts: losses.HostTensor(disc, tc.T, tc.B), Returns: losses.HostTensor(got, tc.T, tc.B)}
			require.NoError(t, losses.LambdaReturns(hostDev, a, losses.LambdaReturnsOptions{Lambda: &lam}))
			for b := range tc.B {
				require.InDeltaSlice(t, rlaxLambda(column(ro.r, b, tc.B), column(disc, b, tc.B), column(ro.v, b, tc.B), lam),
					column(got, b, tc.B), 1e-12)
			}
			for _, n := range []int{1, 2, 5, tc.T, tc.T + 3} {
				require.NoError(t, losses.NStepReturns(hostDev, a, losses.NStepReturnsOptions{Lambda: &lam, N: &n}))
				for b := range tc.B {
					require.InDeltaSlice(t, rlaxNStep(column(ro.r, b, tc.B), column(disc, b, tc.B), column(ro.v, b, tc.B), n, lam),
						column(got, b, tc.B), 1e-12, "n=%d λ=%g", n, lam)
				}
			}
		}
	}
	// n = 1: the one-step target r + d·v; terminated with gamma
	r, v, term := []float64{1, 2, 3}, []float64{10, 20, 30}, []float64{0, 1, 0}
	got := make([]float64, 3)
	n, g := 1, 0.5
	require.NoError(t, losses.NStepReturns(hostDev, losses.ReturnsArgs{Rewards: losses.HostTensor(r), Values: losses.HostTensor(v),
		Terminated: losses.HostTensor(term), Returns: losses.HostTensor(got)}, losses.NStepReturnsOptions{N: &n, Gamma: &g}))
	require.InDeltaSlice(t, []float64{1 + 0.5*10, 2, 3 + 0.5*30}, got, 1e-15)
}

// tdRef is the loss per sample and dl/dδ for δ (rlax l2_loss or huber_loss).
func tdRef(delta float64, huber bool, dh float64) float64 {
	if !huber {
		return 0.5 * delta * delta
	}
	z := math.Abs(delta)
	q := math.Min(z, dh)
	return 0.5*q*q + dh*(z-q)
}

func TestTDLossesClosedFormAndGradients(t *testing.T) {
	rg := rand.New(rand.NewPCG(9, 9))
	const n, A = 6, 4
	randv := func(k int, s float64) []float64 {
		x := make([]float64, k)
		for i := range x {
			x[i] = rg.NormFloat64() * s
		}
		return x
	}
	r, d := randv(n, 1), randv(n, 0.5)
	for i := range d {
		d[i] = math.Abs(d[i])
	}
	d[0] = 0
	vm, vt := randv(n, 2), randv(n, 2)
	qm, qt, qs := randv(n*A, 2), randv(n*A, 2), randv(n*A, 1)
	qs[A] = qs[A+2] // ties in row 1: the first index wins
	qs[A+1] = math.Min(qs[A+1], qs[A]-1)
	qs[A+3] = math.Min(qs[A+3], qs[A]-1)
	acts := []int32{0, 3, 1, 2, 2, 1}
	for _, kind := range []string{"mse", "huber"} {
		for _, red := range []losses.Reduction{losses.Mean, losses.Sum, losses.None} {
			o := losses.TDLossOptions{Reduction: red, Kind: kind, Delta: ptrF(0.7)}
			huber := kind == "huber"
			scale := 1.0
			if red == losses.Mean {
				scale = 1.0 / n
			}
			nl := 1
			if red == losses.None {
				nl = n
			}
			// td_learning
			ref := func(vm []float64) ([]float64, float64) {
				tds := make([]float64, n)
				s := 0.0
				for i := range n {
					tds[i] = r[i] + d[i]*vt[i] - vm[i]
					s += tdRef(tds[i], huber, 0.7)
				}
				return tds, s * scale
			}
			loss, td, g := make([]float64, nl), make([]float64, n), make([]float64, n)
			require.NoError(t, losses.TDLearning(hostDev, losses.TDLearningArgs{VTm1: losses.HostTensor(vm), RT: losses.HostTensor(r),
				DiscountT: losses.HostTensor(d), VT: losses.HostTensor(vt), Loss: losses.HostTensor(loss), TD: losses.HostTensor(td),
				GradVTm1: losses.HostTensor(g)}, losses.TDLearningOptions{TDLossOptions: o}))
			wantTD, wantL := ref(vm)
			require.InDeltaSlice(t, wantTD, td, 1e-12)
			require.InDelta(t, wantL, sumLoss(loss), 1e-12)
			fdCheck(t, vm, g, func(x []float64) float64 { _, l := ref(x); return l })
			// q_learning and double_q_learning
			for _, double := range []bool{false, true} {
				qref := func(qm []float64) ([]float64, float64) {
					tds := make([]float64, n)
					s := 0.0
					for i := range n {
						row := qt[i*A : i*A+A]
						boot := row[0]
						if double {
							best := 0
							for k := 1; k < A; k++ {
								if qs[i*A+k] > qs[i*A+best] {
									best = k
								}
							}
							boot = row[best]
						} else {
							for _, x := range row {
								boot = math.Max(boot, x)
							}
						}
						tds[i] = r[i] + d[i]*boot - qm[i*A+int(acts[i])]
						s += tdRef(tds[i], huber, 0.7)
					}
					return tds, s * scale
				}
				loss, td, g := make([]float64, nl), make([]float64, n), make([]float64, n*A)
				var err error
				if double {
					err = losses.DoubleQLearning(hostDev, losses.DoubleQLearningArgs{QTm1: losses.HostTensor(qm, n, A),
						ATm1: losses.HostTensor(acts), RT: losses.HostTensor(r), DiscountT: losses.HostTensor(d),
						QTValue: losses.HostTensor(qt, n, A), QTSelector: losses.HostTensor(qs, n, A), Loss: losses.HostTensor(loss),
						TD: losses.HostTensor(td), GradQTm1: losses.HostTensor(g, n, A)}, losses.DoubleQLearningOptions{TDLossOptions: o})
				} else {
					err = losses.QLearning(hostDev, losses.QLearningArgs{QTm1: losses.HostTensor(qm, n, A),
						ATm1: losses.HostTensor(acts), RT: losses.HostTensor(r), DiscountT: losses.HostTensor(d),
						QT: losses.HostTensor(qt, n, A), Loss: losses.HostTensor(loss),
						TD: losses.HostTensor(td), GradQTm1: losses.HostTensor(g, n, A)}, losses.QLearningOptions{TDLossOptions: o})
				}
				require.NoError(t, err)
				wantTD, wantL := qref(qm)
				require.InDeltaSlice(t, wantTD, td, 1e-12)
				require.InDelta(t, wantL, sumLoss(loss), 1e-12)
				fdCheck(t, qm, g, func(x []float64) float64 { _, l := qref(x); return l })
			}
		}
	}
	// a literal case: δ = 1 + 0.5·3 − 2 = 0.5, ½δ² = 0.125
	loss := make([]float64, 1)
	require.NoError(t, losses.TDLearning(hostDev, losses.TDLearningArgs{VTm1: losses.HostTensor([]float64{2}),
		RT: losses.HostTensor([]float64{1}), DiscountT: losses.HostTensor([]float64{0.5}), VT: losses.HostTensor([]float64{3}),
		Loss: losses.HostTensor(loss, 1)}, losses.TDLearningOptions{}))
	require.Equal(t, 0.125, loss[0])
	// the mean of no samples is NaN, the sum 0
	require.NoError(t, losses.TDLearning(hostDev, losses.TDLearningArgs{VTm1: losses.HostTensor([]float64{}),
		RT: losses.HostTensor([]float64{}), DiscountT: losses.HostTensor([]float64{}), VT: losses.HostTensor([]float64{}),
		Loss: losses.HostTensor(loss, 1)}, losses.TDLearningOptions{}))
	require.True(t, math.IsNaN(loss[0]))
}

func ptrF(v float64) *float64 { return &v }

func TestReturnsBadInput(t *testing.T) {
	ro := newRollout(3, 4, 2, 0.2, true)
	isArg := func(err error, arg string) {
		t.Helper()
		var ae *losses.ArgError
		require.True(t, errors.As(err, &ae), "%v", err)
		require.Equal(t, arg, ae.Arg, "%v", err)
	}
	gae := func(mod func(a *losses.GAEArgs, o *losses.GAEOptions)) error {
		adv := make([]float64, 8)
		a := losses.GAEArgs{Rewards: losses.HostTensor(ro.r, 4, 2), Values: losses.HostTensor(ro.v, 4, 2),
			BootstrapValue: losses.HostTensor(ro.boot, 2), Terminated: losses.HostTensor(ro.term, 4, 2),
			Advantages: losses.HostTensor(adv, 4, 2)}
		var o losses.GAEOptions
		mod(&a, &o)
		before := append([]float64{}, adv...)
		err := losses.GAE(hostDev, a, o)
		if err != nil {
			require.Equal(t, before, adv, "written before the error")
		}
		return err
	}
	require.NoError(t, gae(func(*losses.GAEArgs, *losses.GAEOptions) {}))
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.Values = losses.HostTensor(ro.v, 2, 4) }), "values")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.BootstrapValue = losses.HostTensor(ro.boot[:1], 1) }), "bootstrap_value")
	isArg(gae(func(_ *losses.GAEArgs, o *losses.GAEOptions) { o.Gamma = ptrF(1.5) }), "gamma")
	isArg(gae(func(_ *losses.GAEArgs, o *losses.GAEOptions) { o.Lambda = ptrF(-0.1) }), "lambda")
	isArg(gae(func(_ *losses.GAEArgs, o *losses.GAEOptions) { o.Lambda = ptrF(math.NaN()) }), "lambda")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.Discounts = losses.HostTensor(ro.term, 4, 2) }), "terminated")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.Terminated = losses.Tensor{} }), "discounts")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.Truncated = losses.HostTensor(ro.trunc, 4, 2) }), "truncation_values")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) { a.TruncationValues = losses.HostTensor(ro.tv, 4, 2) }), "truncated")
	isArg(gae(func(a *losses.GAEArgs, _ *losses.GAEOptions) {
		a.Rewards = losses.HostTensor(ro.r[:1])
		a.Rewards.Shape = []int{}
	}), "rewards")
	bad := 0
	err := losses.NStepReturns(hostDev, losses.ReturnsArgs{Rewards: losses.HostTensor(ro.r, 4, 2), Values: losses.HostTensor(ro.v, 4, 2),
		Terminated: losses.HostTensor(ro.term, 4, 2), Returns: losses.HostTensor(make([]float64, 8), 4, 2)}, losses.NStepReturnsOptions{N: &bad})
	isArg(err, "n")
	// an action out of range, a shape mismatch, a bad kind and delta
	q := make([]float64, 6)
	ql := func(acts []int32, qt []float64, o losses.TDLossOptions) error {
		return losses.QLearning(hostDev, losses.QLearningArgs{QTm1: losses.HostTensor(q, 2, 3), ATm1: losses.HostTensor(acts),
			RT: losses.HostTensor([]float64{1, 2}), DiscountT: losses.HostTensor([]float64{1, 1}), QT: losses.HostTensor(qt, 2, 3),
			Loss: losses.HostTensor(make([]float64, 1), 1)}, losses.QLearningOptions{TDLossOptions: o})
	}
	require.NoError(t, ql([]int32{0, 2}, q, losses.TDLossOptions{}))
	isArg(ql([]int32{0, 3}, q, losses.TDLossOptions{}), "a_tm1")
	isArg(ql([]int32{-1, 0}, q, losses.TDLossOptions{}), "a_tm1")
	isArg(ql([]int32{0}, q, losses.TDLossOptions{}), "a_tm1")
	isArg(ql([]int32{0, 1}, q[:4], losses.TDLossOptions{}), "q_t")
	isArg(ql([]int32{0, 1}, q, losses.TDLossOptions{Kind: "l1"}), "kind")
	isArg(ql([]int32{0, 1}, q, losses.TDLossOptions{Delta: ptrF(0)}), "delta")
	isArg(ql([]int32{0, 1}, q, losses.TDLossOptions{Reduction: 7}), "reduction")
}
