/*
 * multitask.cl: OpenCL build of the multitask family. The kernels are in
 * src/multitask.h, shared with kernels/cuda/multitask.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/multitask.h"
