/*
 * barlow.cl: OpenCL build of the barlow family. The kernels are in
 * src/barlow.h, shared with kernels/cuda/barlow.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/barlow.h"
