/*
 * sac.cl: OpenCL build of the sac family. The kernels are in
 * src/sac.h, shared with kernels/cuda/sac.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/sac.h"
