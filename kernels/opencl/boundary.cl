/*
 * boundary.cl: OpenCL build of the boundary family. The kernels are in
 * src/boundary.h, shared with kernels/cuda/boundary.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/boundary.h"
