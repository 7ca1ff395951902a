package host

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// The host's BLAS matrix product (gonum's blas32/blas64, or what
// blas32.Use / blas64.Use installed: OpenBLAS under the openblas tag),
// shared by the gram, contrastive and matmul mirrors.

// trans is BLAS's flag for an operand stored transposed (t) or not.
func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// opCols is the stored row length of op(x) with rows×cols: cols, or rows
// when x is stored transposed.
func opCols(t bool, rows, cols int) int {
	if t {
		return rows
	}
	return cols
}

// conGemm sets c [m, n] (stride ldc) to alpha·op(a)·op(b) + beta·c.
func conGemm[T Float](ta, tb bool, m, n, k int, alpha float64, a []T, lda int, b []T, ldb int, beta float64, c []T, ldc int) {
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	switch a := any(a).(type) {
	case []float32:
		blas32.Gemm(trans(ta), trans(tb), float32(alpha),
			blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: a},
			blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: any(b).([]float32)}, float32(beta),
			blas32.General{Rows: m, Cols: n, Stride: ldc, Data: any(c).([]float32)})
	case []float64:
		blas64.Gemm(trans(ta), trans(tb), alpha,
			blas64.General{Rows: ar, Cols: ac, Stride: lda, Data: a},
			blas64.General{Rows: br, Cols: bc, Stride: ldb, Data: any(b).([]float64)}, beta,
			blas64.General{Rows: m, Cols: n, Stride: ldc, Data: any(c).([]float64)})
	}
}
