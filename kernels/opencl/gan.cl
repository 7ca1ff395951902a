/*
 * gan.cl: OpenCL build of the gan family. The kernels are in
 * src/gan.h, shared with kernels/cuda/gan.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/gan.h"
