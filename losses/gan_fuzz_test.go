package losses_test

import (
	"testing"
)

// The gan family in the shared fuzz harness (fuzz_test.go): every property
// it checks (no panic, an *ArgError or success, nothing written on an
// error, the same bits twice), through the declarations.
func init() {
	fuzzFamilies["gan"] = []string{"gan_discriminator_loss", "gan_generator_loss", "gradient_penalty", "r1_penalty"}
	// The kind option is a string: the GAN kinds join the string values the
	// harness draws from (other families' strings then test the unknown-kind
	// refusal).
	fuzzEnums["string"] = append(fuzzEnums["string"], "minimax", "non_saturating", "wasserstein", "hinge",
		"least_squares", "relativistic_average", "bogus")
}

func FuzzGan(f *testing.F) {
	for i := range fuzzFamilies["gan"] {
		f.Add(fuzzCase{loss: byte(i), dims: []byte{3, 4}}.encode("gan"))
		// options set (kind, reduction, label smoothing or the penalty's), weights present
		f.Add(fuzzCase{loss: byte(i), opts: []byte{0, 5, 1, 2, 2, 1}, dims: []byte{2, 5}, ins: []byte{0, 0, 1, 1},
			vals: []byte{0x40, 0x7f, 0x00, 0xc0, 0x40, 0x40, 0x60, 0x40, 0x40, 0x40, 0x60, 0x60}}.encode("gan"))
	}
	fuzzFamily(f, "gan")
}
