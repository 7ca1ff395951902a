/*
 * rowloss.cu: CUDA build of the rowloss family. The kernels are in
 * src/rowloss.h, shared with kernels/opencl/rowloss.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/rowloss.h"
