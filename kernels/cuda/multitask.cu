/*
 * multitask.cu: CUDA build of the multitask family. The kernels are in
 * src/multitask.h, shared with kernels/opencl/multitask.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/multitask.h"
