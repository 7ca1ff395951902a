package losses_test

import (
	"errors"
	"math"
	"testing"

	"github.com/lossengine/lossengine/losses"
)

// The declared form (one rank holding the whole vocabulary) in the shared
// fuzz harness (fuzz_test.go).
func init() { fuzzFamilies["vocabparallel"] = []string{"vocab_parallel_cross_entropy"} }

func FuzzVocabParallelDecl(f *testing.F) {
	add := func(c fuzzCase) { f.Add(c.encode("vocabparallel")) }
	// input [2, 3], class targets [2]
	add(fuzzCase{dims: []byte{2, 3}, ins: []byte{0, modeFirst << 1}, vals: []byte{0x50, 0x60, 0x40, 0x30, 0x40, 0x70, 2, 0}})
	// options set from the value pattern; NaN and ±Inf logits, out-of-range classes
	add(fuzzCase{opts: []byte{4, 1, 3, 3, 2, 4, 1, 5, 2}, dims: []byte{2, 3}, ins: []byte{0, modeFirst << 1},
		vals: []byte{0xC0, 0xC1, 0xC2, 0x40, 0x41, 0x42, 1, 9}})
	add(fuzzCase{dims: []byte{3, 2}, ins: []byte{0, modeFirst << 1}, outs: []byte{0, 1, 1, 0}})
	fuzzFamily(f, "vocabparallel")
}

// FuzzVocabParallel: any shape (N <= 6, V <= 40), rank count (1-4),
// options, logits and targets (some out of range): no panic and no hang;
// every rank refuses with an *ArgError or every rank succeeds; ranks get
// the same loss bits; and the gathered result of the ranks agrees with the
// one-rank call over the full logits when both are finite.
func FuzzVocabParallel(f *testing.F) {
	f.Add([]byte{3, 11, 3, 0, 0, 0, 0}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
	f.Add([]byte{4, 7, 4, 1, 3, 2, 9}, []byte{200, 17, 3, 99, 0, 255, 128, 64})
	f.Add([]byte{0, 5, 2, 0, 0, 0, 0}, []byte{})
	f.Add([]byte{2, 1, 1, 2, 1, 1, 1}, []byte{7, 7})
	f.Fuzz(func(t *testing.T, shape, vals []byte) {
		if len(shape) < 7 {
			return
		}
		n, v, ranks := int(shape[0]%7), 1+int(shape[1]%40), 1+int(shape[2]%4)
		if ranks > v {
			ranks = v
		}
		o := losses.VocabParallelCrossEntropyOptions{Reduction: losses.Reduction(shape[3] % 4)}
		o.LabelSmoothing = float64(shape[4]%5) / 4 // 1.25 is refused
		o.Softcap = float64(int(shape[5]%4) - 1)   // -1 is refused
		o.ZLoss = float64(shape[6]%3) * 0.01
		at := func(i int) byte {
			if len(vals) == 0 {
				return 0
			}
			return vals[i%len(vals)]
		}
		x := make([]float64, n*v)
		for i := range x {
			x[i] = float64(float32((float64(at(i)) - 128) / 16))
		}
		tg := make([]int32, n)
		for i := range tg {
			tg[i] = int32(at(n*v+i)) - 3 // -3 .. 252: out of range or not
			if tg[i] == -3 {
				tg[i] = -100
			}
		}
		if o.Reduction == 3 {
			o.Reduction = losses.Mean
		}
		sharded := vpRunShards(t, x, tg, n, v, ranks, nil, o, false)
		nl := 1
		if o.Reduction == losses.None {
			nl = n
		}
		loss, grad := make([]float64, nl), make([]float64, n*v)
		oneErr := losses.VocabParallelCrossEntropy(hostDev, nil, losses.VocabParallelCrossEntropyArgs{
			Input: losses.HostTensor(x, n, v), Target: losses.HostTensor(tg), Loss: losses.HostTensor(loss, nl),
			GradInput: losses.HostTensor(grad, n, v)}, o)
		var ae *losses.ArgError
		failed := 0
		for _, err := range sharded.errs {
			if err != nil {
				failed++
				if !errors.As(err, &ae) {
					t.Fatalf("not an *ArgError: %v", err)
				}
			}
		}
		if failed != 0 && failed != len(sharded.errs) {
			t.Fatalf("%d of %d ranks failed: %v", failed, len(sharded.errs), sharded.errs)
		}
		if (oneErr != nil) != (failed != 0) {
			t.Fatalf("one rank: %v; %d ranks: %v", oneErr, ranks, sharded.errs)
		}
		if oneErr != nil {
			return
		}
		for i := range loss {
			a, b := loss[i], sharded.loss[i]
			if math.IsNaN(a) || math.IsInf(a, 0) {
				continue
			}
			if math.Abs(a-b) > 1e-9*(1+math.Abs(a)) {
				t.Fatalf("loss[%d]: one rank %v, %d ranks %v", i, a, ranks, b)
			}
		}
		for i := range grad {
			if a, b := grad[i], sharded.grad[i]; !math.IsNaN(a) && math.Abs(a-b) > 1e-9 {
				t.Fatalf("grad[%d]: one rank %v, %d ranks %v", i, a, ranks, b)
			}
		}
	})
}
