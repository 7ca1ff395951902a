package losses_test

import "testing"

// The distill family in the shared fuzz harness (fuzz_test.go): every
// property it checks (no panic, success or an *ArgError with nothing
// written, the same bits twice), through the declarations. dpo_loss's
// loss_type draws from the shared string enum, to which its two other
// types are added.
func init() {
	fuzzFamilies["distill"] = []string{"jsd_loss", "sequence_log_probs", "dpo_loss"}
	fuzzEnums["string"] = append(fuzzEnums["string"], "hinge", "ipo")
}

func FuzzDistill(f *testing.F) {
	f.Add(fuzzCase{loss: 0, dims: []byte{3, 5}}.encode("distill"))
	f.Add(fuzzCase{loss: 0, opts: []byte{0, 1, 1, 2, 3, 1}, dims: []byte{2, 1}}.encode("distill"))
	f.Add(fuzzCase{loss: 1, dims: []byte{2, 3, 4}}.encode("distill"))
	f.Add(fuzzCase{loss: 1, opts: []byte{0, 1}, dims: []byte{1, 2, 1}}.encode("distill"))
	f.Add(fuzzCase{loss: 2, dims: []byte{4}}.encode("distill"))
	f.Add(fuzzCase{loss: 2, opts: []byte{0, 2, 1, 3, 2, 1}, dims: []byte{3}}.encode("distill"))
	fuzzFamily(f, "distill")
}
