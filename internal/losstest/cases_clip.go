package losstest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, clipCases) }

// clipGrads returns gradients of total length n (float32-exact) at the
// given scale, N(0, 1)·scale.
func clipGrads(n int, seed uint64, scale float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 91))
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64() * scale
	}
	return roundTo32(x)
}

// clipSplit returns k buffer lengths adding up to n: random, with zeros
// among them when zeros is set.
func clipSplit(n, k int, seed uint64, zeros bool) []int32 {
	r := rand.New(rand.NewPCG(seed, 92))
	cuts := make([]int, k-1)
	for i := range cuts {
		cuts[i] = r.IntN(n + 1)
	}
	// sorted cut points give the lengths
	for i := 1; i < len(cuts); i++ {
		for j := i; j > 0 && cuts[j] < cuts[j-1]; j-- {
			cuts[j], cuts[j-1] = cuts[j-1], cuts[j]
		}
	}
	out := make([]int32, k)
	prev := 0
	for i, c := range cuts {
		out[i] = int32(c - prev)
		prev = c
	}
	out[k-1] = int32(n - prev)
	if zeros && k > 2 {
		out[1] += out[0]
		out[0] = 0
	}
	return out
}

func clipCases() []Case {
	var cs []Case
	inf := losses.ClipNormType(math.Inf(1))
	norm := func(o losses.ClipGradNormOptions) losses.ClipGradNormFlatOptions {
		return losses.ClipGradNormFlatOptions{ClipGradNormOptions: o}
	}
	type layout struct {
		what  string
		shape []int
		sizes []int32
	}
	layouts := []layout{
		{"odd-sizes", []int{4, 25}, []int32{37, 0, 63}},
		{"many-tiny", []int{1000}, clipSplit(1000, 400, 1, true)},
		{"one-huge", []int{300007}, nil},
		{"split-huge", []int{3, 100003}, clipSplit(300009, 7, 2, true)},
		{"all-empty", []int{0}, []int32{0, 0, 0}},
		{"no-buffers", []int{0}, []int32{}},
	}
	opts := []struct {
		what string
		o    losses.ClipGradNormOptions
	}{
		{"clip", losses.ClipGradNormOptions{MaxNorm: 1}},
		{"no-clip", losses.ClipGradNormOptions{MaxNorm: 1e6}},
		{"p=1", losses.ClipGradNormOptions{MaxNorm: 1, NormType: 1}},
		{"p=3", losses.ClipGradNormOptions{MaxNorm: 1, NormType: 3}},
		{"p=0.5", losses.ClipGradNormOptions{MaxNorm: 1, NormType: 0.5}},
		{"p=inf", losses.ClipGradNormOptions{MaxNorm: 0.25, NormType: inf}},
		{"optax", losses.ClipGradNormOptions{MaxNorm: 2, Mode: losses.ClipOptax}},
	}
	for li, l := range layouts {
		n := 1
		for _, d := range l.shape {
			n *= d
		}
		for oi, o := range opts {
			for si, scale := range []float64{1, 1e30} {
				if scale != 1 && (o.what == "p=3" || o.what == "p=0.5" || li > 1) {
					continue
				}
				x := clipGrads(n, uint64(li*100+oi*10+si), scale)
				ins := inputs{"input": fl(x, l.shape...)}
				if l.sizes != nil {
					ins["sizes"] = ints(l.sizes, len(l.sizes))
				}
				cs = append(cs, declCase(fmt.Sprintf("clip_grad_norm/%s/%s/scale=%g", l.what, o.what, scale),
					"clip_grad_norm", 2e-5, ins, norm(o.o)))
			}
		}
	}
	// non-finite gradients: a NaN makes everything NaN, an Inf zeroes the
	// finite ones (torch's arithmetic, error_if_nonfinite false)
	for k, v := range []float64{math.NaN(), math.Inf(1)} {
		x := clipGrads(500, uint64(900+k), 1)
		x[123] = v
		cs = append(cs, declCase(fmt.Sprintf("clip_grad_norm/nonfinite=%v", v), "clip_grad_norm", 2e-5,
			inputs{"input": fl(x, 500), "sizes": ints([]int32{100, 0, 400}, 3)}, norm(losses.ClipGradNormOptions{MaxNorm: 1})))
	}
	for i, n := range []int{1, 7, 1000, 300007} {
		for _, v := range []float64{0.5, math.Inf(1)} {
			x := clipGrads(n, uint64(950+i), 1)
			if n > 7 {
				x[3], x[n-2] = math.NaN(), math.Inf(-1)
			}
			shape := []int{n}
			if n == 1000 {
				shape = []int{8, 125}
			}
			cs = append(cs, declCase(fmt.Sprintf("clip_grad_value/n=%d/v=%v", n, v), "clip_grad_value", 0,
				inputs{"input": fl(x, shape...)}, losses.ClipGradValueFlatOptions{ClipGradValueOptions: losses.ClipGradValueOptions{ClipValue: v}}))
		}
	}
	return cs
}
