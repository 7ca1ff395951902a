/*
 * returns.cl: OpenCL build of the returns family. The kernels are in
 * src/returns.h, shared with kernels/cuda/returns.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/returns.h"
