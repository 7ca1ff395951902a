package host

import (
	"math"
	"unsafe"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("tv_partial", tvPartial[float32], tvPartial[float64])
	register("tv_image", tvImage[float32], tvImage[float64])
	register("tv_grad", tvGrad[float32], tvGrad[float64])
}

// The tv family: total variation of images x [n, c, h, w], per image the
// sum of phi(d) over the differences d of each pixel with its right and
// lower neighbours, phi(d) = |d| (TVL1) or d² (TVL2, TVL2Squared). The
// kernels (kernels/src/tv.h) add in float, a block's pixels in a fixed
// tree; the mirrors add in float64 in index order.

func tvPhi(norm int32, d float64) float64 {
	if norm == kernelspec.TVL1 {
		return math.Abs(d)
	}
	return d * d
}

// tvPartial mirrors tv_partial(x, n, c, h, w, chunks, norm, partial): the
// M = c·h·w flat pixels e of image i are split into chunks ranges of
// L = ceil(M / chunks), and for block b = i·chunks + k
//
//	partial[b] = Σ_{e in [kL, min((k+1)L, M))} [col+1 < w] phi(x[e+1] - x[e]) + [r+1 < h] phi(x[e+w] - x[e])
//
// with e = (ch, r, col) inside image i.
func tvPartial[T Float](a argv) error {
	x, n, c, h, w, chunks, norm, partial := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), a.int(4), a.int(5), int32(a.int(6)), fbuf[T](a, 7)
	if n == 0 || chunks == 0 {
		return nil
	}
	M := c * h * w
	L := (M + chunks - 1) / chunks
	parallelFor(n*chunks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			i, k := b/chunks, b%chunks
			xi := x[i*M : (i+1)*M]
			e0, e1 := min(k*L, M), min((k+1)*L, M)
			var s float64
			// Row by row: the pixels [e0, e1) of image rows of w.
			for e := e0; e < e1; {
				col, r := e%w, (e/w)%h
				end := min(e1, e-col+w) // the end of this row
				row := xi[e-col : e-col+w]
				var below []T
				if r+1 < h {
					below = xi[e-col+w : e-col+2*w]
				}
				s += tvRow(norm, row, below, col, end-(e-col))
				e = end
			}
			partial[b] = T(s)
		}
	})
	return nil
}

// tvRow is Σ_{col0 <= j < col1} [j+1 < w] phi(row[j+1] - row[j]) +
// [below != nil] phi(below[j] - row[j]) in float64, in index order.
func tvRow[T Float](norm int32, row, below []T, col0, col1 int) float64 {
	var s float64
	l1 := norm == kernelspec.TVL1
	if l1 && below != nil {
		// The common case: no per-element tests before the row's last pixel.
		below = below[:len(row)]
		j := col0
		for ; j < min(col1, len(row)-1); j++ {
			v := float64(row[j])
			s += math.Abs(float64(row[j+1]) - v)
			s += math.Abs(float64(below[j]) - v)
		}
		if j < col1 { // the last pixel: no right neighbour
			s += math.Abs(float64(below[j]) - float64(row[j]))
		}
		return s
	}
	for j := col0; j < col1; j++ {
		v := float64(row[j])
		if j+1 < len(row) {
			d := float64(row[j+1]) - v
			if l1 {
				s += math.Abs(d)
			} else {
				s += d * d
			}
		}
		if below != nil {
			d := float64(below[j]) - v
			if l1 {
				s += math.Abs(d)
			} else {
				s += d * d
			}
		}
	}
	return s
}

// tvImage mirrors tv_image(partial, n, chunks, norm, loss_rows, factor):
// for image i, S = Σ_k partial[i·chunks + k] and
//
//	loss_rows[i] = S, or sqrt(S) for TVL2
//	factor[i]    = 1 (TVL1), 2 (TVL2Squared), 1/sqrt(S) (TVL2; 0 where S = 0)
func tvImage[T Float](a argv) error {
	partial, n, chunks, norm, rows, factor := fbuf[T](a, 0), a.int(1), a.int(2), int32(a.int(3)), fbuf[T](a, 4), fbuf[T](a, 5)
	for i := range n {
		var s float64
		for _, v := range partial[i*chunks : (i+1)*chunks] {
			s += float64(v)
		}
		s = float64(T(s)) // the kernel's sum is of the buffer's type
		r := math.Sqrt(s)
		switch norm {
		case kernelspec.TVL1:
			rows[i], factor[i] = T(s), 1
		case kernelspec.TVL2Squared:
			rows[i], factor[i] = T(s), 2
		default:
			rows[i], factor[i] = T(r), 0
			if s != 0 {
				factor[i] = T(1 / r)
			}
		}
	}
	return nil
}

// tvGrad mirrors tv_grad(x, factor, n, c, h, w, norm, scale, grad): for
// each pixel e = (i, ch, r, col), with psi(d) = sign(d) for TVL1 (0 at 0)
// and d for the l2 forms,
//
//	grad[e] = scale·factor[i]·([col > 0] psi(x[e] - x[e-1]) - [col+1 < w] psi(x[e+1] - x[e])
//	                          + [r > 0] psi(x[e] - x[e-w]) - [r+1 < h] psi(x[e+w] - x[e]))
//
// grad must not be x.
func tvGrad[T Float](a argv) error {
	x, factor, n, c, h, w := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4), a.int(5)
	norm, scale, grad := int32(a.int(6)), a.real(7), fbuf[T](a, 8)
	M := c * h * w
	if M == 0 {
		return nil
	}
	if norm == kernelspec.TVL1 {
		parallelFor(n*c*h, max(1, 4096/max(w, 1)), func(lo, hi int) {
			for row := lo; row < hi; row++ {
				i, r := row/(c*h), row%h
				// g is an integer in [-4, 4]: T(f·g) from a table.
				var tab [9]T
				f := scale * float64(factor[i])
				for k := range tab {
					tab[k] = T(f * float64(k-4))
				}
				xr, gr := x[row*w:row*w+w], grad[row*w:row*w+w]
				var up, dn []T
				if r > 0 {
					up = x[(row-1)*w : row*w]
				}
				if r+1 < h {
					dn = x[(row+1)*w : (row+2)*w]
				}
				tvGradL1Row(xr, up, dn, gr, &tab, f)
			}
		})
		return nil
	}
	parallelFor(n*c*h, max(1, 4096/max(w, 1)), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			i, r := row/(c*h), row%h
			f := scale * float64(factor[i])
			for col := range w {
				e := row*w + col
				v := float64(x[e])
				var g float64
				if col > 0 {
					g += v - float64(x[e-1])
				}
				if col+1 < w {
					g -= float64(x[e+1]) - v
				}
				if r > 0 {
					g += v - float64(x[e-w])
				}
				if r+1 < h {
					g -= float64(x[e+w]) - v
				}
				grad[e] = T(f * g)
			}
		}
	})
	return nil
}

// tvSign is the sign of d (0 at 0), without branches, and 1 where d is
// NaN (else 0).
func tvSign[T Float](d T) (int, uint64) {
	if unsafe.Sizeof(d) == 4 { // float32: a constant per instantiation
		u := uint64(math.Float32bits(float32(d)))
		abs := u & 0x7fffffff
		nz := (abs + 0x7fffffff) >> 31 // 1 unless d is ±0
		return int(nz) - int(2*(nz&(u>>31))), (0x7f800000 - abs) >> 63
	}
	u := math.Float64bits(float64(d))
	abs := u &^ (1 << 63)
	nz := (abs + (1<<63 - 1)) >> 63
	return int(nz) - int(2*(nz&(u>>63))), (0x7ff0000000000000 - abs) >> 63
}

// tvGradL1Row writes one row of tv_grad for TVL1: xr is the row, up and
// dn the rows above and below (nil at the image's edge), tab[g+4] =
// T(f·g). The differences are taken in T, which gives the same signs as
// in float64 (a difference of two T values is zero only when they are
// equal, and NaN only for NaN or equal infinities); a NaN difference makes
// the element T(f·NaN).
func tvGradL1Row[T Float](xr, up, dn, gr []T, tab *[9]T, f float64) {
	w := len(xr)
	gr = gr[:w]
	put := func(col, g int, nan uint64) {
		if nan != 0 {
			gr[col] = T(f * math.NaN())
		} else {
			gr[col] = tab[g+4]
		}
	}
	if up == nil || dn == nil || w < 3 {
		for col := range w {
			g, nan := tvGradL1At(xr, up, dn, col)
			put(col, g, nan)
		}
		return
	}
	g, nan := tvGradL1At(xr, up, dn, 0)
	put(0, g, nan)
	up, dn = up[:w], dn[:w]
	if unsafe.Sizeof(xr[0]) == 4 {
		p32 := func(v []T) []float32 { return unsafe.Slice((*float32)(unsafe.Pointer(&v[0])), w) }
		t32 := (*[9]float32)(unsafe.Pointer(tab))
		if tvGradL1Inner32(p32(xr), p32(up), p32(dn), p32(gr), t32) {
			g, nan = tvGradL1At(xr, up, dn, w-1)
			put(w-1, g, nan)
			return
		}
	}
	for col := 1; col < w-1; col++ {
		v := xr[col]
		s0, b0 := tvSign(v - xr[col-1])
		s1, b1 := tvSign(xr[col+1] - v)
		s2, b2 := tvSign(v - up[col])
		s3, b3 := tvSign(dn[col] - v)
		if b0|b1|b2|b3 != 0 {
			gr[col] = T(f * math.NaN())
			continue
		}
		gr[col] = tab[s0-s1+s2-s3+4]
	}
	g, nan = tvGradL1At(xr, up, dn, w-1)
	put(w-1, g, nan)
}

// tvGradL1At is the sign sum g of tv_grad's element col of the row xr
// (see tvGradL1Row) and 1 where a difference is NaN (else 0).
func tvGradL1At[T Float](xr, up, dn []T, col int) (int, uint64) {
	v := xr[col]
	g, nan := 0, uint64(0)
	if col > 0 {
		s, bad := tvSign(v - xr[col-1])
		g, nan = g+s, nan|bad
	}
	if col+1 < len(xr) {
		s, bad := tvSign(xr[col+1] - v)
		g, nan = g-s, nan|bad
	}
	if up != nil {
		s, bad := tvSign(v - up[col])
		g, nan = g+s, nan|bad
	}
	if dn != nil {
		s, bad := tvSign(dn[col] - v)
		g, nan = g-s, nan|bad
	}
	return g, nan
}

// tvGradL1Inner32 is tvGradL1Row's loop over the columns 1 <= col < w-1
// for float32, with the sign bits taken inline. It returns false, having
// where a difference is NaN, and the caller then redoes the row's inner
// columns.
func tvGradL1Inner32(xr, up, dn, gr []float32, tab *[9]float32) bool {
	w := len(xr)
	up, dn, gr = up[:w], dn[:w], gr[:w]
	var bad uint32
	for col := 1; col < w-1; col++ {
		v := xr[col]
		u0 := math.Float32bits(v - xr[col-1])
		u1 := math.Float32bits(xr[col+1] - v)
		u2 := math.Float32bits(v - up[col])
		u3 := math.Float32bits(dn[col] - v)
		a0, a1, a2, a3 := u0&0x7fffffff, u1&0x7fffffff, u2&0x7fffffff, u3&0x7fffffff
		bad |= ((0x7f800000 - a0) | (0x7f800000 - a1) | (0x7f800000 - a2) | (0x7f800000 - a3)) // bit 31: NaN
		n0, n1, n2, n3 := (a0+0x7fffffff)>>31, (a1+0x7fffffff)>>31, (a2+0x7fffffff)>>31, (a3+0x7fffffff)>>31
		g := int(n0) - int(2*(n0&(u0>>31))) - int(n1) + int(2*(n1&(u1>>31))) +
			int(n2) - int(2*(n2&(u2>>31))) - int(n3) + int(2*(n3&(u3>>31)))
		gr[col] = tab[g+4]
	}
	return bad>>31 == 0
}
