package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("contrastive_normalize", conNormalize[float32], conNormalize[float64])
	register("contrastive_backnorm", conBacknorm[float32], conBacknorm[float64])
	register("contrastive_rows", conRows[float32], conRows[float64])
	register("contrastive_grad", conGrad[float32], conGrad[float64])
	register("contrastive_finish", conFinish[float32], conFinish[float64])
}

// The contrastive family (kernels/src/contrastive.h): the similarity
// matrix S = A·Cᵀ·inv_tau of anchors A [r, d] and a contrast set C [k, d]
// is formed in blocks of ConRowTile rows by w columns with gonum's BLAS
// (blas32/blas64 Gemm), w the tile argument (0: ConAutoTile; at least k:
// one block per row tile, the non-tiled path), each block consumed before
// the next: the row states (max, sum of exp) are updated from it in
// float64, and the gradient adds coef·C_J (or coefᵀ·A_I) to its output
// with another Gemm. The kernels form 16 × 16 tiles; the results agree
// within rounding. A worker holds one block of S and one of coefficients:
// 2·ConRowTile·w elements.

// ConRowTile is the number of rows of the host mirror's similarity blocks.
const ConRowTile = 64

// ConAutoTile is the host mirror's column-block width for tile = 0.
const ConAutoTile = 512

// ConTileWidth is the column-block width the host mirror uses for tile
// and k columns: tile, or ConAutoTile for 0, at most k (and at least 1).
func ConTileWidth(tile, k int) int {
	if tile <= 0 {
		tile = ConAutoTile
	}
	return max(1, min(tile, k))
}

// ConWorkspace is the number of elements the host mirror's similarity and
// coefficient blocks take per worker for tile and k columns.
func ConWorkspace(tile, k int) int { return 2 * ConRowTile * ConTileWidth(tile, k) }

// conNormalize mirrors contrastive_normalize(x, rows, d, bmod, views, eps,
// off, y, norms): for r < rows, with x_r the row (r mod bmod)·views + r/bmod
// of x [*, d],
//
//	norms[off+r]     = ‖x_r‖ (in float64)
//	y[(off+r)·d + q] = x_r[q] / max(‖x_r‖, eps)
func conNormalize[T Float](a argv) error {
	x, rows, d, bmod, views, eps, off := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), a.int(4), a.real(5), a.int(6)
	y, norms := fbuf[T](a, 7), fbuf[T](a, 8)
	parallelFor(rows, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			src := ((r%bmod)*views + r/bmod) * d
			xr := x[src : src+d]
			s := 0.0
			for _, v := range xr {
				s += float64(v) * float64(v)
			}
			n := math.Sqrt(s)
			inv := 1 / math.Max(n, eps)
			yr := y[(off+r)*d : (off+r+1)*d]
			for q, v := range xr {
				yr[q] = T(float64(v) * inv)
			}
			norms[off+r] = T(n)
		}
	})
	return nil
}

// conBacknorm mirrors contrastive_backnorm(y, g, norms, rows, d, bmod,
// views, eps, off, gx): for r < rows, with src, y_r and g_r the rows off+r
// of y and g, n = norms[off+r],
//
//	gx[src·d + q] = (g_r[q] − y_r[q]·(y_r·g_r)) / n   if n > eps
//	gx[src·d + q] = g_r[q] / eps                      otherwise
//
// in float64.
func conBacknorm[T Float](a argv) error {
	y, g, norms := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	rows, d, bmod, views, eps, off := a.int(3), a.int(4), a.int(5), a.int(6), a.real(7), a.int(8)
	gx := fbuf[T](a, 9)
	parallelFor(rows, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, gr := y[(off+r)*d:(off+r+1)*d], g[(off+r)*d:(off+r+1)*d]
			dot := 0.0
			for q := range yr {
				dot += float64(yr[q]) * float64(gr[q])
			}
			n := float64(norms[off+r])
			src := ((r%bmod)*views + r/bmod) * d
			xr := gx[src : src+d]
			if !(n > eps) {
				for q := range xr {
					xr[q] = T(float64(gr[q]) / eps)
				}
				continue
			}
			for q := range xr {
				xr[q] = T((float64(gr[q]) - float64(yr[q])*dot) / n)
			}
		}
	})
	return nil
}

// conSpec is the similarity set-up shared by contrastive_rows and
// contrastive_grad (arguments 0 to 12).
type conSpec[T Float] struct {
	a, c             []T
	r, k, d          int
	invTau           float64
	labels           []int32
	lab              []int32 // label(x) for x < max(r, k)
	lmod, kpos       int
	flags            int32
	cscale           float64
	w                int
	optax, pass2     bool
	paired, exclSelf bool
}

func conSpecOf[T Float](a argv) conSpec[T] {
	s := conSpec[T]{a: fbuf[T](a, 0), c: fbuf[T](a, 1), r: a.int(2), k: a.int(3), d: a.int(4), invTau: a.real(5),
		lmod: a.int(8), kpos: a.int(9), flags: int32(a.int(10)), cscale: a.real(11)}
	if a.int(6) != 0 {
		s.labels = a.ints(7)
	}
	s.w = ConTileWidth(a.int(12), s.k)
	s.lab = make([]int32, max(s.r, s.k))
	for x := range s.lab {
		if s.labels != nil {
			s.lab[x] = s.labels[x%s.lmod]
		} else {
			s.lab[x] = int32(x % s.lmod)
		}
	}
	s.optax = s.flags&kernelspec.ConOptax != 0
	s.pass2 = s.flags&kernelspec.ConPass2 != 0
	s.paired = s.flags&kernelspec.ConPaired != 0
	s.exclSelf = s.flags&kernelspec.ConExclSelf != 0
	return s
}

func (s *conSpec[T]) label(x int) int32 { return s.lab[x] }

// class is 0 for no column of row i, 1 for a negative, 2 for a positive
// (the header of kernels/src/contrastive.h).
func (s *conSpec[T]) class(i, j int) int {
	switch {
	case s.exclSelf && i == j:
		return 0
	case s.paired && j < s.kpos:
		if j == i {
			return 2
		}
		return 0
	case j < s.kpos && s.label(i) == s.label(j):
		return 2
	}
	return 1
}

// skip reports whether the block of rows [i0, i1) and columns [j0, j1)
// holds no valid entry (paired columns away from the diagonal).
func (s *conSpec[T]) skip(i0, i1, j0, j1 int) bool {
	return s.paired && j1 <= s.kpos && (j1 <= i0 || i1 <= j0)
}

// block sets sb [(i1−i0), (j1−j0)] to A[i0:i1]·C[j0:j1]ᵀ.
func (s *conSpec[T]) block(i0, i1, j0, j1 int, sb []T) {
	m, n := i1-i0, j1-j0
	if s.d == 0 {
		clear(sb[:m*n])
		return
	}
	conGemm(false, true, m, n, s.d, 1, s.a[i0*s.d:i1*s.d], s.d, s.c[j0*s.d:j1*s.d], s.d, 0, sb, n)
}

// conRows mirrors contrastive_rows(a, c, r, k, d, inv_tau, has_labels,
// labels, lmod, kpos, flags, cscale, tile, stats): for each row i < r, over
// its columns (classes as in kernels/src/contrastive.h), s_ij = inv_tau·a_i·c_j
// and P_i the number of positives, in float64 from the blocks of S:
//
//	pass 1, general:  m = max over valid s_ij, e = Σ_valid exp(s_ij − m),
//	                  stats[5i:5i+5] = (m, e, P_i, L_i, 0),
//	                  L_i = cscale·(P_i·log e − Σ_pos (s_ij − m)) / P_i (0 for P_i = 0)
//	pass 1, ConOptax: m, e over the negatives only; (m, e, P_i, 0, 0)
//	pass 2 (ConOptax|ConPass2), m and e read from stats:
//	                  stats[5i+3] = Σ_pos softplus(log e + m − s_ij),
//	                  stats[5i+4] = Σ_pos 1 / (exp(s_ij − m) + e)
func conRows[T Float](a argv) error {
	s := conSpecOf[T](a)
	stats := fbuf[T](a, 13)
	nrt := (s.r + ConRowTile - 1) / ConRowTile
	parallelFor(nrt, 1, func(lo, hi int) {
		sb := make([]T, ConRowTile*s.w)
		m := make([]float64, ConRowTile)
		e := make([]float64, ConRowTile)
		sp := make([]float64, ConRowTile)
		np := make([]float64, ConRowTile)
		for t := lo; t < hi; t++ {
			i0, i1 := t*ConRowTile, min((t+1)*ConRowTile, s.r)
			for u := range i1 - i0 {
				m[u], e[u], sp[u], np[u] = math.Inf(-1), 0, 0, 0
				if s.pass2 {
					st := stats[(i0+u)*kernelspec.ConStats:]
					m[u], e[u] = float64(st[0]), float64(st[1])
				}
			}
			for j0 := 0; j0 < s.k; j0 += s.w {
				j1 := min(j0+s.w, s.k)
				if s.skip(i0, i1, j0, j1) {
					continue
				}
				n := j1 - j0
				s.block(i0, i1, j0, j1, sb)
				for u := range i1 - i0 {
					i := i0 + u
					row := sb[u*n : (u+1)*n]
					if s.pass2 {
						le := math.Log(e[u])
						for v, x := range row {
							if s.class(i, j0+v) != 2 {
								continue
							}
							sv := s.invTau * float64(x)
							sp[u] += softplus64(le + m[u] - sv)
							np[u] += 1 / (math.Exp(sv-m[u]) + e[u])
						}
						continue
					}
					// the block's maximum first, then its sum
					bm := math.Inf(-1)
					for v, x := range row {
						cl := s.class(i, j0+v)
						if cl == 1 || cl == 2 && !s.optax {
							bm = math.Max(bm, s.invTau*float64(x))
						}
					}
					if bm > m[u] {
						e[u] *= math.Exp(m[u] - bm)
						m[u] = bm
					}
					for v, x := range row {
						cl := s.class(i, j0+v)
						sv := s.invTau * float64(x)
						if cl == 2 {
							np[u]++
							sp[u] += sv
						}
						if cl == 1 || cl == 2 && !s.optax {
							e[u] += math.Exp(sv - m[u])
						}
					}
				}
			}
			for u := range i1 - i0 {
				st := stats[(i0+u)*kernelspec.ConStats : (i0+u+1)*kernelspec.ConStats]
				if s.pass2 {
					st[3], st[4] = T(sp[u]), T(np[u])
					continue
				}
				l := 0.0
				if !s.optax && np[u] > 0 {
					l = s.cscale * (np[u]*math.Log(e[u]) - (sp[u] - np[u]*m[u])) / np[u]
				}
				st[0], st[1], st[2], st[3], st[4] = T(m[u]), T(e[u]), T(np[u]), T(l), 0
			}
		}
	})
	return nil
}

// softplus64 is log(1 + exp(x)) without overflow.
func softplus64(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// sigmoid64 is 1 / (1 + exp(−x)) without overflow.
func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	ex := math.Exp(x)
	return ex / (1 + ex)
}

// coef is d loss_i / d s_ij for class cl (kernels/src/contrastive.h's
// con_coef), from row i's state st, in float64.
func (s *conSpec[T]) coef(cl int, sv float64, st []T) float64 {
	if cl == 0 {
		return 0
	}
	m, e := float64(st[0]), float64(st[1])
	if s.optax {
		if cl == 2 {
			return -sigmoid64(math.Log(e) + m - sv)
		}
		return math.Exp(sv-m) * float64(st[4])
	}
	p := float64(st[2])
	pd := math.Max(p, 1)
	g := s.cscale * p / pd * (math.Exp(sv-m) / e)
	if cl == 2 {
		return g - s.cscale/pd
	}
	return g
}

// conGrad mirrors contrastive_grad(a, c, r, k, d, inv_tau, has_labels,
// labels, lmod, kpos, flags, cscale, tile, stats, gscale, side, g): with
// coef_ij as conSpec.coef from row i's state stats[5i:5i+5] and
// gs = gscale[0],
//
//	side 0: g[i·d + q] (+)= gs·inv_tau·Σ_j coef_ij·c[j·d + q]   for i < r
//	side 1: g[j·d + q] (+)= gs·inv_tau·Σ_i coef_ij·a[i·d + q]   for j < k
//	side 2: g[i·d + q] (+)= gs·inv_tau·Σ_j (coef_ij[i < r] + coef_ji[j < r])·c[j·d + q]
//	        for i < k (a is c: both sides of S in one pass, S being symmetric)
//
// (+= with ConAccumulate). The coefficients of a block of S are formed in
// float64 and stored in the element type, and each block's product is
// added to g by Gemm (beta = 1), the blocks in column (side 0) or row
// (side 1) order.
func conGrad[T Float](a argv) error {
	s := conSpecOf[T](a)
	stats, gscale, side, g := fbuf[T](a, 13), fbuf[T](a, 14), a.int(15), fbuf[T](a, 16)
	alpha := float64(gscale[0]) * s.invTau
	acc := s.flags&kernelspec.ConAccumulate != 0
	d := s.d
	coefBlock := func(i0, i1, j0, j1 int, sb, cb []T) {
		n := j1 - j0
		s.block(i0, i1, j0, j1, sb)
		for u := range i1 - i0 {
			i := i0 + u
			var st []T
			if i < s.r {
				st = stats[i*kernelspec.ConStats : (i+1)*kernelspec.ConStats]
			}
			for v := range n {
				j := j0 + v
				sv := s.invTau * float64(sb[u*n+v])
				c := 0.0
				if i < s.r {
					c = s.coef(s.class(i, j), sv, st)
				}
				if side == 2 && j < s.r {
					c += s.coef(s.class(j, i), sv, stats[j*kernelspec.ConStats:(j+1)*kernelspec.ConStats])
				}
				cb[u*n+v] = T(c)
			}
		}
	}
	if side != 1 {
		own := s.r
		if side == 2 {
			own = s.k
		}
		nrt := (own + ConRowTile - 1) / ConRowTile
		parallelFor(nrt, 1, func(lo, hi int) {
			sb, cb := make([]T, ConRowTile*s.w), make([]T, ConRowTile*s.w)
			for t := lo; t < hi; t++ {
				i0, i1 := t*ConRowTile, min((t+1)*ConRowTile, own)
				gi := g[i0*d : i1*d]
				if !acc {
					clear(gi)
				}
				if d == 0 {
					continue
				}
				for j0 := 0; j0 < s.k; j0 += s.w {
					j1 := min(j0+s.w, s.k)
					if s.skip(i0, i1, j0, j1) {
						continue
					}
					coefBlock(i0, i1, j0, j1, sb, cb)
					conGemm(false, false, i1-i0, d, j1-j0, alpha, cb, j1-j0, s.c[j0*d:j1*d], d, 1, gi, d)
				}
			}
		})
		return nil
	}
	nct := (s.k + s.w - 1) / s.w
	parallelFor(nct, 1, func(lo, hi int) {
		sb, cb := make([]T, ConRowTile*s.w), make([]T, ConRowTile*s.w)
		for t := lo; t < hi; t++ {
			j0, j1 := t*s.w, min((t+1)*s.w, s.k)
			gj := g[j0*d : j1*d]
			if !acc {
				clear(gj)
			}
			if d == 0 {
				continue
			}
			for i0 := 0; i0 < s.r; i0 += ConRowTile {
				i1 := min(i0+ConRowTile, s.r)
				if s.skip(i0, i1, j0, j1) {
					continue
				}
				coefBlock(i0, i1, j0, j1, sb, cb)
				conGemm(true, false, j1-j0, d, i1-i0, alpha, cb, j1-j0, s.a[i0*d:i1*d], d, 1, gj, d)
			}
		}
	})
	return nil
}

// conFinish mirrors contrastive_finish(stats, r, optax, scale, has_loss,
// loss, gscale): with L = Σ_{i<r} stats[5i+3] and P = Σ_{i<r} stats[5i+2]
// (in float64, in order),
//
//	optax: value = L/P, gscale[0] = 1/P
//	else:  value = scale·L, gscale[0] = scale
//	loss[0] = value if has_loss
func conFinish[T Float](a argv) error {
	stats, r, optax, scale, hasLoss := fbuf[T](a, 0), a.int(1), a.int(2) != 0, a.real(3), a.int(4) != 0
	loss, gscale := fbuf[T](a, 5), fbuf[T](a, 6)
	l, p := 0.0, 0.0
	for i := range r {
		l += float64(stats[i*kernelspec.ConStats+3])
		p += float64(stats[i*kernelspec.ConStats+2])
	}
	v, gs := scale*l, scale
	if optax {
		v, gs = l/p, 1/p
	}
	gscale[0] = T(gs)
	if hasLoss {
		loss[0] = T(v)
	}
	return nil
}
