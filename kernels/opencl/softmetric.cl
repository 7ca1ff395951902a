/*
 * softmetric.cl: OpenCL build of the softmetric family. The kernels are in
 * src/softmetric.h, shared with kernels/cuda/softmetric.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/softmetric.h"
