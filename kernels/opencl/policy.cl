/*
 * policy.cl: OpenCL build of the policy family. The kernels are in
 * src/policy.h, shared with kernels/cuda/policy.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/policy.h"
