/*
 * src/tv.h: total variation of images x [n, c, h, w]: per image the sum,
 * over its c*h*w pixels, of phi(d) for the differences d of each pixel
 * with its right and its lower neighbour. Host mirrors (the
 * specification): host/tv.go. The one body of the family:
 * kernels/cuda/tv.cu and kernels/opencl/tv.cl include it after lemath.h.
 * Image i is split into `chunks` contiguous ranges of its flat pixels,
 * one block each (tv_partial); tv_image adds an image's partials in a
 * fixed order and tree, so the results are bitwise reproducible.
 */
#ifndef LOSSENGINE_SRC_TV_H
#define LOSSENGINE_SRC_TV_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/tv.h"
#endif

/* Norms (kernelspec.TV* in Go): phi(d) = |d|, or d^2 for both l2 forms. */
#define LE_TV_L1 0
#define LE_TV_L2 1
#define LE_TV_L2_SQUARED 2

LE_FN float tv_phi(int norm, float d) { return norm == LE_TV_L1 ? fabs(d) : d * d; }

/*
 * tv_partial (tvPartial): block b < n * chunks handles image i = b / chunks,
 * range k = b mod chunks: the flat pixels e in [k L, min((k+1) L, M)) of
 * the image, M = c h w, L = ceil(M / chunks). With e = (ch, r, col):
 *   partial[b] = sum_e [col + 1 < w] phi(x[e + 1] - x[e]) + [r + 1 < h] phi(x[e + w] - x[e])
 * Thread t adds e = start + t, start + t + LE_BLOCK, ... in order, then
 * the block adds in a fixed tree. Blocks past n * chunks write nothing.
 */
LE_KERNEL tv_partial(const LE_GLOBAL float *x, int n, int c, int h, int w, int chunks, int norm,
                     LE_GLOBAL float *partial) {
    LE_LOCAL float sh[LE_BLOCK];
    int b = LE_BID;
    int active = chunks > 0 && b < n * chunks; /* n * chunks <= n * c * h * w: int32 */
    int i = active ? b / chunks : 0, k = active ? b % chunks : 0;
    LE_INDEX M = (LE_INDEX)c * h * w;
    LE_INDEX L = active ? (M + chunks - 1) / chunks : 0;
    LE_INDEX lo = k * L, hi = lo + L < M ? lo + L : M;
    if (!active) hi = lo;
    LE_INDEX o = (LE_INDEX)i * M;
    float acc = 0.0f;
    for (LE_INDEX e = lo + LE_TID; e < hi; e += LE_BLOCK) {
        int col = (int)(e % w), r = (int)((e / w) % h);
        float v = x[o + e];
        if (col + 1 < w) acc += tv_phi(norm, x[o + e + 1] - v);
        if (r + 1 < h) acc += tv_phi(norm, x[o + e + w] - v);
    }
    float s = le_block_sum(sh, acc);
    if (active && LE_TID == 0) partial[b] = s;
}

/*
 * tv_image (tvImage): one block per image i: S = sum_k partial[i chunks + k]
 * (thread t adds k = t, t + LE_BLOCK, ... in order, then a fixed tree),
 *   loss_rows[i] = S, or sqrt(S) for LE_TV_L2
 *   factor[i]    = 1 (l1), 2 (l2_squared), 1 / sqrt(S) (l2; 0 where S == 0)
 * factor[i] is what tv_grad multiplies its differences' terms by.
 */
LE_KERNEL tv_image(const LE_GLOBAL float *partial, int n, int chunks, int norm, LE_GLOBAL float *loss_rows,
                   LE_GLOBAL float *factor) {
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int nk = i < n ? chunks : 0;
    LE_INDEX o = (LE_INDEX)i * chunks;
    float acc = 0.0f;
    for (int k = LE_TID; k < nk; k += LE_BLOCK) acc += partial[o + k];
    float s = le_block_sum(sh, acc);
    if (i < n && LE_TID == 0) {
        float r = sqrt(s);
        loss_rows[i] = norm == LE_TV_L2 ? r : s;
        factor[i] = norm == LE_TV_L1 ? 1.0f : norm == LE_TV_L2_SQUARED ? 2.0f : (s == 0.0f ? 0.0f : 1.0f / r);
    }
}

/*
 * tv_grad (tvGrad): for each pixel e = (i, ch, r, col) (grid-stride), with
 * f = scale factor[i] and psi(d) = sign(d) (l1; 0 at 0) or d (l2 forms):
 *   grad[e] = f ([col > 0] psi(x[e] - x[e - 1]) - [col + 1 < w] psi(x[e + 1] - x[e])
 *              + [r > 0] psi(x[e] - x[e - w]) - [r + 1 < h] psi(x[e + w] - x[e]))
 * grad must not be x (the neighbours are read).
 */
LE_KERNEL tv_grad(const LE_GLOBAL float *x, const LE_GLOBAL float *factor, int n, int c, int h, int w, int norm,
                  float scale, LE_GLOBAL float *grad) {
    LE_INDEX M = (LE_INDEX)c * h * w, total = M * n;
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX e = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; e < total; e += stride) {
        int col = (int)(e % w), r = (int)((e / w) % h);
        LE_INDEX i = e / M;
        float v = x[e], g = 0.0f;
        if (norm == LE_TV_L1) {
            if (col > 0) g += le_sign(v - x[e - 1]);
            if (col + 1 < w) g -= le_sign(x[e + 1] - v);
            if (r > 0) g += le_sign(v - x[e - w]);
            if (r + 1 < h) g -= le_sign(x[e + w] - v);
        } else {
            if (col > 0) g += v - x[e - 1];
            if (col + 1 < w) g -= x[e + 1] - v;
            if (r > 0) g += v - x[e - w];
            if (r + 1 < h) g -= x[e + w] - v;
        }
        grad[e] = scale * factor[i] * g;
    }
}

#endif /* LOSSENGINE_SRC_TV_H */
