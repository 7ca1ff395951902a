/*
 * cross_entropy.cl: OpenCL build of the cross_entropy family. The kernels are in
 * src/cross_entropy.h, shared with kernels/cuda/cross_entropy.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/cross_entropy.h"
