/*
 * ssim.cl: OpenCL build of the ssim family. The kernels are in
 * src/ssim.h, shared with kernels/cuda/ssim.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/ssim.h"
