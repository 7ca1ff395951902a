package losses_test

import (
	"testing"
)

// The multitask family in the shared fuzz harness (fuzz_test.go): every
// property it checks, through the declarations.
func init() {
	fuzzFamilies["multitask"] = []string{"weighted_sum", "uncertainty_weighting", "gradnorm_loss"}
}

func FuzzMultitask(f *testing.F) {
	for i := range fuzzFamilies["multitask"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("multitask"))
		f.Add(fuzzCase{loss: byte(i), dims: []byte{5}}.encode("multitask"))
		// reduction none / sum, alpha from the value table
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 0, 1, 3}, dims: []byte{0, 3}}.encode("multitask"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 0xF0}, dims: []byte{2, 1},
			vals: []byte{0x40, 0x00, 0xff, 0x80, 0x7f, 0x10, 0x20, 0x30}}.encode("multitask"))
	}
	fuzzFamily(f, "multitask")
}
