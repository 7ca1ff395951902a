//go:build openblas

package openblas

/*
#cgo pkg-config: openblas
#include <cblas.h>
*/
import "C"

import (
	"math"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Implementation is gonum's BLAS with Sgemm and Dgemm from OpenBLAS
// (cblas_sgemm, cblas_dgemm); every other routine stays gonum's. With the
// openblas build tag, package host installs it in blas32 and blas64
// (host/blas_openblas.go), for the host mirrors of the matmul, gram and
// contrastive families. It needs OpenBLAS's headers and library where
// pkg-config finds them (Debian: libopenblas-dev). OpenBLAS runs a product on its own threads
// (OPENBLAS_NUM_THREADS, by default one per core); the summation order of
// its kernels depends on the CPU it detects and on the thread count, so
// host results are reproducible on one machine and setting, not across
// them. A product with m, n or k zero, alpha zero, or arguments that
// gonum would refuse goes to gonum's implementation (which panics with its
// usual message on bad arguments, before anything reaches C).

type Implementation struct{ gonum.Implementation }

var (
	_ blas.Float32 = Implementation{}
	_ blas.Float64 = Implementation{}
)

// gemmArgsOK reports whether a Gemm call's arguments are ones gonum
// accepts and that need a product (m, n, k >= 1 and alpha != 0), with
// every size within cblas's 32-bit integers: only those go to C.
func gemmArgsOK(tA, tB blas.Transpose, m, n, k, la, lda, lb, ldb, lc, ldc int, alphaZero bool) bool {
	okT := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	if !okT(tA) || !okT(tB) || m < 1 || n < 1 || k < 1 || alphaZero {
		return false
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 { // cblas takes 32-bit sizes
			return false
		}
	}
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	return lda >= ac && ldb >= bc && ldc >= n &&
		la >= (ar-1)*lda+ac && lb >= (br-1)*ldb+bc && lc >= (m-1)*ldc+n
}

func cblasTrans(t blas.Transpose) C.enum_CBLAS_TRANSPOSE {
	if t == blas.NoTrans {
		return C.CblasNoTrans
	}
	return C.CblasTrans
}

// Sgemm is cblas_sgemm: C = alpha·op(A)·op(B) + beta·C, row-major (beta = 0:
// C is not read).
func (o Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int,
	beta float32, c []float32, ldc int) {
	if !gemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc, alpha == 0) {
		o.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.cblas_sgemm(C.CblasRowMajor, cblasTrans(tA), cblasTrans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.float)(unsafe.Pointer(&b[0])),
		C.blasint(ldb), C.float(beta), (*C.float)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}

// Dgemm is cblas_dgemm: C = alpha·op(A)·op(B) + beta·C, row-major (beta = 0:
// C is not read).
func (o Implementation) Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int,
	beta float64, c []float64, ldc int) {
	if !gemmArgsOK(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc, alpha == 0) {
		o.Implementation.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	C.cblas_dgemm(C.CblasRowMajor, cblasTrans(tA), cblasTrans(tB), C.blasint(m), C.blasint(n), C.blasint(k),
		C.double(alpha), (*C.double)(unsafe.Pointer(&a[0])), C.blasint(lda), (*C.double)(unsafe.Pointer(&b[0])),
		C.blasint(ldb), C.double(beta), (*C.double)(unsafe.Pointer(&c[0])), C.blasint(ldc))
}
