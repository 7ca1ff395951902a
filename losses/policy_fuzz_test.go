package losses_test

import "testing"

// The policy family in the shared fuzz harness (fuzz_test.go): every
// property it checks, through the declarations.
func init() {
	fuzzFamilies["policy"] = []string{"policy_gradient_loss", "entropy_loss", "gaussian_entropy_loss", "ppo_clip_loss", "value_loss", "actor_critic_loss"}
	fuzzEnums["string"] = append(fuzzEnums["string"], "mse", "huber", "pg", "ppo")
}

func FuzzPolicy(f *testing.F) {
	for i := range fuzzFamilies["policy"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("policy"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{2, 2}}.encode("policy"))
	}
	fuzzFamily(f, "policy")
}
