/*
 * box.cu: CUDA build of the box family. The kernels are in
 * src/box.h, shared with kernels/opencl/box.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/box.h"
