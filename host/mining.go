package host

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// The mining family's mirrors (kernels/src/mining.h): batch_triplet_loss's
// distances, mining, loss and gradient over embeddings [b, d] with int32
// labels [b]. Each computes in float64 from the stored values; the kernels
// compute in float32.

func init() {
	register("mine_prep", minePrep[float32], minePrep[float64])
	register("mine_pdist", minePdist[float32], minePdist[float64])
	register("mine_triplet_rows", mineTripletRows[float32], mineTripletRows[float64])
	register("mine_finish", mineFinish[float32], mineFinish[float64])
	register("mine_grad", mineGrad[float32], mineGrad[float64])
}

// mineNormEps is the floor of a row's norm in the cosine distance
// (F.normalize's eps).
const mineNormEps = 1e-12

// mineF64 returns the first n elements of v as float64.
func mineF64[T Float](v []T, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(v[i])
	}
	return out
}

// minePrep mirrors mine_prep(x, b, d, u, norms): for each row i < b,
// norms[i] = ‖x_i‖ and u[i,k] = x[i,k] / max(‖x_i‖, 1e-12).
func minePrep[T Float](a argv) error {
	x, b, d, u, norms := fbuf[T](a, 0), a.int(1), a.int(2), fbuf[T](a, 3), fbuf[T](a, 4)
	parallelFor(b, 16, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			s := 0.0
			for k := range d {
				v := float64(x[i*d+k])
				s += v * v
			}
			n := math.Sqrt(s)
			nn := max(n, mineNormEps)
			for k := range d {
				u[i*d+k] = T(float64(x[i*d+k]) / nn)
			}
			norms[i] = T(n)
		}
	})
	return nil
}

// minePdist mirrors mine_pdist(v, b, d, dist, pd): for i, j < b,
//
//	MineDistL2:     pd[i*b+j] = ‖v_i − v_j‖
//	MineDistSqL2:   pd[i*b+j] = ‖v_i − v_j‖²
//	MineDistCosine: pd[i*b+j] = 1 − v_i·v_j
//
// with pd symmetric and a zero diagonal for the l2 distances. The dot
// products come from one float64 Syrk; ‖v_i − v_j‖² is formed as ‖v_i‖² +
// ‖v_j‖² − 2 v_i·v_j where that keeps at least 4 of float64's digits
// beyond float32's (the difference is at least 1e-4 of the norms), and
// from the differences (the kernel's form) where it would not.
func minePdist[T Float](a argv) error {
	vv, b, d, dist, pd := fbuf[T](a, 0), a.int(1), a.int(2), int32(a.int(3)), fbuf[T](a, 4)
	if b == 0 {
		return nil
	}
	v := mineF64(vv, b*d)
	g := make([]float64, b*b)
	if d > 0 {
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: b, Cols: d, Stride: d, Data: v}, 0,
			blas64.Symmetric{N: b, Stride: b, Uplo: blas.Upper, Data: g})
	}
	parallelFor(b, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := i; j < b; j++ {
				var r float64
				if dist == kernelspec.MineDistCosine {
					r = 1 - g[i*b+j]
				} else if i != j {
					ni, nj := g[i*b+i], g[j*b+j]
					s := ni + nj - 2*g[i*b+j]
					if !(s >= 1e-4*(ni+nj)) {
						s = 0
						for k := range d {
							e := v[i*d+k] - v[j*d+k]
							s += e * e
						}
					}
					r = s
					if dist == kernelspec.MineDistL2 {
						r = math.Sqrt(s)
					}
				}
				pd[i*b+j], pd[j*b+i] = T(r), T(r)
			}
		}
	})
	return nil
}

// mineHinge is the loss of one triplet from x = d_ap − d_an and its
// derivative w.r.t. x: soft: softplus(x) and sigmoid(x); else
// relu(margin + x), with derivative 1 where margin + x > 0, else 0.
func mineHinge(x, margin float64, soft bool) (l, g float64) {
	if soft {
		return softplus64(x), 1 / (1 + math.Exp(-x))
	}
	if v := margin + x; v > 0 {
		return v, 1
	}
	return 0, 0
}

// mineTripletRows mirrors mine_triplet_rows(pd, labels, b, mining,
// margin, soft, coef, sel, rowloss, rowcount): for each anchor a < b, with
// P its positives (j ≠ a, labels[j] = labels[a]), N its negatives
// (labels[j] ≠ labels[a]) and (l, g) = mineHinge(d_ap − d_an):
//
//	MineHard: p = argmax_P d_ap, n = argmin_N d_an (ties to the lower
//	  index); loss l, count 1, coef[a,p] = g, coef[a,n] = −g; an anchor
//	  with P or N empty has loss 0, count 0
//	MineSemi: for each p ∈ P, n = argmin d_an over {n ∈ N: d_an > d_ap},
//	  else argmax_N d_an (ties to the lower index), else (N empty) d_an = 0
//	  and no n; loss Σ_p l, count |P|, coef[a,p] = g_p, coef[a,n] =
//	  −Σ_{p: n chosen} g_p (added in p order), sel[a*b+p] = n or −1
//	MineAll: every (p, n) ∈ P × N; loss Σ l, count the triplets with l > 0
//	  (all of them with soft), coef[a,p] = Σ_n g, coef[a,n] = −Σ_p g
//
// every other coef[a,j] 0; rowloss[a] is the summed loss, plus NaN where
// a distance of row a other than d_aa is NaN or infinite.
func mineTripletRows[T Float](a argv) error {
	pd, labels, b, mining := fbuf[T](a, 0), a.ints(1), a.int(2), int32(a.int(3))
	margin, soft := a.real(4), a.int(5) != 0
	coef, rowloss, rowcount := fbuf[T](a, 6), fbuf[T](a, 8), fbuf[T](a, 9)
	var sel []int32
	if mining == kernelspec.MineSemi {
		sel = a.ints(7)
	}
	parallelFor(b, 4, func(lo, hi int) {
		row := make([]float64, b)
		crow := make([]float64, b)
		var pos, neg []int
		for an := lo; an < hi; an++ {
			la := labels[an]
			bad := 0.0
			pos, neg = pos[:0], neg[:0]
			for j := range b {
				row[j] = float64(pd[an*b+j])
				crow[j] = 0
				if j == an {
					continue
				}
				bad += row[j] - row[j]
				if labels[j] == la {
					pos = append(pos, j)
				} else {
					neg = append(neg, j)
				}
			}
			loss, cnt := 0.0, 0.0
			switch mining {
			case kernelspec.MineHard:
				if len(pos) > 0 && len(neg) > 0 {
					p, n := pos[0], neg[0]
					for _, j := range pos[1:] {
						if row[j] > row[p] {
							p = j
						}
					}
					for _, j := range neg[1:] {
						if row[j] < row[n] {
							n = j
						}
					}
					l, g := mineHinge(row[p]-row[n], margin, soft)
					loss, cnt = l, 1
					crow[p], crow[n] = g, -g
				}
			case kernelspec.MineSemi:
				// The negatives by (distance, index): the first one farther
				// than d_ap is the nearest such, ties to the lower index.
				order := append([]int(nil), neg...)
				sort.SliceStable(order, func(x, y int) bool { return row[order[x]] < row[order[y]] })
				far := -1
				if len(order) > 0 {
					far = order[len(order)-1]
					for k := len(order) - 1; k >= 0 && row[order[k]] == row[far]; k-- {
						far = order[k]
					}
				}
				for _, p := range pos {
					dp := row[p]
					k := sort.Search(len(order), func(k int) bool { return row[order[k]] > dp })
					n, dn := far, 0.0
					if k < len(order) {
						n = order[k]
					}
					if n >= 0 {
						dn = row[n]
					}
					l, g := mineHinge(dp-dn, margin, soft)
					loss += l
					cnt++
					crow[p] = g
					sel[an*b+p] = int32(n)
				}
				for _, p := range pos {
					if n := sel[an*b+p]; n >= 0 {
						crow[n] -= crow[p]
					}
				}
			default:
				for _, p := range pos {
					dp := row[p]
					for _, n := range neg {
						l, g := mineHinge(dp-row[n], margin, soft)
						loss += l
						crow[p] += g
						crow[n] -= g
						if soft || l > 0 {
							cnt++
						}
					}
				}
			}
			for j := range b {
				coef[an*b+j] = T(crow[j])
			}
			rowloss[an] = T(loss + bad)
			rowcount[an] = T(cnt)
		}
	})
	return nil
}

// mineFinish mirrors mine_finish(rowloss, rowcount, n, empty, loss,
// scale): with S = Σ rowloss[i] and C = Σ rowcount[i] over i < n,
// loss[0] = S/C and scale[0] = 1/C where C > 0, else loss[0] = empty + 0·S
// and scale[0] = 0.
func mineFinish[T Float](a argv) error {
	rl, rc, n, empty, loss, scale := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.real(3), fbuf[T](a, 4), fbuf[T](a, 5)
	s, c := 0.0, 0.0
	for i := range n {
		s += float64(rl[i])
		c += float64(rc[i])
	}
	if c > 0 {
		loss[0], scale[0] = T(s/c), T(1/c)
	} else {
		loss[0], scale[0] = T(empty+0*s), 0
	}
	return nil
}

// mineWeight is the weight of pair (i, j) in the gradient of row i, from
// c = coef[i,j] + coef[j,i] and the distance dij: squared l2: 2c; l2:
// c/dij, 0 where dij is not > 0 (the gradient of ‖·‖ at 0 is taken as 0);
// cosine: c.
func mineWeight(dist int32, c, dij float64) float64 {
	switch dist {
	case kernelspec.MineDistSqL2:
		return 2 * c
	case kernelspec.MineDistL2:
		if dij > 0 {
			return c / dij
		}
		return 0
	}
	return c
}

// mineGrad mirrors mine_grad(v, pd, coef, scale, b, d, dist, norms,
// grad): with w_ij = mineWeight(dist, coef[i,j] + coef[j,i], pd[i,j]) and
// s = scale[0], for each row i < b:
//
//	l2, squared l2: grad_i = s·Σ_j w_ij (v_i − v_j) = s·((Σ_j w_ij) v_i − (W v)_i)
//	cosine: gu = −(W v)_i (v the normalised rows u), grad_i =
//	  s·(gu − (u_i·gu) u_i)/norms[i] where norms[i] ≥ 1e-12, else s·gu/1e-12
//
// W v is one float64 Gemm.
func mineGrad[T Float](a argv) error {
	vv, pdv, cf, sc := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3)
	b, d, dist := a.int(4), a.int(5), int32(a.int(6))
	grad := fbuf[T](a, 8)
	if b == 0 || d == 0 {
		return nil
	}
	var norms []T
	if dist == kernelspec.MineDistCosine {
		norms = fbuf[T](a, 7)
	}
	s := float64(sc[0])
	v := mineF64(vv, b*d)
	w := make([]float64, b*b)
	rs := make([]float64, b)
	parallelFor(b, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t := 0.0
			for j := range b {
				wij := mineWeight(dist, float64(cf[i*b+j])+float64(cf[j*b+i]), float64(pdv[i*b+j]))
				w[i*b+j] = wij
				t += wij
			}
			rs[i] = t
		}
	})
	wv := make([]float64, b*d)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: b, Cols: b, Stride: b, Data: w},
		blas64.General{Rows: b, Cols: d, Stride: d, Data: v}, 0, blas64.General{Rows: b, Cols: d, Stride: d, Data: wv})
	parallelFor(b, 8, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			vi, gi := v[i*d:(i+1)*d], wv[i*d:(i+1)*d]
			if dist != kernelspec.MineDistCosine {
				for k := range d {
					grad[i*d+k] = T(s * (rs[i]*vi[k] - gi[k]))
				}
				continue
			}
			dot := 0.0
			for k := range d {
				dot += vi[k] * -gi[k]
			}
			n := float64(norms[i])
			for k := range d {
				gu := -gi[k]
				if n >= mineNormEps {
					grad[i*d+k] = T(s * (gu - dot*vi[k]) / n)
				} else {
					grad[i*d+k] = T(s * gu / mineNormEps)
				}
			}
		}
	})
	return nil
}

func init() {
	register("bt_norm", btNorm[float32], btNorm[float64])
	register("bt_terms", btTerms[float32], btTerms[float64])
	register("bt_norm_back", btNormBack[float32], btNormBack[float64])
}

// btNorm mirrors bt_norm(z, n, d, mode, zn, inv_std): for each column
// j < d, with μ the mean of z[·,j] and ss = Σ_i (z[i,j] − μ)²,
// inv_std[j] = 1/sqrt(ss/n + 1e-5) (BTNormBatch) or 1/sqrt(ss/(n − 1))
// (BTNormUnbiased), and zn[i,j] = (z[i,j] − μ)·inv_std[j].
func btNorm[T Float](a argv) error {
	z, n, d, mode, zn, is := fbuf[T](a, 0), a.int(1), a.int(2), int32(a.int(3)), fbuf[T](a, 4), fbuf[T](a, 5)
	parallelFor(d, 8, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			s := 0.0
			for i := range n {
				s += float64(z[i*d+j])
			}
			mu := s / float64(n)
			ss := 0.0
			for i := range n {
				e := float64(z[i*d+j]) - mu
				ss += e * e
			}
			var v float64
			if mode == kernelspec.BTNormBatch {
				v = 1 / math.Sqrt(ss/float64(n)+1e-5)
			} else {
				v = 1 / math.Sqrt(ss/float64(n-1))
			}
			for i := range n {
				zn[i*d+j] = T((float64(z[i*d+j]) - mu) * v)
			}
			is[j] = T(v)
		}
	})
	return nil
}

// btTerms mirrors bt_terms(c, d, lambd, partials): for e < d², v = c[e]:
// on the diagonal l = (1 − v)² and c[e] = −2(1 − v), elsewhere l = λv² and
// c[e] = 2λv; partials[b] = Σ l over block b's elements (e / BlockSize mod
// blocks == b).
func btTerms[T Float](a argv) error {
	c, d, lambd, partials := fbuf[T](a, 0), a.int(1), a.real(2), fbuf[T](a, 3)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	total := d * d
	for b := range blocks {
		acc := 0.0
		for start := b * bs; start < total; start += blocks * bs {
			for e := start; e < min(start+bs, total); e++ {
				v := float64(c[e])
				if e%(d+1) == 0 {
					acc += (1 - v) * (1 - v)
					c[e] = T(-2 * (1 - v))
				} else {
					acc += lambd * v * v
					c[e] = T(2 * lambd * v)
				}
			}
		}
		partials[b] = T(acc)
	}
	return nil
}

// btNormBack mirrors bt_norm_back(zn, inv_std, n, d, mode, grad): column j
// of grad holds g = dL/dzn and gets inv_std[j]·(g_i − G/n − zn[i,j]·H/r),
// G = Σ_i g_i, H = Σ_i g_i·zn[i,j], r = n (BTNormBatch) or n − 1.
func btNormBack[T Float](a argv) error {
	zn, is, n, d, mode, grad := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), int32(a.int(4)), fbuf[T](a, 5)
	r := float64(n)
	if mode != kernelspec.BTNormBatch {
		r = float64(n - 1)
	}
	parallelFor(d, 8, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			g, h := 0.0, 0.0
			for i := range n {
				g += float64(grad[i*d+j])
				h += float64(grad[i*d+j]) * float64(zn[i*d+j])
			}
			s := float64(is[j])
			for i := range n {
				e := i*d + j
				grad[e] = T(s * ((float64(grad[e]) - g/float64(n)) - float64(zn[e])*(h/r)))
			}
		}
	})
	return nil
}

func init() { register("circle_rows", circleRows[float32], circleRows[float64]) }

// circleLogit is the logit of a pair of circle_rows from pd (d = max(pd,
// 0)) and its derivative w.r.t. pd with the weight held constant:
// positive: w = max(m + d, 0), −γw(m − d); negative: w = max(1 + m − d,
// 0), γw(1 − m − d).
func circleLogit(pd float64, positive bool, gamma, m float64) (z, dl float64) {
	d, cl := pd, 1.0
	if !(pd >= 0) {
		d, cl = 0, 0
	}
	if positive {
		w := max(m+d, 0)
		return -gamma * w * (m - d), gamma * w * cl
	}
	w := max(1+m-d, 0)
	return gamma * w * ((1 - m) - d), -gamma * w * cl
}

// circleRows mirrors circle_rows(pd, labels, b, gamma, margin,
// remove_diag, coef, rowloss, rowcount): for each row i, with P and N the
// log-sum-exp of circleLogit over its positives (labels equal; j ≠ i with
// remove_diag) and negatives (labels differ), x = P + N:
// rowloss[i] = softplus(x), rowcount[i] = 1, and
// coef[i,j] = sigmoid(x)·softmax_j·dlogit_j; all 0 where P or N is empty.
func circleRows[T Float](a argv) error {
	pd, labels, b, gamma, margin := fbuf[T](a, 0), a.ints(1), a.int(2), a.real(3), a.real(4)
	rd, coef, rl, rc := a.int(5) != 0, fbuf[T](a, 6), fbuf[T](a, 7), fbuf[T](a, 8)
	parallelFor(b, 4, func(lo, hi int) {
		z := make([]float64, b)
		dl := make([]float64, b)
		kind := make([]int8, b)
		for i := lo; i < hi; i++ {
			mp, mn := math.Inf(-1), math.Inf(-1)
			for j := range b {
				kind[j] = 0
				switch {
				case labels[j] == labels[i] && !(rd && j == i):
					kind[j] = 1
					z[j], dl[j] = circleLogit(float64(pd[i*b+j]), true, gamma, margin)
					mp = max(mp, z[j])
				case labels[j] != labels[i]:
					kind[j] = 2
					z[j], dl[j] = circleLogit(float64(pd[i*b+j]), false, gamma, margin)
					mn = max(mn, z[j])
				}
			}
			if math.IsInf(mp, -1) || math.IsInf(mn, -1) {
				for j := range b {
					coef[i*b+j] = 0
				}
				rl[i], rc[i] = 0, 0
				continue
			}
			sp, sn := 0.0, 0.0
			for j := range b {
				switch kind[j] {
				case 1:
					sp += math.Exp(z[j] - mp)
				case 2:
					sn += math.Exp(z[j] - mn)
				}
			}
			x := (mp + math.Log(sp)) + (mn + math.Log(sn))
			l, sg := softplus64(x), 1/(1+math.Exp(-x))
			for j := range b {
				c := 0.0
				switch kind[j] {
				case 1:
					c = sg * math.Exp(z[j]-mp) / sp * dl[j]
				case 2:
					c = sg * math.Exp(z[j]-mn) / sn * dl[j]
				}
				coef[i*b+j] = T(c)
			}
			rl[i], rc[i] = T(l), 1
		}
	})
	return nil
}
