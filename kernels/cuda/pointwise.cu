/*
 * pointwise.cu: elementwise losses (le_pointwise in lemath.h) with their
 * gradients and a per-block partial sum. Host mirror (the specification):
 * host/pointwise.go.
 *
 * Grid: min(ceil(n / LE_BLOCK), kernels.MaxReduceBlocks) blocks of
 * LE_BLOCK threads, grid-stride in chunks of LE_BLOCK: element i is
 * handled by thread i mod LE_BLOCK of block (i / LE_BLOCK) mod LE_NBLOCKS,
 * the partition the host mirror sums over.
 */
#include "../lemath.h"

/*
 * pointwise_loss (pointwiseLoss): for i < n, with (l, dx, dy) the loss of
 * op at (input[i], target[i]) and its partial derivatives,
 *   grad_input[i]  = grad_scale * dx   if flags & LE_FLAG_GRAD_INPUT
 *   grad_target[i] = grad_scale * dy   if flags & LE_FLAG_GRAD_TARGET
 *   out[i]         = l                 unless flags & LE_FLAG_REDUCE
 *   out[b]         = sum of l over block b's elements, added by each
 *                    thread in order and then in a fixed tree,
 *                                      if flags & LE_FLAG_REDUCE
 * Each element is read and then written by one thread, so grad_input may
 * be input and grad_target may be target.
 */
LE_KERNEL pointwise_loss(int op, const LE_GLOBAL float *input, const LE_GLOBAL float *target, int n,
                         float p0, float p1, float grad_scale, int flags,
                         LE_GLOBAL float *grad_input, LE_GLOBAL float *grad_target,
                         LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float l, dx, dy;
        le_pointwise(op, input[i], target[i], p0, p1, &l, &dx, &dy);
        if (flags & LE_FLAG_GRAD_INPUT) grad_input[i] = grad_scale * dx;
        if (flags & LE_FLAG_GRAD_TARGET) grad_target[i] = grad_scale * dy;
        if (flags & LE_FLAG_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_FLAG_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}
