/*
 * pairwise.cl: OpenCL build of the pairwise family. The kernels are in
 * src/pairwise.h, shared with kernels/cuda/pairwise.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/pairwise.h"
