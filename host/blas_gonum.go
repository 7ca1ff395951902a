//go:build !openblas

package host

// blasName names the BLAS behind blas32 and blas64 in this build: gonum's
// pure-Go implementation (build with -tags openblas for OpenBLAS).
func blasName() string { return "gonum" }
