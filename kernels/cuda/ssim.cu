/*
 * ssim.cu: CUDA build of the ssim family. The kernels are in
 * src/ssim.h, shared with kernels/opencl/ssim.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/ssim.h"
