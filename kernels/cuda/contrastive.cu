/*
 * contrastive.cu: CUDA build of the contrastive family. The kernels are in
 * src/contrastive.h, shared with kernels/opencl/contrastive.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/contrastive.h"
