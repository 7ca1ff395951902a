/*
 * src/gram.h: the gram family, the perceptual and style losses over
 * features [N, C, *spatial] that a caller's network produced: a batched
 * matrix product in shared-memory tiles (the Gram matrices and the
 * gradient of the style loss), the squared difference of two Gram
 * matrices with per-block partial sums, feature_loss's MSE or L1 terms
 * and gradients with per-block partial sums, and the weighted sum of partials
 * into one slot of a per-layer loss buffer. Host mirrors (the
 * specification): host/gram.go. The one body of the family:
 * kernels/cuda/gram.cu and kernels/opencl/gram.cl include it after
 * lemath.h.
 *
 * Every sum is taken in a fixed order: gram_gemm adds each output's
 * products tile by tile in k order (no split of k across blocks, no
 * atomics), gram_diff, feature_diff and gram_layer_sum add in the fixed trees of
 * lemath.h, so every result is bitwise reproducible. No kernel returns
 * before a barrier: a block past the last tile runs its loops zero times.
 */
#ifndef LOSSENGINE_SRC_GRAM_H
#define LOSSENGINE_SRC_GRAM_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/gram.h"
#endif

/* GRAM_TILE x GRAM_TILE outputs per block, one per thread. */
#define GRAM_TILE 16
#if GRAM_TILE * GRAM_TILE != LE_BLOCK
#error "gram_gemm needs GRAM_TILE * GRAM_TILE == LE_BLOCK"
#endif

/*
 * gram_gemm (gramGemm): the batched product, for p < batch, i < m, j < n:
 *   c[p*m*n + i*n + j] = alpha * sum_{q<k} A(p,i,q) * B(p,q,j)
 *   A(p,i,q) = trans_a ? a[p*m*k + q*m + i] : a[p*m*k + i*k + q]
 *   B(p,q,j) = trans_b ? b[p*k*n + j*k + q] : b[p*k*n + q*n + j]
 * Block bid computes the 16 x 16 tile (bid / tn) % tm, bid % tn of matrix
 * p = bid / (tm*tn), with tm = ceil(m/16), tn = ceil(n/16): the grid has
 * batch*tm*tn blocks. Thread (ty, tx) = (tid / 16, tid % 16) owns output
 * (i0 + ty, j0 + tx); the k range is walked in tiles of 16 staged in
 * work-group memory, the 16 products of a tile added in q order into a
 * partial that is then added to the output's sum (two levels: rounding
 * grows with 16 + k/16 terms rather than k). The Gram matrix F F^T
 * (trans_b = 1, b = a) is bitwise symmetric: G[i][j] and G[j][i] add the
 * same products in the same order. c must not overlap a or b.
 */
LE_KERNEL gram_gemm(const LE_GLOBAL float *a, const LE_GLOBAL float *b, LE_GLOBAL float *c, int batch, int m,
                    int n, int k, int trans_a, int trans_b, float alpha) {
    LE_LOCAL float sa[GRAM_TILE][GRAM_TILE + 1], sb[GRAM_TILE][GRAM_TILE + 1];
    int tm = (m + GRAM_TILE - 1) / GRAM_TILE, tn = (n + GRAM_TILE - 1) / GRAM_TILE;
    LE_INDEX tiles = (LE_INDEX)tm * tn;
    LE_INDEX bid = LE_BID;
    LE_INDEX p = tiles > 0 ? bid / tiles : 0;
    int active = tiles > 0 && p < batch;
    if (!active) p = 0;
    LE_INDEX r = active ? bid - p * tiles : 0;
    int i0 = (int)(r / tn) * GRAM_TILE, j0 = (int)(r % tn) * GRAM_TILE;
    int ty = LE_TID / GRAM_TILE, tx = LE_TID % GRAM_TILE;
    const LE_GLOBAL float *ap = a + p * m * (LE_INDEX)k;
    const LE_GLOBAL float *bp = b + p * k * (LE_INDEX)n;
    int nt = active ? (k + GRAM_TILE - 1) / GRAM_TILE : 0; /* the same for the whole block */
    float acc = 0.0f;
    for (int t = 0; t < nt; t++) {
        int q0 = t * GRAM_TILE;
        /* Stage A(i0.., q0..) and B(q0.., j0..); neighbouring threads read
         * neighbouring addresses in either layout. */
        if (trans_a) {
            int i = i0 + tx, q = q0 + ty;
            sa[tx][ty] = (i < m && q < k) ? ap[(LE_INDEX)q * m + i] : 0.0f;
        } else {
            int i = i0 + ty, q = q0 + tx;
            sa[ty][tx] = (i < m && q < k) ? ap[(LE_INDEX)i * k + q] : 0.0f;
        }
        if (trans_b) {
            int j = j0 + ty, q = q0 + tx;
            sb[tx][ty] = (j < n && q < k) ? bp[(LE_INDEX)j * k + q] : 0.0f;
        } else {
            int q = q0 + ty, j = j0 + tx;
            sb[ty][tx] = (q < k && j < n) ? bp[(LE_INDEX)q * n + j] : 0.0f;
        }
        LE_SYNC();
        float part = 0.0f;
        for (int qq = 0; qq < GRAM_TILE; qq++) part += sa[ty][qq] * sb[qq][tx];
        acc += part;
        LE_SYNC();
    }
    int i = i0 + ty, j = j0 + tx;
    if (active && i < m && j < n) c[p * m * (LE_INDEX)n + (LE_INDEX)i * n + j] = alpha * acc;
}

/*
 * gram_diff (gramDiff): for i < n, d[i] = gx[i] - gy[i], and
 *   partials[b] = sum of d[i]^2 over block b's elements
 * in a grid-stride loop in chunks of LE_BLOCK (element i belongs to block
 * (i / LE_BLOCK) mod LE_NBLOCKS), each thread adding its elements in order
 * and the block its threads in a fixed tree. d may be gx or gy.
 */
LE_KERNEL gram_diff(const LE_GLOBAL float *gx, const LE_GLOBAL float *gy, int n, LE_GLOBAL float *d,
                    LE_GLOBAL float *partials) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float v = gx[i] - gy[i];
        d[i] = v;
        acc += v * v;
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0) partials[LE_BID] = s;
}

/*
 * feature_diff (featureDiff): feature_loss's terms. For i < n, with
 * d = x[i] - y[i]:
 *   l1 == 0 (MSE): l = d*d,  g = 2*d
 *   l1 != 0 (L1):  l = |d|,  g = sign(d) (0 at d = 0, NaN for NaN)
 *   grad_input[i]  =  scale * g                   if has_grad_input
 *   grad_target[i] = -scale * g                   if has_grad_target
 *   partials[b]    = sum of l over block b's elements
 * in the grid-stride partition of gram_diff, added in the same order.
 * Each element is read and then written by one thread, so grad_input and
 * grad_target may be x or y.
 */
LE_KERNEL feature_diff(const LE_GLOBAL float *x, const LE_GLOBAL float *y, int n, int l1, float scale,
                       int has_grad_input, LE_GLOBAL float *grad_input, int has_grad_target,
                       LE_GLOBAL float *grad_target, LE_GLOBAL float *partials) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float d = x[i] - y[i];
        float l = l1 ? fabs(d) : d * d;
        float g = l1 ? le_sign(d) : 2.0f * d;
        if (has_grad_input) grad_input[i] = scale * g;
        if (has_grad_target) grad_target[i] = -scale * g;
        acc += l;
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0) partials[LE_BID] = s;
}

/*
 * gram_layer_sum (gramLayerSum): slots[slot] = scale * sum_{i<n} x[i]: one
 * layer's loss from its partial sums. One block: thread t adds x[t],
 * x[t + LE_BLOCK], ... in order, then the block adds the threads' sums in a
 * fixed tree. Blocks other than block 0 write nothing. With n = 0 the sum
 * is 0, so scale = NaN writes NaN (the mean of nothing).
 */
LE_KERNEL gram_layer_sum(const LE_GLOBAL float *x, int n, float scale, int slot, LE_GLOBAL float *slots) {
    LE_LOCAL float sh[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0; /* no return before a barrier */
    float acc = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) acc += x[i];
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0 && LE_BID == 0) slots[slot] = s * scale;
}

#endif
