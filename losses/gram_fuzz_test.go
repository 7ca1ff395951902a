package losses_test

import "testing"

func init() {
	fuzzFamilies["gram"] = []string{"feature_loss", "gram_style_loss"}
	fuzzEnums["losses.FeatureCriterion"] = []string{"mse", "l1", "l2", ""}
}

// FuzzGram fuzzes feature_loss and gram_style_loss over one layer.
func FuzzGram(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("gram")) }
	for i := range fuzzFamilies["gram"] {
		add(fuzzCase{loss: byte(i), dims: []byte{2, 3, 4}})
		// option 0 (criterion l1, or layer_weight 1) and option 1 (layer_weight -1)
		add(fuzzCase{loss: byte(i), opts: []byte{2, 0, 1, 1, 2}, dims: []byte{2, 3, 4}})
		// NaN and infinite features
		add(fuzzCase{loss: byte(i), dims: []byte{1, 2, 2}, vals: []byte{0xC0, 0xC1, 0xC2, 0x40}})
	}
	fuzzFamily(f, "gram")
}
