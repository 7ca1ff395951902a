package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, sacCases) }

// sacCases: the sac family over B rows of A actions, with a saturated row
// (logits ±1e4), α = 0, the CleanRL action mean, empty batches; results
// mapped as retCase's.
func sacCases() []Case {
	var cs []Case
	for _, sz := range [][2]int{{32, 6}, {1, 1}, {1000, 18}, {0, 4}} {
		B, A := sz[0], sz[1]
		rg := rand.New(rand.NewPCG(uint64(B*100+A), 51))
		z, q := logits(rg, B*A, 2), logits(rg, B*A, 3)
		if B > 1 && A > 1 {
			z[0], z[1] = 1e4, -1e4
		}
		r := logits(rg, B, 1)
		dn := make([]float64, B)
		for i := range dn {
			if rg.IntN(4) == 0 {
				dn[i] = 1
			}
		}
		lpi := logits(rg, B, 3)
		for _, o := range []struct {
			what string
			o    losses.SACDiscreteActorLossOptions
		}{{"default", losses.SACDiscreteActorLossOptions{}},
			{"alpha0-sum-actmean", losses.SACDiscreteActorLossOptions{Alpha: ptr(0.0), Reduction: losses.Sum, ActionReduction: "mean"}},
			{"none", losses.SACDiscreteActorLossOptions{Alpha: ptr(0.7), Reduction: losses.None}}} {
			cs = append(cs, retCase(fmt.Sprintf("sac_discrete_actor_loss/%s/%dx%d", o.what, B, A), "sac_discrete_actor_loss", 2e-5,
				inputs{"logits": fl(z, B, A), "q_values": fl(q, B, A)}, o.o))
		}
		cs = append(cs, retCase(fmt.Sprintf("sac_discrete_critic_target/%dx%d", B, A), "sac_discrete_critic_target", 2e-5,
			inputs{"next_logits": fl(z, B, A), "next_q_values": fl(q, B, A), "rewards": fl(r, B), "dones": fl(dn, B)},
			losses.SACDiscreteCriticTargetOptions{Alpha: ptr(0.3)}))
		for _, red := range []losses.Reduction{losses.Mean, losses.None} {
			cs = append(cs,
				retCase(fmt.Sprintf("sac_temperature_loss/logits/%v/%dx%d", red, B, A), "sac_temperature_loss", 2e-5,
					inputs{"log_alpha": fl([]float64{-0.5}, 1), "logits": fl(z, B, A)},
					losses.SACTemperatureLossOptions{Reduction: red}),
				retCase(fmt.Sprintf("sac_temperature_loss/log_pi/%v/%dx%d", red, B, A), "sac_temperature_loss", 2e-5,
					inputs{"log_alpha": fl([]float64{0.25}, 1), "log_pi": fl(lpi, B)},
					losses.SACTemperatureLossOptions{Reduction: red, TargetEntropy: ptr(-float64(A))}))
		}
		mean, ls, eps, dq := logits(rg, B*A, 3), logits(rg, B*A, 0.5), logits(rg, B*A, 1), logits(rg, B*A, 1)
		if B*A > 3 {
			mean[0], mean[1], mean[2] = 15, -15, 40 // deep in tanh's tails
		}
		qv := logits(rg, B, 2)
		for _, o := range []struct {
			what string
			o    losses.SACContinuousActorLossOptions
		}{{"default", losses.SACContinuousActorLossOptions{}},
			{"scaled-sum", losses.SACContinuousActorLossOptions{ActionScale: ptr(2.0), ActionBias: ptr(0.5), Reduction: losses.Sum}},
			{"alpha0-none", losses.SACContinuousActorLossOptions{Alpha: ptr(0.0), Reduction: losses.None}}} {
			cs = append(cs, retCase(fmt.Sprintf("sac_continuous_actor_loss/%s/%dx%d", o.what, B, A), "sac_continuous_actor_loss", 2e-5,
				inputs{"mean": fl(mean, B, A), "log_std": fl(ls, B, A), "noise": fl(eps, B, A), "q_value": fl(qv, B),
					"dq_da": fl(dq, B, A)}, o.o))
		}
	}
	return cs
}
