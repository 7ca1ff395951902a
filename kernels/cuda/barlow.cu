/*
 * barlow.cu: CUDA build of the barlow family. The kernels are in
 * src/barlow.h, shared with kernels/opencl/barlow.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/barlow.h"
