/*
 * gan.cu: CUDA build of the gan family. The kernels are in
 * src/gan.h, shared with kernels/opencl/gan.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/gan.h"
