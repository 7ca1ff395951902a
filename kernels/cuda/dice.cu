/*
 * dice.cu: CUDA build of the dice family. The kernels are in
 * src/dice.h, shared with kernels/opencl/dice.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/dice.h"
