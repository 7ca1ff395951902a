/*
 * mining.cu: CUDA build of the mining family. The kernels are in
 * src/mining.h, shared with kernels/opencl/mining.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/mining.h"
