/*
 * tv.cl: OpenCL build of the tv family. The kernels are in
 * src/tv.h, shared with kernels/cuda/tv.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/tv.h"
