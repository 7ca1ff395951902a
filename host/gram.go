package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

func init() {
	register("gram_gemm", gramGemm[float32], gramGemm[float64])
	register("gram_diff", gramDiff[float32], gramDiff[float64])
	register("feature_diff", featureDiff[float32], featureDiff[float64])
	register("gram_layer_sum", gramLayerSum[float32], gramLayerSum[float64])
}

// The gram family: the matrix products and sums of the perceptual and
// style losses (kernels/src/gram.h). The products go to gonum's BLAS
// (blas32.Gemm for float32, blas64.Gemm for float64), which splits a large
// product over the cores itself; where an operand holds a NaN or an
// infinity the mirror adds the products itself, in k order, because BLAS
// skips the products of a zero, which the kernels do not (0·∞ is NaN).

// gramGemm mirrors gram_gemm(a, b, c, batch, m, n, k, trans_a, trans_b,
// alpha): for p < batch, i < m, j < n,
//
//	c[p*m*n + i*n + j] = alpha · Σ_{q<k} A(p,i,q)·B(p,q,j)
//	A(p,i,q) = trans_a ? a[p*m*k + q*m + i] : a[p*m*k + i*k + q]
//	B(p,q,j) = trans_b ? b[p*k*n + j*k + q] : b[p*k*n + q*n + j]
//
// The sum is BLAS's (in the element type, in BLAS's order), multiplied by
// alpha afterwards as the kernel does; the kernel adds tile by tile in k
// order. A Gram matrix (a and b the same buffer, trans_b only, m = n) is
// Syrk's upper triangle copied to the lower one, the batch's matrices
// spread over the cores; any other product is Gemm's. c must not overlap
// a or b.
func gramGemm[T Float](a argv) error {
	x, y, c := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	batch, m, n, k := a.int(3), a.int(4), a.int(5), a.int(6)
	ta, tb, alpha := a.int(7) != 0, a.int(8) != 0, T(a.real(9))
	if m == 0 || n == 0 {
		return nil
	}
	one := func(p int) {
		ap, bp, cp := x[p*m*k:(p+1)*m*k], y[p*k*n:(p+1)*k*n], c[p*m*n:(p+1)*m*n]
		switch {
		case k == 0 || !finite(ap) || !finite(bp):
			naiveGemm(ta, tb, m, n, k, ap, bp, cp)
		case gramCase(a, ta, tb, m, n):
			syrk(m, k, ap, cp)
		default:
			gemm(ta, tb, m, n, k, ap, bp, cp)
		}
		for i := range cp {
			cp[i] *= alpha
		}
	}
	if gramCase(a, ta, tb, m, n) {
		// Syrk runs on one core: the matrices go to the cores.
		parallelFor(batch, 1, func(lo, hi int) {
			for p := lo; p < hi; p++ {
				one(p)
			}
		})
		return nil
	}
	for p := 0; p < batch; p++ { // Gemm splits a product over the cores itself
		one(p)
	}
	return nil
}

// gramCase reports whether a gram_gemm launch is a Gram matrix a·aᵀ (the
// same buffer as a and b, trans_b only, m = n).
func gramCase(a argv, ta, tb bool, m, n int) bool {
	return a.args[0] == a.args[1] && !ta && tb && m == n
}

// syrk sets c [n, n] = a·aᵀ, a [n, k], with gonum's Syrk (the upper
// triangle, a dot product of rows per element), then copies the upper
// triangle to the lower one: the kernel's result is symmetric too.
func syrk[T Float](n, k int, a, c []T) {
	switch a := any(a).(type) {
	case []float32:
		blas32.Syrk(blas.NoTrans, 1, blas32.General{Rows: n, Cols: k, Stride: k, Data: a}, 0,
			blas32.Symmetric{N: n, Stride: n, Uplo: blas.Upper, Data: any(c).([]float32)})
	case []float64:
		blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: n, Cols: k, Stride: k, Data: a}, 0,
			blas64.Symmetric{N: n, Stride: n, Uplo: blas.Upper, Data: any(c).([]float64)})
	}
	for i := 1; i < n; i++ {
		for j := 0; j < i; j++ {
			c[i*n+j] = c[j*n+i]
		}
	}
}

// finite reports whether every element of v is finite.
func finite[T Float](v []T) bool {
	for _, e := range v {
		if math.IsNaN(float64(e)) || math.IsInf(float64(e), 0) {
			return false
		}
	}
	return true
}

// gemm sets c [m, n] = op(a)·op(b) with gonum's BLAS (k >= 1).
func gemm[T Float](ta, tb bool, m, n, k int, a, b, c []T) {
	conGemm(ta, tb, m, n, k, 1, a, opCols(ta, m, k), b, opCols(tb, k, n), 0, c, n)
}

// naiveGemm sets c [m, n] = op(a)·op(b), each element added in k order in
// the element type.
func naiveGemm[T Float](ta, tb bool, m, n, k int, a, b, c []T) {
	mmNaive(ta, tb, m, n, k, 1, a, b, 0, c)
}

// gramDiff mirrors gram_diff(gx, gy, n, d, partials): d[i] = gx[i] − gy[i]
// for i < n, and partials[b] = Σ d[i]² over block b's elements of the grid
// stride partition (i / BlockSize mod blocks == b), added in float64 in
// index order (the kernel adds each thread's elements, then the threads in
// a fixed tree). d may be gx or gy.
func gramDiff[T Float](a argv) error {
	gx, gy, n, d, part := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), fbuf[T](a, 3), fbuf[T](a, 4)
	blocks := a.grid.Blocks
	var fixed [kernelspec.MaxReduceBlocks]float64
	sums := fixed[:]
	if blocks > len(fixed) {
		sums = make([]float64, blocks)
	}
	sums = sums[:blocks]
	for i := 0; i < n; i++ {
		v := gx[i] - gy[i]
		d[i] = v
		sums[(i/kernelspec.BlockSize)%blocks] += float64(v) * float64(v)
	}
	for b, s := range sums {
		part[b] = T(s)
	}
	return nil
}

// featureDiff mirrors feature_diff(x, y, n, l1, scale, has_grad_input,
// grad_input, has_grad_target, grad_target, partials): for i < n, with
// d = x[i] − y[i], l = d² and g = 2d (MSE), or l = |d| and g = sign(d)
// (L1; 0 at d = 0, NaN for NaN),
//
//	grad_input[i]  =  scale·g   (if has_grad_input)
//	grad_target[i] = −scale·g   (if has_grad_target)
//	partials[b]    = Σ l over block b's elements (i / BlockSize mod blocks == b)
//
// d, l and g in the element type, the partial sums in float64 in index
// order (the kernel adds each thread's elements, then the threads in a
// fixed tree). The blocks' parts run on all cores. grad_input and
// grad_target may be x or y.
func featureDiff[T Float](a argv) error {
	x, y, n, l1, scale := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3) != 0, T(a.real(4))
	hasGX, gx, hasGY, gy, part := a.int(5) != 0, fbuf[T](a, 6), a.int(7) != 0, fbuf[T](a, 8), fbuf[T](a, 9)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			var s float64
			for c0 := b * bs; c0 < n; c0 += blocks * bs {
				c1 := min(c0+bs, n)
				xs, ys := x[c0:c1], y[c0:c1:c1]
				for i := range xs {
					d := xs[i] - ys[i]
					l, g := d*d, 2*d
					if l1 {
						l, g = T(math.Abs(float64(d))), signT(d)
					}
					if hasGX {
						gx[c0+i] = scale * g
					}
					if hasGY {
						gy[c0+i] = -scale * g
					}
					s += float64(l)
				}
			}
			part[b] = T(s)
		}
	})
	return nil
}

// gramLayerSum mirrors gram_layer_sum(x, n, scale, slot, slots):
// slots[slot] = scale · Σ_{i<n} x[i], added in float64 in index order.
func gramLayerSum[T Float](a argv) error {
	x, n, scale, slot, slots := fbuf[T](a, 0), a.int(1), a.real(2), a.int(3), fbuf[T](a, 4)
	var s float64
	for _, v := range x[:n] {
		s += float64(v)
	}
	slots[slot] = T(s * scale)
	return nil
}
