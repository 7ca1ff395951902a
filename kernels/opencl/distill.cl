/*
 * distill.cl: OpenCL build of the distill family. The kernels are in
 * src/distill.h, shared with kernels/cuda/distill.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/distill.h"
