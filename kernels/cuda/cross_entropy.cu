/*
 * cross_entropy.cu: CUDA build of the cross_entropy family. The kernels are in
 * src/cross_entropy.h, shared with kernels/opencl/cross_entropy.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/cross_entropy.h"
