/*
 * matmul.cl: OpenCL build of the matmul family. The kernel is in
 * src/matmul.h, shared with kernels/cuda/matmul.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/matmul.h"
