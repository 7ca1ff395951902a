package losses_test

import "testing"

// The sac family in the shared fuzz harness (fuzz_test.go): any shapes,
// inputs present or absent, options and values through the declarations:
// no panic, an *ArgError or success, the same bits twice.
func init() {
	fuzzFamilies["sac"] = []string{"sac_discrete_actor_loss", "sac_discrete_critic_target", "sac_temperature_loss",
		"sac_continuous_actor_loss"}
}

func FuzzSAC(f *testing.F) {
	for i := range fuzzFamilies["sac"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("sac"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{5, 2}}.encode("sac"))
	}
	fuzzFamily(f, "sac")
}
