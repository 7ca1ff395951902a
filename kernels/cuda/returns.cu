/*
 * returns.cu: CUDA build of the returns family. The kernels are in
 * src/returns.h, shared with kernels/opencl/returns.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/returns.h"
