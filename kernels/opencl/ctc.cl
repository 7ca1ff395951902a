/*
 * ctc.cl: OpenCL build of the ctc family. The kernels are in
 * src/ctc.h, shared with kernels/cuda/ctc.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
#include "../src/ctc.h"
