/*
 * policy.cu: CUDA build of the policy family. The kernels are in
 * src/policy.h, shared with kernels/opencl/policy.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/policy.h"
