/*
 * pointwise.cl: OpenCL build of the pointwise family. The kernels are in
 * src/pointwise.h, shared with kernels/cuda/pointwise.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/pointwise.h"
