/*
 * pairwise.cu: CUDA build of the pairwise family. The kernels are in
 * src/pairwise.h, shared with kernels/opencl/pairwise.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/pairwise.h"
