package host

import (
	"math"

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
	psi := func(d float64) float64 { return d }
	if norm == kernelspec.TVL1 {
		psi = func(d float64) float64 {
			switch {
			case d > 0:
				return 1
			case d < 0:
				return -1
			case d == 0:
				return 0
			}
			return d
		}
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
					g += psi(v - float64(x[e-1]))
				}
				if col+1 < w {
					g -= psi(float64(x[e+1]) - v)
				}
				if r > 0 {
					g += psi(v - float64(x[e-w]))
				}
				if r+1 < h {
					g -= psi(float64(x[e+w]) - v)
				}
				grad[e] = T(f * g)
			}
		}
	})
	return nil
}
