package losses_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// The mining family in the shared fuzz harness (fuzz_test.go).
func init() {
	fuzzFamilies["mining"] = []string{"batch_triplet_loss", "circle_loss", "barlow_twins_loss"}
}

func FuzzMining(f *testing.F) {
	f.Add(fuzzCase{dims: []byte{4, 3}}.encode("mining"))
	f.Add(fuzzCase{opts: []byte{1, 2, 1, 0}, dims: []byte{1, 1}}.encode("mining"))
	fuzzFamily(f, "mining")
}

// FuzzBatchTripletLoss: any embeddings, labels, mining, distance, margin
// and soft: no panic, an *ArgError or success, the same bits twice, and
// finite results for moderate embeddings (except semi_hard's NaN for a
// batch without a positive pair).
func FuzzBatchTripletLoss(f *testing.F) {
	f.Add(byte(0), byte(0), byte(0), byte(3), []byte{0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 0, 1, 1})
	f.Add(byte(1), byte(2), byte(1), byte(2), make([]byte, 48), []byte{0, 1, 0})
	f.Add(byte(2), byte(1), byte(2), byte(1), []byte{0, 0, 192, 127, 0, 0, 128, 127, 0, 0, 128, 255, 1, 0, 0, 0}, []byte{5, 5})
	f.Fuzz(func(t *testing.T, mSel, dSel, marginSel, dim byte, data, labs []byte) {
		v := fuzzFloats(data)
		d := int(dim%8) + 1
		b := min(len(v)/d, len(labs), 40)
		x := v[:b*d]
		lab := make([]int32, b)
		for i := range lab {
			lab[i] = int32(labs[i] % 4)
		}
		margin := []float64{1, 0.2, math.NaN(), -0.5}[marginSel%4]
		o := losses.BatchTripletLossOptions{Mining: []string{"hard", "semi_hard", "all", "bogus"}[mSel%4],
			Distance: []string{"l2", "squared_l2", "cosine", ""}[dSel%4], Margin: &margin, Soft: marginSel&4 != 0}
		run := func() ([]float32, []float32, error) {
			loss, g := make([]float32, 1), make([]float32, b*d)
			err := losses.BatchTripletLoss(hostDev, losses.MiningArgs{Embeddings: losses.HostTensor(x, b, d),
				Labels: losses.HostTensor(lab, b), Loss: losses.HostTensor(loss), GradEmbeddings: losses.HostTensor(g, b, d)}, o)
			return loss, g, err
		}
		l1, g1, err := run()
		if err != nil {
			var ae *losses.ArgError
			if !errors.As(err, &ae) {
				t.Fatalf("%v (want an *ArgError)", err)
			}
			return
		}
		l2, g2, _ := run()
		if !slices.Equal(bits(l1), bits(l2)) || !slices.Equal(bits(g1), bits(g2)) {
			t.Fatal("two calls differ")
		}
		if boundedFinite(x, 1e6) && !(o.Mining == "semi_hard" && math.IsNaN(float64(l1[0]))) {
			if !boundedFinite(l1, math.MaxFloat32) || !boundedFinite(g1, math.MaxFloat32) {
				t.Fatalf("non-finite results for moderate embeddings: loss %v grad %v", l1, g1)
			}
		}
	})
}
