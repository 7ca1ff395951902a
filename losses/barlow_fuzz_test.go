package losses_test

import "testing"

// The barlow family in the shared fuzz harness (fuzz_test.go): every
// property it checks, through the declaration.
func init() {
	fuzzFamilies["barlow"] = []string{"barlow_twins_loss"}
}

func FuzzBarlow(f *testing.F) {
	f.Add(fuzzCase{dims: []byte{4, 3}}.encode("barlow"))
	f.Add(fuzzCase{opts: []byte{1, 2, 1}, dims: []byte{2, 5}}.encode("barlow"))
	f.Add(fuzzCase{dims: []byte{1, 1}}.encode("barlow"))
	fuzzFamily(f, "barlow")
}
