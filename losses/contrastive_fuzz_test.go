package losses_test

import "testing"

// The contrastive family in the shared fuzz harness (fuzz_test.go): any
// shapes, inputs present or absent, options and values through the
// declarations: no panic, an *ArgError or success, the same bits twice.
func init() {
	fuzzFamilies["contrastive"] = []string{"nt_xent_loss", "info_nce_loss", "supcon_loss"}
}

func FuzzContrastive(f *testing.F) {
	for i := range fuzzFamilies["contrastive"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("contrastive"))
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2}, dims: []byte{5, 2}}.encode("contrastive"))
	}
	fuzzFamily(f, "contrastive")
}
