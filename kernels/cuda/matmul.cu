/*
 * matmul.cu: CUDA build of the matmul family. The kernel is in
 * src/matmul.h, shared with kernels/opencl/matmul.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/matmul.h"
