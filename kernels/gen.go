package kernels

// The CUDA sources cuda/<family>.cu (lemath.h and the family's body
// src/<family>.h) are compiled to cuda/<family>.ptx by
// scripts/gen-ptx.sh (nvcc from CUDA 11.8, compute_70, IEEE-faithful
// float flags). The PTX is committed; TestPTXUpToDate fails when it is
// stale.

//go:generate bash ../scripts/gen-ptx.sh
