/*
 * softmax.cl: OpenCL build of the softmax family. The kernels are in
 * src/softmax.h, shared with kernels/cuda/softmax.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/softmax.h"
