/*
 * pointwise.cl: elementwise losses (the op argument; le_pointwise in
 * lemath.h) with their gradients and a per-block partial sum. Host
 * mirror: host/pointwise.go.
 */
#include "lemath.h"

/*
 * pointwise_loss: for i < n, with (l, dx, dy) = le_pointwise(op, input[i],
 * target[i]): grad_input[i] = grad_scale*dx if flags & LE_FLAG_GRAD_INPUT,
 * grad_target[i] = grad_scale*dy if flags & LE_FLAG_GRAD_TARGET, and out[i]
 * = l, or with LE_FLAG_REDUCE out[b] = the sum of l over the elements that
 * block b visits: a grid-stride loop in chunks of LE_BLOCK, so element i
 * belongs to block (i / LE_BLOCK) mod LE_NBLOCKS (pointwiseLoss). The
 * gradients may alias input or target.
 */
LE_KERNEL pointwise_loss(int op, const LE_GLOBAL float *input, const LE_GLOBAL float *target, int n, float p0, float p1, float grad_scale, int flags, LE_GLOBAL float *grad_input, LE_GLOBAL float *grad_target, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    int want_gx = (flags & LE_FLAG_GRAD_INPUT) != 0;
    int want_gy = (flags & LE_FLAG_GRAD_TARGET) != 0;
    int reduce = (flags & LE_FLAG_REDUCE) != 0;
    long stride = (long)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (long i = (long)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float l, dx, dy;
        le_pointwise(op, input[i], target[i], p0, p1, &l, &dx, &dy);
        if (want_gx) grad_input[i] = grad_scale * dx;
        if (want_gy) grad_target[i] = grad_scale * dy;
        if (reduce) acc += l;
        else out[i] = l;
    }
    if (reduce) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}
