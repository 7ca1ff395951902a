/*
 * lovasz.cu: CUDA build of the lovasz family. The kernels are in
 * src/lovasz.h, shared with kernels/opencl/lovasz.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/lovasz.h"
