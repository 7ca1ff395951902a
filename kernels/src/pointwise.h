/*
 * src/pointwise.h: elementwise losses (le_pointwise in lemath.h) with their
 * gradients, per-element weights, a mask, a broadcast auxiliary input and a
 * per-block partial sum. Host mirror (the specification): host/pointwise.go.
 * The one body of the family: kernels/cuda/pointwise.cu and
 * kernels/opencl/pointwise.cl include it after lemath.h.
 *
 * Grid of pointwise_loss and mask_count: min(ceil(n / LE_BLOCK),
 * kernelspec.MaxReduceBlocks) blocks of LE_BLOCK threads, grid-stride in
 * chunks of LE_BLOCK: element i is handled by thread i mod LE_BLOCK of
 * block (i / LE_BLOCK) mod LE_NBLOCKS, the partition the host mirror sums
 * over.
 */
#ifndef LOSSENGINE_SRC_POINTWISE_H
#define LOSSENGINE_SRC_POINTWISE_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/pointwise.h"
#endif

/*
 * pointwise_loss (pointwiseLoss): for i < n, with
 *   (l, dx, dy, da) = le_pointwise(op, input[i], target[i], a, p0, p1, p2),
 *   a = aux[(i / aux_stride) mod aux_len]        (1 without LE_FLAG_AUX),
 *   w = weight[(i / w_stride) mod w_len]         (1 without LE_FLAG_WEIGHT),
 *   keep = mask[(i / m_stride) mod m_len] != 0   (1 without LE_FLAG_MASK),
 *   g = grad_scale / denom[0]                    (grad_scale without LE_FLAG_DENOM):
 *   grad_input[i]  = keep ? g * w * dx : 0       if flags & LE_FLAG_GRAD_INPUT
 *   grad_target[i] = keep ? g * w * dy : 0       if flags & LE_FLAG_GRAD_TARGET
 *   grad_aux[i]    = keep ? g * w * da : 0       if flags & LE_FLAG_GRAD_AUX
 *   out[i]         = keep ? w * l : 0            unless flags & LE_FLAG_REDUCE
 *   out[b]         = sum of those values over block b's elements, added by
 *                    each thread in order and then in a fixed tree,
 *                                                if flags & LE_FLAG_REDUCE
 * A masked-out element contributes exact zeros, even where its input is NaN.
 * Each element is read and then written by one thread, so grad_input may be
 * input and grad_target may be target.
 */
LE_KERNEL pointwise_loss(int op, const LE_GLOBAL float *input, const LE_GLOBAL float *target,
                         const LE_GLOBAL float *aux, const LE_GLOBAL float *weight,
                         const LE_GLOBAL int *mask, int n, float p0, float p1, float p2,
                         int aux_len, int aux_stride, int w_len, int w_stride, int m_len, int m_stride,
                         float grad_scale, const LE_GLOBAL float *denom, int flags,
                         LE_GLOBAL float *grad_input, LE_GLOBAL float *grad_target,
                         LE_GLOBAL float *grad_aux, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float g = grad_scale;
    if (flags & LE_FLAG_DENOM) g = grad_scale / denom[0];
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float l = 0.0f, dx = 0.0f, dy = 0.0f, da = 0.0f;
        int keep = (flags & LE_FLAG_MASK) ? mask[le_bcast(i, m_len, m_stride)] != 0 : 1;
        if (keep) {
            float a = (flags & LE_FLAG_AUX) ? aux[le_bcast(i, aux_len, aux_stride)] : 1.0f;
            le_pointwise(op, input[i], target[i], a, p0, p1, p2, &l, &dx, &dy, &da);
            float w = g;
            if (flags & LE_FLAG_WEIGHT) {
                float wi = weight[le_bcast(i, w_len, w_stride)];
                l *= wi;
                w *= wi;
            }
            dx *= w;
            dy *= w;
            da *= w;
        }
        if (flags & LE_FLAG_GRAD_INPUT) grad_input[i] = dx;
        if (flags & LE_FLAG_GRAD_TARGET) grad_target[i] = dy;
        if (flags & LE_FLAG_GRAD_AUX) grad_aux[i] = da;
        if (flags & LE_FLAG_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_FLAG_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

/*
 * mask_count (maskCount): out[b] = the number of i < n in block b's part
 * (as in pointwise_loss) with mask[(i / m_stride) mod m_len] != 0, as a
 * float. reduce_sum of the partials is the denominator of a masked mean.
 */
LE_KERNEL mask_count(const LE_GLOBAL int *mask, int n, int m_len, int m_stride, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    int cnt = 0;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride)
        if (mask[le_bcast(i, m_len, m_stride)] != 0) cnt++;
    float s = le_block_sum(sh, (float)cnt);
    if (LE_TID == 0) out[LE_BID] = s;
}

/*
 * broadcast_sum (broadcastSum): for j < len,
 *   out[j] = sum of x[i] over the i < n with (i / stride) mod len == j,
 * the gradient of a buffer that was broadcast with (len, stride). Block j
 * handles out[j]: its members, in index order, are numbered q = 0, 1, ...
 * (member q is i = ((q / stride) * len + j) * stride + q mod stride);
 * thread t adds members t, t + LE_BLOCK, ... in order, then the block adds
 * the partials in a fixed tree. Blocks j >= len write nothing.
 */
LE_KERNEL broadcast_sum(const LE_GLOBAL float *x, int n, int len, int stride, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    int j = LE_BID;
    LE_INDEX period = (LE_INDEX)len * stride;
    LE_INDEX members = j < len ? ((LE_INDEX)n + period - 1) / period * stride : 0;
    float acc = 0.0f;
    for (LE_INDEX q = LE_TID; q < members; q += LE_BLOCK) {
        LE_INDEX i = ((q / stride) * len + j) * stride + q % stride;
        if (i < n) acc += x[i];
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0 && j < len) out[j] = s;
}

#endif /* LOSSENGINE_SRC_POINTWISE_H */
