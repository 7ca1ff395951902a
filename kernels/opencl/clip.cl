/*
 * clip.cl: OpenCL build of the clip family. The kernels are in
 * src/clip.h, shared with kernels/cuda/clip.cu; the
 * dialect's settings are in lemath.h. kernels.OpenCLSource inlines both.
 */
#include "../lemath.h"
/* the power of two of a normal float (mantissa bits cleared), by a bit cast */
#define CLIP_EXP_BITS(a) as_float(as_uint(a) & 0x7f800000u)
#include "../src/clip.h"
