package losses_test

import "testing"

// The image losses' fuzz targets. The fuzz format's shapes have at most
// three dimensions, so the fuzzed calls exercise the validation of
// [N, C, H, W] (every call must return an *ArgError, not panic or
// allocate); the losses' own tests run the four-dimensional cases.
func init() {
	fuzzFamilies["ssim"] = []string{"ssim_loss", "ms_ssim_loss"}
	fuzzFamilies["tv"] = []string{"total_variation"}
	fuzzEnums["losses.TVNorm"] = []string{"l1", "l2", "l2_squared", "l3"}
}

func FuzzSSIM(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("ssim")) }
	add(fuzzCase{dims: []byte{2, 3, 4}})
	add(fuzzCase{loss: 1, dims: []byte{1, 7, 7}, opts: []byte{1, 3, 2, 0xF1}})
	add(fuzzCase{dims: []byte{0xE0, 0, 5}})
	fuzzFamily(f, "ssim")
}

func FuzzTV(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("tv")) }
	add(fuzzCase{dims: []byte{2, 3, 4}, opts: []byte{1, 2}})
	add(fuzzCase{dims: []byte{0, 0xE0, 0xE0}})
	fuzzFamily(f, "tv")
}
