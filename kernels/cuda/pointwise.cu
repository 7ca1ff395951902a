/*
 * pointwise.cu: CUDA build of the pointwise family. The kernels are in
 * src/pointwise.h, shared with kernels/opencl/pointwise.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/pointwise.h"
