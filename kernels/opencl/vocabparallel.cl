/*
 * vocabparallel.cl: OpenCL build of the vocabparallel family. The kernels are in
 * src/vocabparallel.h, shared with kernels/cuda/vocabparallel.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/vocabparallel.h"
