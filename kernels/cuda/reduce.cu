/*
 * reduce.cu: CUDA build of the reduce family. The kernels are in
 * src/reduce.h, shared with kernels/opencl/reduce.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/reduce.h"
