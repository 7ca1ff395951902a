//go:build amd64 && !purego

package host

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// ulpDiff is the distance in float32 units in the last place between a
// and b (0 for two NaNs, or for equal infinities).
func ulpDiff(a, b float32) float64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.Inf(1)
	}
	if a == b {
		return 0
	}
	if math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) {
		return math.Inf(1)
	}
	ord := func(x float32) int64 {
		u := int64(math.Float32bits(x))
		if u&(1<<31) != 0 {
			return -(u & (1<<31 - 1))
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return float64(d)
}

func vecArgs(x, y, a, gx, gy, ga, l []float32) *pwArgs {
	p := func(v []float32) *float32 {
		if v == nil {
			return nil
		}
		return &v[0]
	}
	return &pwArgs{x: p(x), y: p(y), a: p(a), gx: p(gx), gy: p(gy), ga: p(ga), l: p(l), k: &pwConst, n: len(x)}
}

func TestVectorExpLog(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("the CPU has no AVX2 and FMA3")
	}
	defer func() { use512 = hasAVX512 }()
	for _, wide := range []bool{false, true} {
		if wide && !hasAVX512 {
			t.Log("the CPU has no AVX-512F: 16-lane loops not run")
			continue
		}
		use512 = wide
		testVectorExpLog(t)
	}
}

func testVectorExpLog(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var xs []float32
	for range 1 << 16 {
		xs = append(xs, float32((r.Float64()*2-1)*100))
	}
	specials := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 88.7, 88.72, 88.73, 89, 89.5, 1e4, -87.3, -87.34, -88, -100, -1e4,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, 1e-40, 1.1754944e-38, 3.4e38, 0.7071067, 0.7071068, 2}
	xs = append(xs, specials...)
	for len(xs)%16 != 0 {
		xs = append(xs, 0.5)
	}
	l := make([]float32, len(xs))
	expLoop, logLoop := exp32AVX2, log32AVX2
	lanes := "8 lanes"
	if use512 {
		expLoop, logLoop, lanes = exp32AVX512, log32AVX512, "16 lanes"
	}
	expLoop(vecArgs(xs, nil, nil, nil, nil, nil, l))
	worst := 0.0
	for i, x := range xs {
		want := expf(x)
		if d := ulpDiff(l[i], want); d > 2 {
			if !(want != 0 && math.Abs(float64(l[i]-want)) < 1e-38) {
				t.Errorf("exp(%v) = %v, expf gives %v (%v ulp)", x, l[i], want, d)
			}
		} else {
			worst = max(worst, d)
		}
	}
	t.Logf("exp, %s: worst %v ulp from expf", lanes, worst)
	ys := make([]float32, len(xs))
	for i, x := range xs {
		ys[i] = float32(math.Abs(float64(x)) * math.Pow(10, float64(i%80-40)))
	}
	ys = append(ys[:len(ys)-len(specials)-len(ys)%8], 0, 0, 0, 0, 0, 0, 0, 0)
	ys = append(ys, specials...)
	ys = append(ys, -1, -1e-30, float32(math.Inf(-1)), 1e-44, 2e-39, 5e-39, 1, 1)
	for len(ys)%16 != 0 {
		ys = append(ys, 3)
	}
	l = make([]float32, len(ys))
	logLoop(vecArgs(ys, nil, nil, nil, nil, nil, l))
	worst = 0
	for i, y := range ys {
		want := float32(math.Log(float64(y)))
		d := ulpDiff(l[i], want)
		if d > 2 && !(math.Abs(float64(l[i]-want)) < 2e-7) {
			t.Errorf("log(%v) = %v, want %v (%v ulp)", y, l[i], want, d)
		} else if !math.IsInf(d, 0) {
			worst = max(worst, d)
		}
	}
	t.Logf("log, %s: worst %v ulp", lanes, worst)
}

// TestVectorLoops runs every vector loop against the scalar pointwiseOp
// on random and special values and requires the same loss and gradients
// to a few float32 ulps (absolute 1e-6 near zero), and NaN where it gives
// NaN.
func TestVectorLoops(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("the CPU has no AVX2 and FMA3")
	}
	type cs struct {
		name       string
		op         int32
		p0, p1, p2 float32
		gen        func(r *rand.Rand) (x, y, a float32)
	}
	nrm := func(r *rand.Rand) float32 { return float32(r.NormFloat64() * 3) }
	pm1 := func(r *rand.Rand) float32 { return float32(2*r.IntN(2) - 1) }
	prob := func(r *rand.Rand) float32 { return float32(r.Float64()) }
	reg := func(r *rand.Rand) (float32, float32, float32) { return nrm(r), nrm(r), 1 }
	cases := []cs{
		{"mse", kernelspec.OpMSE, 0, 0, 0, reg},
		{"l1", kernelspec.OpL1, 0, 0, 0, reg},
		{"huber", kernelspec.OpHuber, 1.5, 0, 0, reg},
		{"smooth_l1", kernelspec.OpSmoothL1, 0.7, 0, 0, reg},
		{"smooth_l1 beta 0", kernelspec.OpSmoothL1, 0, 0, 0, reg},
		{"hinge", kernelspec.OpHinge, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), pm1(r), 1 }},
		{"squared_hinge", kernelspec.OpSquaredHinge, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), pm1(r), 1 }},
		{"hinge_embedding", kernelspec.OpHingeEmbedding, 1, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), pm1(r), 1 }},
		{"mape", kernelspec.OpMAPE, 1e-7, 0, 0, func(r *rand.Rand) (float32, float32, float32) {
			y := nrm(r)
			if r.IntN(10) == 0 {
				y = 0
			}
			return nrm(r), y, 1
		}},
		{"log_cosh", kernelspec.OpLogCosh, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) {
			x := nrm(r)
			if r.IntN(10) == 0 {
				return x, x + float32(r.NormFloat64()*1e-4), 1
			}
			return x, nrm(r), 1
		}},
		{"soft_margin", kernelspec.OpSoftMargin, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return 3 * nrm(r), pm1(r), 1 }},
		{"bce_logits", kernelspec.OpBCEWithLogits, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) {
			return 3 * nrm(r), prob(r), float32(r.Float64() * 3)
		}},
		{"sigmoid_focal", kernelspec.OpSigmoidFocal, 0.25, 2, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), float32(r.IntN(2)), 1 }},
		{"sigmoid_focal no alpha", kernelspec.OpSigmoidFocal, -1, 2, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), prob(r), 1 }},
		{"msle", kernelspec.OpMSLE, 1e-7, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r) * nrm(r), nrm(r) * nrm(r), 1 }},
		{"bce", kernelspec.OpBCE, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) {
			x := prob(r)
			switch r.IntN(10) {
			case 0:
				x = 0
			case 1:
				x = 1
			case 2:
				x = float32(math.Pow(10, -r.Float64()*45))
			}
			return x, prob(r), 1
		}},
		{"kl_div", kernelspec.OpKLDiv, 0, 0, 0, func(r *rand.Rand) (float32, float32, float32) {
			y := prob(r)
			if r.IntN(10) == 0 {
				y = 0
			}
			return nrm(r), y, 1
		}},
		{"kl_div log_target", kernelspec.OpKLDiv, 1, 0, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), nrm(r), 1 }},
		{"poisson", kernelspec.OpPoissonNLL, 0, 0, 1e-8, func(r *rand.Rand) (float32, float32, float32) { return prob(r) * 5, float32(r.IntN(6)), 1 }},
		{"poisson full", kernelspec.OpPoissonNLL, 0, 1, 1e-8, func(r *rand.Rand) (float32, float32, float32) { return prob(r) * 5, float32(r.IntN(6)), 1 }},
		{"poisson log_input", kernelspec.OpPoissonNLL, 1, 0, 1e-8, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), float32(r.IntN(6)), 1 }},
		{"poisson log_input full", kernelspec.OpPoissonNLL, 1, 1, 1e-8, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), float32(r.IntN(6)) * 3, 1 }},
		{"gaussian", kernelspec.OpGaussianNLL, 0, 1e-6, 0, func(r *rand.Rand) (float32, float32, float32) {
			v := prob(r) * 4
			if r.IntN(10) == 0 {
				v = 0
			}
			return nrm(r), nrm(r), v
		}},
		{"gaussian full", kernelspec.OpGaussianNLL, 1, 1e-6, 0, func(r *rand.Rand) (float32, float32, float32) { return nrm(r), nrm(r), prob(r) * 4 }},
	}
	defer func() { use512 = hasAVX512 }()
	for _, wide := range []bool{false, true} {
		if wide && !hasAVX512 {
			t.Log("the CPU has no AVX-512F: 16-lane loops not run")
			continue
		}
		use512 = wide
		for _, c := range cases {
			testVectorLoop(t, c.name, c.op, c.p0, c.p1, c.p2, c.gen, wide)
		}
	}
}

func testVectorLoop(t *testing.T, name string, op int32, p0, p1, p2 float32, gen func(r *rand.Rand) (x, y, a float32), wide bool) {
	c := struct {
		op         int32
		p0, p1, p2 float32
		gen        func(r *rand.Rand) (x, y, a float32)
	}{op, p0, p1, p2, gen}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	if wide {
		name += "/16 lanes"
	}
	{
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, uint64(c.op)))
			const n = 4096
			x, y, a := make([]float32, n), make([]float32, n), make([]float32, n)
			for i := range x {
				x[i], y[i], a[i] = c.gen(r)
			}
			// NaN and infinite inputs in the first lanes.
			x[0], x[9], x[18] = nan, inf, -inf
			y[27] = nan
			l, gx, gy, ga := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			args := vecArgs(x, y, a, gx, gy, ga, l)
			const gs = 0.75
			if vecLoop(c.op, c.p0, c.p1, c.p2, gs, args) != n {
				t.Fatal("no vector loop")
			}
			// The loop's own sum of the losses, past the NaN lanes: float32
			// lanes of about 500 terms each here (32 in a 256-element chunk).
			var want, scale float64
			for _, v := range l[32:] {
				want += float64(v)
				scale += math.Abs(float64(v))
			}
			sumArgs := vecArgs(x[32:], y[32:], a[32:], make([]float32, n-32), make([]float32, n-32), make([]float32, n-32), make([]float32, n-32))
			vecLoop(c.op, c.p0, c.p1, c.p2, gs, sumArgs)
			if d := math.Abs(sumArgs.sum - want); !(d <= 1e-5*scale) {
				t.Errorf("sum of losses %v, want %v", sumArgs.sum, want)
			}
			bad := 0
			check := func(i int, what string, got, want float32) {
				tol := math.Max(3e-6*math.Abs(float64(want)), 1e-6)
				if c.op == kernelspec.OpMSLE || c.op == kernelspec.OpKLDiv || c.op == kernelspec.OpPoissonNLL || c.op == kernelspec.OpBCE {
					tol = math.Max(tol, 2e-6) // differences of logs
				}
				ok := got == want || (got != got && want != want) || math.Abs(float64(got-want)) <= tol
				if !ok && bad < 10 {
					bad++
					t.Errorf("x=%v y=%v a=%v: %s = %v, scalar %v", x[i], y[i], a[i], what, got, want)
				}
			}
			for i := range x {
				wl, wx, wy, wa := pointwiseOp(c.op, x[i], y[i], a[i], c.p0, c.p1, c.p2)
				if c.op == kernelspec.OpHinge || c.op == kernelspec.OpSquaredHinge || c.op == kernelspec.OpHingeEmbedding || c.op == kernelspec.OpSoftMargin {
					if x[i] != x[i] || y[i] != y[i] {
						continue // labels are ±1; NaN is checked below
					}
				}
				check(i, "loss", l[i], wl)
				check(i, "grad_input", gx[i], gs*wx)
				check(i, "grad_target", gy[i], gs*wy)
				if c.op == kernelspec.OpGaussianNLL {
					check(i, "grad_var", ga[i], gs*wa)
				}
			}
		})
	}
}

// BenchmarkVectorLoop times each vector loop on 1024 elements that stay
// in the L1 cache: the compute cost per element, apart from memory.
func BenchmarkVectorLoop(b *testing.B) {
	if !hasAVX2FMA {
		b.Skip("the CPU has no AVX2 and FMA3")
	}
	ops := []struct {
		name       string
		op         int32
		p0, p1, p2 float32
	}{
		{"l1", kernelspec.OpL1, 0, 0, 0}, {"huber", kernelspec.OpHuber, 1, 0, 0}, {"smooth_l1", kernelspec.OpSmoothL1, 1, 0, 0},
		{"hinge", kernelspec.OpHinge, 0, 0, 0}, {"squared_hinge", kernelspec.OpSquaredHinge, 0, 0, 0},
		{"hinge_embedding", kernelspec.OpHingeEmbedding, 1, 0, 0}, {"mape", kernelspec.OpMAPE, 1e-7, 0, 0},
		{"log_cosh", kernelspec.OpLogCosh, 0, 0, 0}, {"soft_margin", kernelspec.OpSoftMargin, 0, 0, 0},
		{"bce_logits", kernelspec.OpBCEWithLogits, 0, 0, 0}, {"sigmoid_focal", kernelspec.OpSigmoidFocal, 0.25, 2, 0},
		{"msle", kernelspec.OpMSLE, 1e-7, 0, 0}, {"bce", kernelspec.OpBCE, 0, 0, 0}, {"kl_div", kernelspec.OpKLDiv, 0, 0, 0},
		{"poisson_log_input", kernelspec.OpPoissonNLL, 1, 0, 1e-8}, {"gaussian", kernelspec.OpGaussianNLL, 0, 1e-6, 0},
	}
	const n = 1024
	// Seven buffers at offsets 32 floats apart modulo 4 KiB, so that no
	// store shares its low 12 address bits with a later load (4K aliasing).
	buf := make([]float32, 7*(n+32))
	at := func(k int) []float32 { return buf[k*(n+32) : k*(n+32)+n] }
	x, y, a, l, gx, gy, ga := at(0), at(1), at(2), at(3), at(4), at(5), at(6)
	for i := range x {
		x[i], y[i], a[i] = float32(i%97)/97, float32(2*(i%2)-1), 1
	}
	defer func() { use512 = hasAVX512 }()
	for _, o := range ops {
		for _, wide := range []bool{false, true} {
			if wide && !hasAVX512 {
				continue
			}
			name := o.name
			if wide {
				name += "/16"
			}
			use512 = wide
			b.Run(name, func(b *testing.B) {
				b.SetBytes(4 * 4 * n)
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					vecLoop(o.op, o.p0, o.p1, o.p2, 1, vecArgs(x, y, a, gx, gy, ga, l))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/elem")
				b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/n, "cpu-ns/elem")
			})
		}
	}
}

// TestVectorRowHelpers holds the vector exp-and-sum and row maximum to
// the scalar loops: the same maximum exactly, and the same sum and
// exponentials to 2e-7 relative, on rows of every length up to 70 with
// NaN, ±Inf and very negative values. (rowLSE32's own vector path is
// tested in ctcvec_test.go.)
func TestVectorRowHelpers(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("the CPU has no AVX2 and FMA3")
	}
	defer func() { useVector, use512 = true, hasAVX512 }()
	for _, wide := range []bool{false, true} {
		if wide && !hasAVX512 {
			t.Log("the CPU has no AVX-512F: 16-lane loops not run")
			continue
		}
		testVectorRowHelpers(t, wide)
	}
}

func testVectorRowHelpers(t *testing.T, wide bool) {
	r := rand.New(rand.NewPCG(5, 6))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for n := 1; n <= 70; n++ {
		for trial := range 6 {
			row := make([]float32, n)
			for i := range row {
				row[i] = float32(r.NormFloat64() * 10)
			}
			switch trial {
			case 1:
				row[r.IntN(n)] = nan
			case 2:
				row[r.IntN(n)] = -inf
			case 3:
				for i := range row {
					row[i] = -inf
				}
			case 4:
				row[r.IntN(n)] = -200
			case 5:
				row[r.IntN(n)] = inf
			}
			useVector = false
			wm := rowMax(row)
			we := make([]float32, n)
			ws := expShiftSum32(we, row, wm)
			useVector, use512 = true, wide
			gm := rowMax(row)
			ge := make([]float32, n)
			gs := expShiftSum32(ge, row, gm)
			if math.Float32bits(gm) != math.Float32bits(wm) && !(gm != gm && wm != wm) {
				t.Fatalf("n=%d trial %d: rowMax %v, scalar %v", n, trial, gm, wm)
			}
			close := func(a, b float64) bool {
				return a == b || (a != a && b != b) || math.Abs(a-b) <= 2e-7*math.Abs(b)+1e-37
			}
			if !close(gs, ws) {
				t.Fatalf("n=%d trial %d: sum %v, scalar %v", n, trial, gs, ws)
			}
			for i := range ge {
				if !close(float64(ge[i]), float64(we[i])) {
					t.Fatalf("n=%d trial %d: exp[%d] = %v, scalar %v", n, trial, i, ge[i], we[i])
				}
			}
		}
	}
}

// TestCEProbRowVector holds the 16-lane probability-target cross-entropy
// row (exp included) to the scalar row: loss, gradient and target gradient
// to 1e-6 relative to the row's scale, on rows of 1 to 70 classes, with
// and without label smoothing and the target gradient, gradient in place,
// on logits near 0 and near 1000.
func TestCEProbRowVector(t *testing.T) {
	if !hasAVX512 {
		t.Skip("the CPU has no AVX-512F")
	}
	defer func() { use512 = hasAVX512 }()
	r := rand.New(rand.NewPCG(7, 8))
	for c := 1; c <= 70; c++ {
		for i, eps := range []float64{0, 0.1, 0, 0.1} {
			x, y := make([]float32, c), make([]float32, c)
			for k := range x {
				x[k] = float32(r.NormFloat64()*3 + float64(i/2)*1000)
				y[k] = float32(r.Float64())
			}
			m := rowMax(x)
			keep, u, gs := 1-eps, eps/float64(c), 0.25
			run := func(wide bool, withGT bool) (float64, []float32, []float32) {
				use512 = wide
				g := append([]float32(nil), x...) // in place over a copy of x
				var gt []float32
				if withGT {
					gt = make([]float32, c)
				}
				l := ceProbRow32(g, y, make([]float32, c), g, gt, m, keep, u, gs)
				return l, g, gt
			}
			for _, withGT := range []bool{false, true} {
				wl, wg, wgt := run(false, withGT)
				gl, gg, ggt := run(true, withGT)
				if math.Abs(gl-wl) > 1e-6*(1+math.Abs(wl)) {
					t.Fatalf("c=%d eps=%v: loss %v, scalar %v", c, eps, gl, wl)
				}
				for k := range wg {
					if math.Abs(float64(gg[k]-wg[k])) > 1e-6 {
						t.Fatalf("c=%d eps=%v: grad[%d] = %v, scalar %v", c, eps, k, gg[k], wg[k])
					}
					if withGT && math.Abs(float64(ggt[k]-wgt[k])) > 1e-6*(1+math.Abs(float64(wgt[k]))) {
						t.Fatalf("c=%d eps=%v: grad_target[%d] = %v, scalar %v", c, eps, k, ggt[k], wgt[k])
					}
				}
			}
		}
	}
}

// TestSoftmaxBwdLogVector holds the vector log_softmax backward row to the
// scalar one, dx = invTau·(dy − exp(y)·s), to 2 float32 ulps, at both
// widths, on rows of 1 to 70 with −Inf, NaN and very negative y.
func TestSoftmaxBwdLogVector(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("the CPU has no AVX2 and FMA3")
	}
	defer func() { use512 = hasAVX512 }()
	r := rand.New(rand.NewPCG(9, 10))
	for _, wide := range []bool{false, true} {
		if wide && !hasAVX512 {
			continue
		}
		use512 = wide
		for n := 1; n <= 70; n++ {
			y, dy := make([]float32, n), make([]float32, n)
			for i := range y {
				y[i], dy[i] = -float32(r.ExpFloat64()*5), float32(r.NormFloat64())
			}
			y[r.IntN(n)] = float32(math.Inf(-1))
			y[r.IntN(n)] = -100
			if n > 40 {
				y[r.IntN(n)] = float32(math.NaN())
			}
			const s, inv = float32(0.7), float32(0.5)
			dx := make([]float32, n)
			k := softmaxBwdLogVec(dx, y, dy, s, inv)
			if k != n&^7 && k != n&^15 {
				t.Fatalf("n=%d: did %d", n, k)
			}
			for i := range k {
				want := inv * (dy[i] - expf(y[i])*s)
				if d := ulpDiff(dx[i], want); d > 2 && math.Abs(float64(dx[i]-want)) > 1e-7 {
					t.Fatalf("16 lanes %v, n=%d: dx[%d] = %v, scalar %v (y=%v)", wide, n, i, dx[i], want, y[i])
				}
			}
		}
	}
}

// TestCERowArgsLayout holds ceRowArgs to the offsets ceProbRowAVX512
// reads and writes.
func TestCERowArgsLayout(t *testing.T) {
	var a ceRowArgs
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"n", unsafe.Offsetof(a.n), 40}, {"m", unsafe.Offsetof(a.m), 48}, {"r", unsafe.Offsetof(a.r), 52},
		{"kf", unsafe.Offsetof(a.kf), 56}, {"uf", unsafe.Offsetof(a.uf), 60}, {"gf", unsafe.Offsetof(a.gf), 64},
		{"gk", unsafe.Offsetof(a.gk), 68}, {"logS", unsafe.Offsetof(a.logS), 72}, {"sum", unsafe.Offsetof(a.sum), 80},
	} {
		if f.got != f.want {
			t.Errorf("ceRowArgs.%s is at offset %d; ceProbRowAVX512 reads it at %d", f.name, f.got, f.want)
		}
	}
}

// vecModes runs f under each path the unweighted float32 chunks of the
// elementwise losses can take on this CPU: the Go loops, and the 8-lane
// and 16-lane vector loops.
func vecModes(t *testing.T, f func(mode string)) {
	defer func() { useVector, use512 = hasAVX2FMA, hasAVX512 }()
	useVector = false
	f("Go loops")
	if hasAVX2FMA {
		useVector, use512 = true, false
		f("8 lanes")
	}
	if hasAVX512 {
		use512 = true
		f("16 lanes")
	}
}
