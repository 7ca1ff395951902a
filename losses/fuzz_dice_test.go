package losses_test

import "testing"

// The dice family joins the fuzzed families from its own file.
func init() {
	fuzzFamilies["dice"] = []string{"dice_loss", "tversky_loss", "generalized_dice_loss", "dice_ce_loss", "dice_focal_loss"}
}

func FuzzDice(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("dice")) }
	for i := range fuzzFamilies["dice"] {
		// input [2, 3, 4], class indices [2, 4] (own shape)
		add(fuzzCase{loss: byte(i), dims: []byte{2, 3, 4}, ins: []byte{0, modeOwn << 1}, shapes: [][]byte{{2, 4}},
			vals: append(make([]byte, 24), 0, 1, 2, 0, 1, 1, 2, 0)})
		// a float target shaped like the input (spec bit 0x40), with options
		add(fuzzCase{loss: byte(i), opts: []byte{0, 1, 1, 2, 2, 3}, dims: []byte{2, 3, 4}, ins: []byte{0, 0x40}})
	}
	// class indices out of range, NaN and ±Inf logits
	add(fuzzCase{dims: []byte{1, 2, 3}, ins: []byte{0, modeOwn << 1}, shapes: [][]byte{{1, 3}},
		vals: []byte{0xC0, 0xC1, 0xC2, 0x40, 0x41, 0x42, 0, 5, 0xC3}})
	fuzzFamily(f, "dice")
}
