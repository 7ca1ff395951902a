//go:build openblas

package host

import (
	"github.com/lossengine/lossengine/host/openblas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// With the openblas build tag, the general matrix products of gonum's
// blas32 and blas64 (Sgemm, Dgemm), which the host mirrors of the matmul,
// gram and contrastive families call, are OpenBLAS's (package
// host/openblas); every other BLAS routine stays gonum's.
func init() {
	blas32.Use(openblas.Implementation{})
	blas64.Use(openblas.Implementation{})
}

// blasName names the BLAS behind blas32 and blas64 in this build.
func blasName() string { return "openblas" }
