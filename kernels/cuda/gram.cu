/*
 * gram.cu: CUDA build of the gram family. The kernels are in
 * src/gram.h, shared with kernels/opencl/gram.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/gram.h"
