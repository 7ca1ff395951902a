/*
 * reduce.cl: OpenCL build of the reduce family. The kernels are in
 * src/reduce.h, shared with kernels/cuda/reduce.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/reduce.h"
