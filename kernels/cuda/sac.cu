/*
 * sac.cu: CUDA build of the sac family. The kernels are in
 * src/sac.h, shared with kernels/opencl/sac.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/sac.h"
