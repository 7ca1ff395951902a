/*
 * lovasz.cl: OpenCL build of the lovasz family. The kernels are in
 * src/lovasz.h, shared with kernels/cuda/lovasz.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/lovasz.h"
