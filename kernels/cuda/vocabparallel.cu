/*
 * vocabparallel.cu: CUDA build of the vocabparallel family. The kernels are in
 * src/vocabparallel.h, shared with kernels/opencl/vocabparallel.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
#include "../src/vocabparallel.h"
