/*
 * ctc.cu: CUDA build of the ctc family. The kernels are in
 * src/ctc.h, shared with kernels/opencl/ctc.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/ctc.h"
