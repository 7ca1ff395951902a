/*
 * softmax.cu: CUDA build of the softmax family. The kernels are in
 * src/softmax.h, shared with kernels/opencl/softmax.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/softmax.h"
