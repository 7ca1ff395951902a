/*
 * softmetric.cu: CUDA build of the softmetric family. The kernels are in
 * src/softmetric.h, shared with kernels/opencl/softmetric.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/softmetric.h"
