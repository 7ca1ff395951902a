package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("pairwise_rows", pairwiseRows[float32], pairwiseRows[float64])
	register("pairwise_avg_nonzero", pairwiseAvgNonzero[float32], pairwiseAvgNonzero[float64])
}

// pairParams are the scalar arguments of pairwise_rows.
type pairParams struct {
	op                      int32
	p, margin, margin2, eps float64
	swap                    bool
}

// pairPowP is |u|^p, exact for p = 1 and 2.
func pairPowP(u, p float64) float64 {
	a := math.Abs(u)
	switch p {
	case 2:
		return a * a
	case 1:
		return a
	}
	return math.Pow(a, p)
}

// pairRootP is s^(1/p).
func pairRootP(s, p float64) float64 {
	switch p {
	case 2:
		return math.Sqrt(s)
	case 1:
		return s
	}
	return math.Pow(s, 1/p)
}

// pairDNorm is d‖u‖_p/du_j at component u of a vector of norm nrm: 0 where
// the norm is 0 (PyTorch's norm backward), sgn(u) for p = 1, u/nrm for
// p = 2, sgn(u)·|u|^(p−1)/nrm^(p−1) otherwise.
func pairDNorm(u, nrm, p float64) float64 {
	switch {
	case nrm == 0:
		return 0
	case p == 1:
		return sgn(u)
	case p == 2:
		return u / nrm
	}
	return sgn(u) * math.Pow(math.Abs(u), p-1) / math.Pow(nrm, p-1)
}

// pairStep is 1 for v >= 0 (clamp_min passes the gradient), else 0.
func pairStep(v float64) float64 {
	if v >= 0 {
		return 1
	}
	return 0
}

// pairClampMin is max(v, lo) with NaN kept (PyTorch's clamp_min).
func pairClampMin(v, lo float64) float64 {
	if v < lo {
		return lo
	}
	return v
}

// pairRow is the loss of one row for op, in float64, and, where the
// gradient slices are not nil, g·dL/dx into g1, g2, g3 (of a, b, c, the
// row of x1, x2, x3) and g·dL/dy as gt. With u = a − b:
//
//	PwCosineEmbedding: cos = a·b / √((‖a‖² + eps)(‖b‖² + eps));
//	                   L = 1 − cos for y = 1, clamp_min(cos − margin, 0)
//	                   for y = −1, 0 for any other y (torch.where); no gt.
//	PwMarginRank:      L = clamp_min(−y·(a − b) + margin, 0), d = 1;
//	                   gt = −(a − b) where the clamp passes.
//	PwTriplet:         dist(x, z) = ‖(x − z) + eps‖_p (pairwise_distance),
//	PwTripletSq:       dist(x, z) = ‖x − z‖² (no eps),
//	PwTripletCos:      dist(x, z) = 1 − x·z / √(max(‖x‖², eps²)·max(‖z‖², eps²))
//	                   (PyTorch 1.13's cosine_similarity; the clamp passes
//	                   the gradient through);
//	                   dneg = dist(a, c), or min(dist(a, c), dist(b, c))
//	                   with swap (a tie splits the gradient evenly);
//	                   L = clamp_min((margin + dist(a, b)) − dneg, 0).
//	PwContrastive:     δ = ‖u‖, h = clamp_min(margin − δ, 0),
//	                   L = ½y‖u‖² + ½(1 − y)h²; dL/da = y·u − (1 − y)h·u/δ,
//	                   the second term 0 at δ = 0; gt = ½‖u‖² − ½h².
//	PwContrastivePML:  n_x = x / max(‖x‖, eps) (F.normalize), δ = ‖n_a − n_b‖,
//	                   L = y·relu(δ − margin) + (1 − y)·relu(margin2 − δ)
//	                   (relu's gradient 0 at 0, that of δ 0 at δ = 0);
//	                   gt = relu(δ − margin) − relu(margin2 − δ).
//	PwKerasCos:        L = −a·b / √(max(‖a‖², eps)·max(‖b‖², eps))
//	                   (tf.math.l2_normalize; the max passes the gradient
//	                   to ‖x‖² where ‖x‖² >= eps).
//
// clamp_min's gradient passes where its argument is >= 0, as PyTorch's.
func pairRow[T Float](k *pairParams, a, b, c []T, y, g float64, g1, g2, g3 []T) (L, gt float64) {
	d := len(a)
	var s0, s1, s2, s3, s4, s5 float64
	switch k.op {
	case kernelspec.PwCosineEmbedding, kernelspec.PwKerasCos:
		for j := range d {
			x, z := float64(a[j]), float64(b[j])
			s0 += x * z
			s1 += x * x
			s2 += z * z
		}
	case kernelspec.PwTriplet:
		if k.p == 2 {
			for j := range d {
				x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
				u, v := (x-z)+k.eps, (x-w)+k.eps
				s0 += u * u
				s1 += v * v
				if k.swap {
					r := (z - w) + k.eps
					s2 += r * r
				}
			}
			break
		}
		for j := range d {
			x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
			s0 += pairPowP((x-z)+k.eps, k.p)
			s1 += pairPowP((x-w)+k.eps, k.p)
			if k.swap {
				s2 += pairPowP((z-w)+k.eps, k.p)
			}
		}
	case kernelspec.PwTripletSq:
		for j := range d {
			x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
			s0 += (x - z) * (x - z)
			s1 += (x - w) * (x - w)
			s2 += (z - w) * (z - w)
		}
	case kernelspec.PwTripletCos:
		for j := range d {
			x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
			s0 += x * z
			s1 += x * w
			s2 += z * w
			s3 += x * x
			s4 += z * z
			s5 += w * w
		}
	case kernelspec.PwContrastive:
		for j := range d {
			u := float64(a[j]) - float64(b[j])
			s0 += u * u
		}
	case kernelspec.PwContrastivePML:
		for j := range d {
			x, z := float64(a[j]), float64(b[j])
			s1 += x * x
			s2 += z * z
		}
	}
	grads := g1 != nil || g2 != nil || g3 != nil
	put := func(j int, ga, gb, gc float64) { pairPut(g1, g2, g3, j, g, ga, gb, gc) }
	switch k.op {
	case kernelspec.PwCosineEmbedding:
		w1, w2 := s1+k.eps, s2+k.eps
		den := math.Sqrt(w1 * w2)
		cs := s0 / den
		dc := 0.0
		switch y {
		case 1:
			L, dc = 1-cs, -1
		case -1:
			v := cs - k.margin
			L, dc = pairClampMin(v, 0), pairStep(v)
		}
		if grads {
			for j := range d {
				x, z := float64(a[j]), float64(b[j])
				put(j, dc*(z/den-cs*x/w1), dc*(x/den-cs*z/w2), 0)
			}
		}
	case kernelspec.PwMarginRank:
		x, z := float64(a[0]), float64(b[0])
		v := -y*(x-z) + k.margin
		act := pairStep(v)
		L, gt = pairClampMin(v, 0), -act*(x-z)
		if grads {
			put(0, -act*y, act*y, 0)
		}
	case kernelspec.PwTriplet, kernelspec.PwTripletSq, kernelspec.PwTripletCos:
		var dp, dn, ds, cab, cac, cbc float64
		switch k.op {
		case kernelspec.PwTriplet:
			dp, dn, ds = pairRootP(s0, k.p), pairRootP(s1, k.p), pairRootP(s2, k.p)
		case kernelspec.PwTripletSq:
			dp, dn, ds = s0, s1, s2
		default:
			e2 := k.eps * k.eps
			s3, s4, s5 = pairClampMin(s3, e2), pairClampMin(s4, e2), pairClampMin(s5, e2)
			cab, cac, cbc = math.Sqrt(s3*s4), math.Sqrt(s3*s5), math.Sqrt(s4*s5)
			dp, dn, ds = 1-s0/cab, 1-s1/cac, 1-s2/cbc
		}
		wn, dneg := 1.0, dn
		if k.swap {
			wn = selMin(dn, ds)
			dneg = math.Min(dn, ds)
		}
		v := (k.margin + dp) - dneg
		act := pairStep(v)
		L = pairClampMin(v, 0)
		an, as := act*wn, 0.0
		if k.swap {
			as = act * (1 - wn)
		}
		if !grads {
			break
		}
		if k.op == kernelspec.PwTriplet && k.p == 2 {
			// p = 2: dist'(u) = u/dist (0 for a zero distance)
			var ip, in, is float64
			if dp != 0 {
				ip = act / dp
			}
			if dn != 0 {
				in = an / dn
			}
			if ds != 0 {
				is = as / ds
			}
			for j := range d {
				x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
				u, q, r := ((x-z)+k.eps)*ip, ((x-w)+k.eps)*in, ((z-w)+k.eps)*is
				pairPut(g1, g2, g3, j, g, u-q, -u-r, q+r)
			}
			break
		}
		for j := range d {
			x, z, w := float64(a[j]), float64(b[j]), float64(c[j])
			var pa, pp, na, nc, sp, sc float64
			switch k.op {
			case kernelspec.PwTriplet:
				u, q, r := pairDNorm((x-z)+k.eps, dp, k.p), pairDNorm((x-w)+k.eps, dn, k.p), 0.0
				if k.swap {
					r = pairDNorm((z-w)+k.eps, ds, k.p)
				}
				pa, pp, na, nc, sp, sc = u, -u, q, -q, r, -r
			case kernelspec.PwTripletSq:
				u, q, r := 2*(x-z), 2*(x-w), 2*(z-w)
				pa, pp, na, nc, sp, sc = u, -u, q, -q, r, -r
			default:
				cp, cn, cs := 1-dp, 1-dn, 1-ds
				pa, pp = -(z/cab - cp*x/s3), -(x/cab - cp*z/s4)
				na, nc = -(w/cac - cn*x/s3), -(x/cac - cn*w/s5)
				sp, sc = -(w/cbc - cs*z/s4), -(z/cbc - cs*w/s5)
			}
			put(j, act*pa-an*na, act*pp-as*sp, -an*nc-as*sc)
		}
	case kernelspec.PwContrastive:
		dist := math.Sqrt(s0)
		h := pairClampMin(k.margin-dist, 0)
		L = 0.5*y*s0 + 0.5*(1-y)*(h*h)
		gt = 0.5*s0 - 0.5*(h*h)
		c1 := 0.0
		if dist > 0 {
			c1 = (1 - y) * h / dist
		}
		if grads {
			for j := range d {
				u := float64(a[j]) - float64(b[j])
				ga := y*u - c1*u
				put(j, ga, -ga, 0)
			}
		}
	case kernelspec.PwContrastivePML:
		q1, q2 := math.Sqrt(s1), math.Sqrt(s2)
		r1, r2 := math.Max(q1, k.eps), math.Max(q2, k.eps)
		var t0, t1, t2 float64
		for j := range d {
			n1, n2 := float64(a[j])/r1, float64(b[j])/r2
			e := n1 - n2
			t0 += e * e
			t1 += n1 * e
			t2 += n2 * e
		}
		dist := math.Sqrt(t0)
		lp, ln := dist-k.margin, k.margin2-dist
		rp, rn := math.Max(lp, 0), math.Max(ln, 0)
		L, gt = y*rp+(1-y)*rn, rp-rn
		dld := 0.0
		if lp > 0 {
			dld += y
		}
		if ln > 0 {
			dld -= 1 - y
		}
		c0 := 0.0
		if dist > 0 {
			c0 = dld / dist
		}
		if q1 < k.eps {
			t1 = 0
		}
		if q2 < k.eps {
			t2 = 0
		}
		if grads {
			for j := range d {
				n1, n2 := float64(a[j])/r1, float64(b[j])/r2
				e := n1 - n2
				put(j, c0*(e-n1*t1)/r1, -c0*(e-n2*t2)/r2, 0)
			}
		}
	case kernelspec.PwKerasCos:
		m1, m2 := math.Max(s1, k.eps), math.Max(s2, k.eps)
		r1, r2 := 1/math.Sqrt(m1), 1/math.Sqrt(m2)
		cs := s0 * r1 * r2
		L = -cs
		c0, c1, c2 := r1*r2, 0.0, 0.0
		if s1 >= k.eps {
			c1 = cs / m1
		}
		if s2 >= k.eps {
			c2 = cs / m2
		}
		if grads {
			for j := range d {
				x, z := float64(a[j]), float64(b[j])
				put(j, -(c0*z - c1*x), -(c0*x - c2*z), 0)
			}
		}
	}
	return L, gt
}

// pairPut writes g·ga, g·gb and g·gc at j of the gradients that are not nil.
func pairPut[T Float](g1, g2, g3 []T, j int, g, ga, gb, gc float64) {
	if g1 != nil {
		g1[j] = T(g * ga)
	}
	if g2 != nil {
		g2[j] = T(g * gb)
	}
	if g3 != nil {
		g3[j] = T(g * gc)
	}
}

// pairwiseRows mirrors pairwise_rows(op, x1, x2, x3, target, n, d, p,
// margin, margin2, eps, grad_scale, denom, flags, grad1, grad2, grad3,
// grad_target, loss_rows): for each row i < n, (L, dL) = pairRow of the rows
// x1[i·d:(i+1)·d], x2[…] and x3[…] (with PwHasX3) and y = target[i] (with
// PwHasTarget, else 0), computed in float64 from the stored values (the
// kernel computes in float32, its row sums per thread and then in a fixed
// tree), and with g = grad_scale (/ denom[0] with PwDenom):
//
//	loss_rows[i]   = L
//	grad1[i·d + j] = g·dL/dx1[i·d + j]   if flags&PwGrad1 (likewise 2, 3)
//	grad_target[i] = g·dL/dtarget[i]     if flags&PwGradTarget
//
// except that with PwNonZero a row whose loss is not > 0 gets g = 0 (the
// rows pytorch-metric-learning's AvgNonZeroReducer leaves out; its loss
// is computed first, its gradients then written as zeros).
// A gradient buffer may be its input.
func pairwiseRows[T Float](a argv) error {
	op, x1, x2 := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2)
	n, d := a.int(5), a.int(6)
	k := pairParams{op: op, p: a.real(7), margin: a.real(8), margin2: a.real(9), eps: a.real(10)}
	gs, flags := a.real(11), int32(a.int(13))
	k.swap = flags&kernelspec.PwSwap != 0
	nonzero := flags&kernelspec.PwNonZero != 0
	if flags&kernelspec.PwDenom != 0 {
		gs /= float64(fbuf[T](a, 12)[0])
	}
	var x3, tg, g1, g2, g3, gt []T
	if flags&kernelspec.PwHasX3 != 0 {
		x3 = fbuf[T](a, 3)
	}
	if flags&kernelspec.PwHasTarget != 0 {
		tg = fbuf[T](a, 4)
	}
	if flags&kernelspec.PwGrad1 != 0 {
		g1 = fbuf[T](a, 14)
	}
	if flags&kernelspec.PwGrad2 != 0 {
		g2 = fbuf[T](a, 15)
	}
	if flags&kernelspec.PwGrad3 != 0 {
		g3 = fbuf[T](a, 16)
	}
	if flags&kernelspec.PwGradTarget != 0 {
		gt = fbuf[T](a, 17)
	}
	lr := fbuf[T](a, 18)
	row := func(s []T, i int) []T {
		if s == nil {
			return nil
		}
		return s[i*d : (i+1)*d]
	}
	parallelFor(n, max(1, 4096/max(d, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y := 0.0
			if tg != nil {
				y = float64(tg[i])
			}
			g := gs
			if nonzero {
				// the row's loss decides its scale: a first pass without gradients
				if L, _ := pairRow(&k, row(x1, i), row(x2, i), row(x3, i), y, 0, nil, nil, nil); !(L > 0) {
					g = 0
				}
			}
			L, dy := pairRow(&k, row(x1, i), row(x2, i), row(x3, i), y, g, row(g1, i), row(g2, i), row(g3, i))
			lr[i] = T(L)
			if gt != nil {
				gt[i] = T(g * dy)
			}
		}
	})
	return nil
}

// pairwiseAvgNonzero mirrors pairwise_avg_nonzero(loss_rows, n, denom,
// loss): with k the number of loss_rows[i] > 0, i < n, and S their sum
// over every row (float64, index order), denom[0] = max(k, 1) and
// loss[0] = S / max(k, 1).
func pairwiseAvgNonzero[T Float](a argv) error {
	lr, n, den, out := fbuf[T](a, 0), a.int(1), fbuf[T](a, 2), fbuf[T](a, 3)
	s, k := 0.0, 0.0
	for _, v := range lr[:n] {
		s += float64(v)
		if v > 0 {
			k++
		}
	}
	k = math.Max(k, 1)
	den[0], out[0] = T(k), T(s/k)
	return nil
}
