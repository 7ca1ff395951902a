/*
 * clip.cu: CUDA build of the clip family. The kernels are in
 * src/clip.h, shared with kernels/opencl/clip.cl; the
 * dialect's settings are in lemath.h. scripts/gen-ptx.sh compiles this.
 */
#include "../lemath.h"
/* the power of two of a normal float (mantissa bits cleared), by a bit cast */
#define CLIP_EXP_BITS(a) __uint_as_float(__float_as_uint(a) & 0x7f800000u)
#include "../src/clip.h"
