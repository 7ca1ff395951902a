/*
 * boundary.cu: CUDA build of the boundary family. The kernels are in
 * src/boundary.h, shared with kernels/opencl/boundary.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/boundary.h"
