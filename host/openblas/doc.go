// Package openblas is gonum's BLAS with the general matrix products
// Sgemm and Dgemm taken from OpenBLAS through cgo. It is built with the
// openblas build tag only (without it the package is empty); package host
// then installs it as the BLAS of gonum's blas32 and blas64.
package openblas
