package host

import (
	"fmt"
	"sync/atomic"
)

func init() {
	register("matmul", matmulMirror[float32], matmulMirror[float64])
}

// The matmul family: the general matrix product with a bias
// (kernels/src/matmul.h) that the fused linear layers build on. The
// product goes to the BLAS that gonum's blas32 and blas64 packages use
// (gonum's pure-Go implementation, which splits a large product over the
// cores itself, or the one installed with blas32.Use / blas64.Use, e.g.
// OpenBLAS under the openblas build tag: host/blas_openblas.go). Where an
// operand holds a NaN or an infinity the mirror adds the products itself,
// in k order, because BLAS skips the products of a zero, which the kernel
// does not (0·∞ is NaN).

// matmulMirror mirrors matmul(a, b, c, m, n, k, trans_a, trans_b, alpha,
// beta, has_bias, bias, a_row0, b_row0, c_row0): for i < m, j < n,
//
//	c[i*n + j] = alpha · Σ_{q<k} A(i,q)·B(q,j) + (beta ≠ 0 ? beta·c[i*n + j] : 0) + (has_bias ? bias[j] : 0)
//	A(i,q) = trans_a ? a[q*m + i] : a[i*k + q]
//	B(q,j) = trans_b ? b[j*k + q] : b[q*n + j]
//
// in the element type: alpha·Σ + beta·c is BLAS's Gemm (its order of the
// sum; the kernel adds the products of each k tile of 16 in q order, then
// the tiles in k order), then the bias is added. With beta = 0, c is not
// read. c must not overlap a, b or bias. a, b and c start at their stored
// rows a_row0, b_row0 and c_row0 (rows of trans_a ? m : k, trans_b ? k :
// n and n elements).
func matmulMirror[T Float](a argv) error {
	x, y, c := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	m, n, k := a.int(3), a.int(4), a.int(5)
	ta, tb := a.int(6) != 0, a.int(7) != 0
	alpha, beta := a.real(8), a.real(9)
	var bias []T
	if a.int(10) != 0 {
		bias = fbuf[T](a, 11)
	}
	// The operands start at their first stored rows.
	if ta {
		x = x[a.int(12)*m:]
	} else {
		x = x[a.int(12)*k:]
	}
	if tb {
		y = y[a.int(13)*k:]
	} else {
		y = y[a.int(13)*n:]
	}
	c = c[a.int(14)*n:]
	mmProduct(ta, tb, m, n, k, T(alpha), x[:m*k], y[:k*n], T(beta), c[:m*n], bias)
	return nil
}

// Matmul computes, on host slices in row-major layout, what the matmul
// kernel computes (see matmulMirror): for i < m, j < n,
//
//	c[i*n + j] = alpha · Σ_{q<k} A(i,q)·B(q,j) + (beta ≠ 0 ? beta·c[i*n + j] : 0) + (bias ≠ nil ? bias[j] : 0)
//
// with A(i,q) = a[q*m + i] if transA else a[i*k + q], and B(q,j) =
// b[j*k + q] if transB else b[q*n + j]. a needs m·k elements, b k·n, c
// m·n and bias (if not nil) n; otherwise, or for a negative size, it
// returns an error and writes nothing. c must not overlap a, b or bias.
func Matmul[T Float](transA, transB bool, m, n, k int, alpha T, a, b []T, beta T, c, bias []T) error {
	switch {
	case m < 0 || n < 0 || k < 0:
		return fmt.Errorf("host: Matmul: negative size (m = %d, n = %d, k = %d)", m, n, k)
	case len(a) < m*k || len(b) < k*n || len(c) < m*n:
		return fmt.Errorf("host: Matmul: [%d, %d]·[%d, %d] needs %d, %d and %d elements of a, b and c, got %d, %d and %d",
			m, k, k, n, m*k, k*n, m*n, len(a), len(b), len(c))
	case bias != nil && len(bias) < n:
		return fmt.Errorf("host: Matmul: bias has %d elements, want %d", len(bias), n)
	}
	if m > 0 && k > 0 && (k > int(^uint(0)>>1)/m || n > int(^uint(0)>>1)/k || n > int(^uint(0)>>1)/m) {
		return fmt.Errorf("host: Matmul: %d·%d·%d overflows int", m, n, k)
	}
	mmProduct(transA, transB, m, n, k, alpha, a[:m*k], b[:k*n], beta, c[:m*n], bias)
	return nil
}

// mmProduct is the matmul kernel's formula over slices of exactly m·k,
// k·n and m·n elements (bias nil or at least n).
func mmProduct[T Float](ta, tb bool, m, n, k int, alpha T, a, b []T, beta T, c, bias []T) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || !mmFinite(a) || !mmFinite(b) {
		mmNaive(ta, tb, m, n, k, alpha, a, b, beta, c)
	} else {
		mmGemm(ta, tb, m, n, k, alpha, a, b, beta, c)
	}
	if bias != nil {
		for i := 0; i < m; i++ {
			row := c[i*n : (i+1)*n]
			for j, v := range bias[:n] {
				row[j] += v
			}
		}
	}
}

// mmGemm sets c [m, n] = alpha·op(a)·op(b) + beta·c with the BLAS of
// blas32/blas64 (beta = 0: c is not read).
func mmGemm[T Float](ta, tb bool, m, n, k int, alpha T, a, b []T, beta T, c []T) {
	conGemm(ta, tb, m, n, k, float64(alpha), a, opCols(ta, m, k), b, opCols(tb, k, n), float64(beta), c, n)
}

// mmNaive sets c [m, n] = alpha·op(a)·op(b) + (beta ≠ 0 ? beta·c : 0),
// each sum added in k order in the element type, every product taken
// (NaN where 0·∞ or a NaN enters it).
func mmNaive[T Float](ta, tb bool, m, n, k int, alpha T, a, b []T, beta T, c []T) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for q := 0; q < k; q++ {
				av, bv := a[i*k+q], b[q*n+j]
				if ta {
					av = a[q*m+i]
				}
				if tb {
					bv = b[j*k+q]
				}
				s += av * bv
			}
			v := alpha * s
			if beta != 0 {
				v += beta * c[i*n+j]
			}
			c[i*n+j] = v
		}
	}
}

// mmFinite reports whether every element of v is finite, as finite does,
// in one pass over the cores: v·0 is ±0 for a finite v and NaN for a NaN
// or an infinity, so a sum of them is ±0 exactly when all are finite. (A
// pass over a 50257×1024 weight matrix is a few percent of a product
// with it; finite's per-element tests took 10 %.)
func mmFinite[T Float](v []T) bool {
	const grain = 1 << 16
	if len(v) <= grain {
		return mmZeroSum(v) == 0
	}
	var bad atomic.Bool
	parallelFor((len(v)+grain-1)/grain, 1, func(lo, hi int) {
		for c := lo; c < hi && !bad.Load(); c++ {
			if mmZeroSum(v[c*grain:min((c+1)*grain, len(v))]) != 0 {
				bad.Store(true)
			}
		}
	})
	return !bad.Load()
}

// mmZeroSum returns Σ v[i]·0: ±0 if every v[i] is finite, else NaN.
func mmZeroSum[T Float](v []T) T {
	var s0, s1, s2, s3 T
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0 += v[i] * 0
		s1 += v[i+1] * 0
		s2 += v[i+2] * 0
		s3 += v[i+3] * 0
	}
	for ; i < len(v); i++ {
		s0 += v[i] * 0
	}
	return s0 + s1 + s2 + s3
}
