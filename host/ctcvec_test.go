package host

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCTCVecPaths runs the float32 CTC mirror test and the row
// log-sum-exp test through both the vector loops (where the CPU has them)
// and the pure-Go loops; each is compared with its float64 reference.
func TestCTCVecPaths(t *testing.T) {
	defer func(v bool) { ctcVec = v }(ctcVec)
	for _, vec := range []bool{false, true} {
		if vec && !hasAVX2FMA {
			continue
		}
		name := map[bool]string{false: "go", true: "avx2"}[vec]
		t.Run(name, func(t *testing.T) {
			ctcVec = vec
			TestCTCMirrorFloat32(t)
			TestRowLSE32(t)
		})
	}
}

func needVec(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2/FMA loops on this build or CPU")
	}
}

const sentinel = -12345.5

// sentinels returns a slice of n values followed by pad sentinels.
func sentinels(n, pad int) []float64 {
	s := make([]float64, n+pad)
	for i := range s {
		s[i] = sentinel
	}
	return s
}

func checkPad[T float32 | float64](t *testing.T, what string, s []T, n int) {
	t.Helper()
	for i := n; i < len(s); i++ {
		if s[i] != sentinel {
			t.Fatalf("%s: wrote past %d at %d: %v", what, n, i, s[i])
		}
	}
}

// closeRel reports whether g is w to rel (relative, or absolute below 1),
// with NaN and infinities matched exactly.
func closeRel(g, w, rel float64) bool {
	switch {
	case math.IsNaN(w):
		return math.IsNaN(g)
	case math.IsInf(w, 0):
		return g == w
	}
	return math.Abs(g-w) <= rel*math.Max(1, math.Abs(w))
}

func TestCTCExpAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(5, 6))
	for it := 0; it < 3000; it++ {
		n := 1 + it%70
		ref := (r.Float64() - 0.5) * 1000
		w := make([]float64, n)
		for i := range w {
			w[i] = ref + (r.Float64()*2-1)*ctcSpread
			if r.IntN(8) == 0 {
				w[i] = negInf
			}
		}
		bad, kind := -1, 0
		if it%3 == 0 { // one value that fails the window
			bad, kind = r.IntN(n), r.IntN(4)
			w[bad] = []float64{math.NaN(), math.Inf(1), ref + 690.5, ref - 691}[kind]
		}
		e := sentinels((n+3)&^3, 8)
		ok, fin := ctcExpAVX(&e[0], &w[0], n, ref)
		checkPad(t, "e", e, (n+3)&^3)
		if ok != (bad < 0) || fin != (bad < 0 || kind >= 2) {
			t.Fatalf("n=%d: ok %v fin %v with bad value at %d (%v)", n, ok, fin, bad, w)
		}
		if !ok {
			continue
		}
		for i, v := range w {
			if want := math.Exp(v - ref); !(math.Abs(e[i]-want) <= 2e-13*want) {
				t.Fatalf("n=%d: exp(%v) = %v, want %v", n, v-ref, e[i], want)
			}
		}
	}
	// Exactly at the spread, and a single −Inf.
	w := []float64{-ctcSpread, ctcSpread, 0, negInf, 1e-300}
	e := make([]float64, 8)
	if ok, fin := ctcExpAVX(&e[0], &w[0], len(w), 0); !ok || !fin || e[3] != 0 || math.Abs(e[0]/math.Exp(-ctcSpread)-1) > 1e-12 || math.Abs(e[1]/math.Exp(ctcSpread)-1) > 1e-12 || e[4] != 1 {
		t.Fatalf("edge values: %v", e)
	}
}

// combRef is the reference of the combinations: rm + log(sum), −Inf for
// a sum of 0.
func combRef(sum, rm float64) float64 {
	if sum == 0 {
		return negInf
	}
	return rm + math.Log(sum)
}

func randE(r *rand.Rand, n int) []float64 {
	e := make([]float64, n+8)
	for i := range e {
		switch r.IntN(6) {
		case 0:
			e[i] = 0
		case 1:
			e[i] = math.Exp((r.Float64()*2 - 1) * 690)
		default:
			e[i] = r.Float64() * 3
		}
	}
	return e
}

// randLP returns a row x of C float32 values (some −Inf and NaN), n
// class indices into it, sh, and lp[i] = x[cls[i]] − sh.
func randLP(r *rand.Rand, n int) (x []float32, cls []int32, sh float64, lp []float64) {
	C := 1 + r.IntN(50)
	x = make([]float32, C)
	for i := range x {
		x[i] = float32(r.NormFloat64() * 5)
		switch r.IntN(30) {
		case 0:
			x[i] = float32(negInf)
		case 1:
			x[i] = float32(math.NaN())
		}
	}
	sh = r.NormFloat64() * 10
	cls, lp = make([]int32, n), make([]float64, n)
	for i := range cls {
		cls[i] = int32(r.IntN(C))
		lp[i] = float64(x[cls[i]]) - sh
	}
	return x, cls, sh, lp
}

func TestCTCAlphaCombAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(7, 8))
	for it := 0; it < 3000; it++ {
		n := 1 + it%70
		e := randE(r, n)
		x, cls, sh, lp := randLP(r, n)
		sk := make([]float64, n)
		for i := range sk {
			sk[i] = float64(r.IntN(2))
		}
		rm := (r.Float64() - 0.5) * 100
		cs := sentinels(n, 5)
		os := make([]float32, n+5)
		for i := range os {
			os[i] = sentinel
		}
		mx := ctcAlphaCombAVX(&e[0], &sk[0], &x[0], &cls[0], &cs[0], &os[0], n, sh, rm)
		checkPad(t, "cs", cs, n)
		checkPad(t, "os", os, n)
		want := negInf
		for i := range n {
			v := lp[i] + combRef(e[i+2]+e[i+1]+sk[i]*e[i], rm)
			if !closeRel(cs[i], v, 1e-14) || !(os[i] == float32(cs[i]) || math.IsNaN(v)) {
				t.Fatalf("n=%d cell %d: %v (%v), want %v", n, i, cs[i], os[i], v)
			}
			if v > want {
				want = v
			}
		}
		if !closeRel(mx, want, 1e-14) {
			t.Fatalf("n=%d: mx %v, want %v", n, mx, want)
		}
	}
}

func TestCTCBetaCombAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(9, 10))
	for it := 0; it < 3000; it++ {
		n := 1 + it%70
		nga := r.IntN(n + 1)
		e := randE(r, n)
		x, cls, sh, lp := randLP(r, n)
		sk := make([]float64, n)
		for i := range sk {
			sk[i] = float64(r.IntN(2))
		}
		rm := (r.Float64() - 0.5) * 100
		cs, gam := sentinels(n, 5), sentinels(n, 5)
		os := make([]float32, n+5)
		for i := range os {
			os[i] = sentinel
		}
		w := make([]float32, n) // the forward values os holds on entry
		for i := range w {
			w[i] = float32(-r.Float64() * 30)
			switch {
			case i >= nga || r.IntN(20) == 0:
				w[i] = float32(negInf)
			case it%9 == 0 && r.IntN(10) == 0:
				w[i] = float32(math.NaN())
			}
			os[i] = w[i]
		}
		mx, gmx := ctcBetaCombAVX(&e[0], &sk[0], &x[0], &cls[0], &cs[0], &os[0], &gam[0], n, nga, sh, rm)
		checkPad(t, "cs", cs, n)
		checkPad(t, "os", os, n)
		checkPad(t, "gam", gam, n)
		wantG, nan := negInf, false
		for i := range n {
			rr := combRef(e[i]+e[i+1]+sk[i]*e[i+2], rm)
			v := lp[i] + rr
			if !closeRel(cs[i], v, 1e-14) || !(os[i] == float32(cs[i]) || math.IsNaN(v)) {
				t.Fatalf("n=%d cell %d: %v (%v), want %v", n, i, cs[i], os[i], v)
			}
			g := float64(w[i]) + rr
			if !closeRel(gam[i], g, 1e-14) {
				t.Fatalf("n=%d cell %d: gam %v, want %v", n, i, gam[i], g)
			}
			if i < nga {
				if g != g {
					nan = true
				} else {
					wantG = max(wantG, g)
				}
			}
		}
		if nan {
			wantG = math.NaN()
		}
		if !closeRel(gmx, wantG, 1e-14) {
			t.Fatalf("n=%d nga=%d: gmx %v, want %v", n, nga, gmx, wantG)
		}
		want := negInf // maxnum of the new values
		for i := range n {
			if cs[i] > want {
				want = cs[i]
			}
		}
		if mx != want {
			t.Fatalf("n=%d: mx %v, want %v", n, mx, want)
		}
	}
}

func TestCTCOccExpAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(11, 12))
	for it := 0; it < 2000; it++ {
		n := 1 + it%70
		ref := (r.Float64() - 0.5) * 200
		la := sentinels(n, 5)
		for i := range n {
			la[i] = ref - r.Float64()*100
			if r.IntN(10) == 0 {
				la[i] = negInf
			}
		}
		in := append([]float64(nil), la[:n]...)
		par := r.IntN(100)
		sum, blank := ctcOccExpAVX(&la[0], n, ref, par)
		checkPad(t, "la", la, n)
		want, wantB := 0.0, 0.0
		for i, v := range in {
			e := 0.0
			if v-ref > occCut {
				e = math.Exp(v - ref)
			}
			if !(math.Abs(la[i]-e) <= 2e-13*e) {
				t.Fatalf("n=%d: exp(%v) = %v, want %v", n, v-ref, la[i], e)
			}
			want += e
			if (par+i)%2 == 0 {
				wantB += e
			}
		}
		if !(math.Abs(sum-want) <= 2e-13*want) || !(math.Abs(blank-wantB) <= 2e-13*wantB) {
			t.Fatalf("n=%d par=%d: sum %v, blank %v, want %v, %v", n, par, sum, blank, want, wantB)
		}
	}
}

func TestLSESum32AVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(13, 14))
	inf := float32(math.Inf(-1))
	for it := 0; it < 3000; it++ {
		n := 1 + it%45
		if it%50 == 0 {
			n = 5000 + it%17
		}
		x := make([]float32, n+8)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 10)
			if r.IntN(15) == 0 {
				x[i] = inf
			}
			if i >= n {
				x[i] = 1e30 // must not be read
			}
		}
		ref := float32(r.NormFloat64() * 10)
		hi := ref + 88
		over := -1
		switch it % 5 {
		case 1:
			over = r.IntN(n)
			x[over] = hi + 1 + float32(r.IntN(100))
		case 2:
			x[r.IntN(n)] = float32(math.NaN())
		}
		sum, gotOver := lseSum32AVX(&x[0], n, ref, hi)
		if gotOver != (over >= 0) {
			t.Fatalf("n=%d: over %v, want %v", n, gotOver, over >= 0)
		}
		if over >= 0 {
			continue
		}
		want := 0.0
		for _, v := range x[:n] {
			d := max(float64(v-ref), -87.33654)
			if v != v {
				d = math.NaN()
			}
			want += math.Exp(d)
		}
		if !closeRel(sum, want, 3e-7) {
			t.Fatalf("n=%d: sum %v, want %v", n, sum, want)
		}
	}
}

func TestSoftmaxLSE32AVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(15, 16))
	for it := 0; it < 3000; it++ {
		n := 1 + it%45
		if it%50 == 0 {
			n = 5000 + it%17
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(-math.Abs(r.NormFloat64()) * 30)
			switch r.IntN(20) {
			case 0:
				x[i] = float32(math.Inf(-1))
			case 1:
				x[i] = float32(math.NaN())
			}
		}
		sh := float32(r.NormFloat64())
		scale := float32(r.Float64())
		g := make([]float32, n+9)
		for i := range g {
			g[i] = sentinel
		}
		softmaxLSE32AVX(&g[0], &x[0], n, sh, scale)
		checkPad(t, "g", g, n)
		for i, v := range x {
			d := v - sh
			want := 0.0
			if d >= -87.33654 {
				want = float64(scale) * math.Exp(float64(d))
			}
			if !(math.Abs(float64(g[i])-want) <= 3e-7*want+3e-45) { // subnormal results: absolute
				t.Fatalf("n=%d: %v·exp(%v) = %v, want %v", n, scale, d, g[i], want)
			}
		}
	}
}

func TestRowMax32AVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(17, 18))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for it := 0; it < 3000; it++ {
		n := 1 + it%45
		if it%50 == 0 {
			n = 5000 + it%17
		}
		x := make([]float32, n+8)
		for i := range x {
			x[i] = float32(r.NormFloat64()*10 - 50)
			switch r.IntN(10) {
			case 0:
				x[i] = -inf
			case 1:
				if it%3 == 0 {
					x[i] = nan
				}
			case 2:
				if it%7 == 0 {
					x[i] = inf
				}
			}
			if i >= n {
				x[i] = 1e30 // must not be read
			}
		}
		if it%11 == 0 { // all NaN or −Inf
			for i := range n {
				x[i] = []float32{nan, -inf}[r.IntN(2)]
			}
		}
		want := -inf
		for _, v := range x[:n] {
			if v > want {
				want = v
			}
		}
		if got := rowMax32AVX(&x[0], n); got != want {
			t.Fatalf("n=%d: %v, want %v", n, got, want)
		}
	}
}

// lseRef is log(exp(a) + exp(b) + exp(c)) for finite or −Inf values.
func lseRef(a, b, c float64) float64 {
	m := max(a, b, c)
	if m == negInf {
		return negInf
	}
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m)+math.Exp(c-m))
}

// randWin returns n+2 window values spread over thousands of nats, some
// −Inf (all of them now and then).
func randWin(r *rand.Rand, n int) []float64 {
	w := make([]float64, n+2)
	spread := []float64{1, 100, 3000}[r.IntN(3)]
	allInf := r.IntN(10) == 0
	for i := range w {
		w[i] = (r.Float64() - 0.5) * spread
		if allInf || r.IntN(6) == 0 {
			w[i] = negInf
		}
	}
	return w
}

func TestCTCAlphaLSEAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(19, 20))
	for it := 0; it < 3000; it++ {
		n := 1 + it%70
		w := randWin(r, n)
		x, cls, sh, lp := randLP(r, n)
		sk := make([]float64, n)
		for i := range sk {
			sk[i] = float64(r.IntN(2))
		}
		m := (r.Float64() - 0.5) * 100
		cs := sentinels(n, 5)
		os := make([]float32, n+5)
		for i := range os {
			os[i] = sentinel
		}
		mx := ctcAlphaLSEAVX(&w[0], &sk[0], &x[0], &cls[0], &cs[0], &os[0], n, sh, m)
		checkPad(t, "cs", cs, n)
		checkPad(t, "os", os, n)
		want := negInf
		for i := range n {
			c := negInf
			if sk[i] != 0 {
				c = w[i]
			}
			v := lp[i] + (lseRef(w[i+2], w[i+1], c) - m)
			if !closeRel(cs[i], v, 1e-13) || !(os[i] == float32(cs[i]) || math.IsNaN(v)) {
				t.Fatalf("n=%d cell %d: %v (%v), want %v", n, i, cs[i], os[i], v)
			}
			if cs[i] > want {
				want = cs[i]
			}
		}
		if mx != want {
			t.Fatalf("n=%d: mx %v, want %v", n, mx, want)
		}
	}
}

func TestCTCBetaLSEAVX(t *testing.T) {
	needVec(t)
	r := rand.New(rand.NewPCG(21, 22))
	for it := 0; it < 3000; it++ {
		n := 1 + it%70
		nga := r.IntN(n + 1)
		w := randWin(r, n)
		x, cls, sh, lp := randLP(r, n)
		sk := make([]float64, n)
		for i := range sk {
			sk[i] = float64(r.IntN(2))
		}
		m := (r.Float64() - 0.5) * 100
		cs, gam := sentinels(n, 5), sentinels(n, 5)
		os := make([]float32, n+5)
		for i := range os {
			os[i] = sentinel
		}
		al := make([]float32, n) // the forward values os holds on entry
		for i := range al {
			al[i] = float32(-r.Float64() * 30)
			if i >= nga || r.IntN(20) == 0 {
				al[i] = float32(negInf)
			}
			os[i] = al[i]
		}
		mx, gmx := ctcBetaLSEAVX(&w[0], &sk[0], &x[0], &cls[0], &cs[0], &os[0], &gam[0], n, nga, sh, m)
		checkPad(t, "cs", cs, n)
		checkPad(t, "os", os, n)
		checkPad(t, "gam", gam, n)
		want, wantG := negInf, negInf
		for i := range n {
			c := negInf
			if sk[i] != 0 {
				c = w[i+2]
			}
			rr := lseRef(w[i], w[i+1], c) - m
			v := lp[i] + rr
			if !closeRel(cs[i], v, 1e-13) || !(os[i] == float32(cs[i]) || math.IsNaN(v)) {
				t.Fatalf("n=%d cell %d: %v (%v), want %v", n, i, cs[i], os[i], v)
			}
			if g := float64(al[i]) + rr; !closeRel(gam[i], g, 1e-13) {
				t.Fatalf("n=%d cell %d: gam %v, want %v", n, i, gam[i], g)
			} else if i < nga {
				wantG = max(wantG, g)
			}
			if cs[i] > want {
				want = cs[i]
			}
		}
		if mx != want || !closeRel(gmx, wantG, 1e-13) {
			t.Fatalf("n=%d nga=%d: mx %v gmx %v, want %v %v", n, nga, mx, gmx, want, wantG)
		}
	}
}
