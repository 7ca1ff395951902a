/*
 * mining.cl: OpenCL build of the mining family. The kernels are in
 * src/mining.h, shared with kernels/cuda/mining.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/mining.h"
