package losses_test

import "testing"

// The Lovász losses' fuzz target (see fuzz_test.go for what every call
// must do); their family joins fuzzFamilies here.
func init() {
	fuzzFamilies["lovasz"] = []string{"lovasz_softmax_loss", "lovasz_hinge_loss"}
}

func FuzzLovasz(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("lovasz")) }
	logits := []byte{0x50, 0x60, 0x40, 0x30, 0x40, 0x70, 0x44, 0x48, 0x44, 0x40, 0x50, 0x40,
		0x52, 0x34, 0x47, 0x40, 0x61, 0x40, 0x33, 0x40, 0x55, 0x40, 0x49, 0x38}
	// lovasz_softmax_loss: input [2, 3, 4], labels [2, 4]
	add(fuzzCase{dims: []byte{2, 3, 4}, ins: []byte{0, modeOwn << 1}, shapes: [][]byte{{2, 4}},
		vals: append(append([]byte{}, logits...), 0, 1, 2, 0, 2, 2, 1, 0)})
	// per_image, ignore_index -1, classes "all" (a string the option
	// decoding refuses otherwise), probabilities; an ignored pixel and an
	// out-of-range label
	add(fuzzCase{opts: []byte{0, 1, 1, 4, 3, 0}, dims: []byte{2, 3, 4}, ins: []byte{0, modeOwn << 1},
		shapes: [][]byte{{2, 4}}, vals: append(append([]byte{}, logits...), 0, 0xC0, 2, 0, 2, 7, 1, 0)})
	// NaN and ±Inf logits, equal errors, skip_target_check
	add(fuzzCase{opts: []byte{4, 1}, dims: []byte{1, 2, 5}, ins: []byte{0, modeOwn << 1}, shapes: [][]byte{{1, 5}},
		vals: []byte{0xC0, 0x40, 0x40, 0xC1, 0xC2, 0x40, 0x40, 0x40, 0x40, 0x40, 0, 1, 1, 0, 9}})
	// lovasz_hinge_loss: logits [2, 5], labels 0/1 [2, 5]
	add(fuzzCase{loss: 1, dims: []byte{2, 5}, vals: append(logits[:10:10], 1, 0, 0, 1, 1, 0, 1, 0, 0, 1)})
	// per image, ignore_index -1, ties, a label 2
	add(fuzzCase{loss: 1, opts: []byte{0, 1, 1, 4}, dims: []byte{2, 1, 3},
		vals: []byte{0x50, 0x30, 0x50, 0x40, 0x40, 0xC0, 1, 0, 0xC0, 0xC0, 0xC0, 2}})
	fuzzFamily(f, "lovasz")
}
