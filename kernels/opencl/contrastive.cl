/*
 * contrastive.cl: OpenCL build of the contrastive family. The kernels are in
 * src/contrastive.h, shared with kernels/cuda/contrastive.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/contrastive.h"
