/*
 * gram.cl: OpenCL build of the gram family. The kernels are in
 * src/gram.h, shared with kernels/cuda/gram.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/gram.h"
