/*
 * tv.cu: CUDA build of the tv family. The kernels are in
 * src/tv.h, shared with kernels/opencl/tv.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/tv.h"
