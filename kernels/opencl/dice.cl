/*
 * dice.cl: OpenCL build of the dice family. The kernels are in
 * src/dice.h, shared with kernels/cuda/dice.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/dice.h"
