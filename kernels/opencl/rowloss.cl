/*
 * rowloss.cl: OpenCL build of the rowloss family. The kernels are in
 * src/rowloss.h, shared with kernels/cuda/rowloss.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/rowloss.h"
