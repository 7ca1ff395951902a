package losses_test

import (
	"testing"
)

// linear_cross_entropy in the shared fuzz harness (fuzz_test.go): every
// property it checks (no panic, *ArgError or success, bounded
// allocation, inputs unchanged, bitwise reruns), through its declaration.
func init() {
	fuzzFamilies["linear_ce"] = []string{"linear_cross_entropy"}
}

func FuzzLinearCE(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("linear_ce")) }
	// hidden [3, 4], weight [5, 4], bias [5], targets [3]
	add(fuzzCase{dims: []byte{3, 4}, ins: []byte{0, modeOwn << 1, modeOwn << 1, modeFirst << 1},
		shapes: [][]byte{{5, 4}, {5}}, vals: []byte{0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b}})
	// no bias; options from the value table (reduction, z_loss, softcap, chunk_rows, ...)
	add(fuzzCase{opts: []byte{3, 0, 1, 5, 2, 7, 3}, dims: []byte{2, 3}, ins: []byte{0, modeOwn << 1, 1, modeFirst << 1},
		shapes: [][]byte{{4, 3}}})
	// mismatched H, an empty batch
	add(fuzzCase{dims: []byte{2, 3}, ins: []byte{0, modeOwn << 1, 1, modeFirst << 1}, shapes: [][]byte{{4, 2}}})
	add(fuzzCase{dims: []byte{0, 3}, ins: []byte{0, modeOwn << 1, modeOwn << 1, modeFirst << 1}, shapes: [][]byte{{4, 3}, {4}}})
	fuzzFamily(f, "linear_ce")
}
