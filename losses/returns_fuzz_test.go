package losses_test

import "testing"

// The returns family in the shared fuzz harness (fuzz_test.go): any
// shapes, inputs present or absent, options and values through the
// declarations: no panic, an *ArgError or success, the same bits twice.
func init() {
	fuzzFamilies["returns"] = []string{"gae", "lambda_returns", "n_step_returns", "td_learning", "q_learning", "double_q_learning"}
}

func FuzzReturns(f *testing.F) {
	for i := range fuzzFamilies["returns"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("returns"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{5, 2}}.encode("returns"))
	}
	fuzzFamily(f, "returns")
}
