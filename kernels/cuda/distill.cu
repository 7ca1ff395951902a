/*
 * distill.cu: CUDA build of the distill family. The kernels are in
 * src/distill.h, shared with kernels/opencl/distill.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/distill.h"
