/*
 * box.cl: OpenCL build of the box family. The kernels are in
 * src/box.h, shared with kernels/cuda/box.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/box.h"
