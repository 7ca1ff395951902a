/*
 * src/barlow.h: the barlow family, Barlow Twins' redundancy-reduction loss
 * (Zbontar et al. 2021) over two embeddings z1, z2 [n, d] of the same
 * samples: each column standardised over the batch (bt_norm), the
 * cross-correlation matrix c = z1nᵀ z2n / n by the gram family's tiled
 * gram_gemm, the loss terms and dL/dc over c (bt_cc), dL/dzn by gram_gemm
 * again, and the standardisation's backward (bt_norm_back). Host mirrors
 * (the specification): host/barlow.go. The one body of the family:
 * kernels/cuda/barlow.cu and kernels/opencl/barlow.cl include it after
 * lemath.h (gram_gemm comes from src/gram.h).
 *
 * Every sum is taken in a fixed order (a column's sums in row order, in
 * chunks of BT_CHUNK rows, then the chunks in order; bt_cc's partials in
 * the fixed tree of lemath.h), so every result is bitwise reproducible.
 */
#ifndef LOSSENGINE_SRC_BARLOW_H
#define LOSSENGINE_SRC_BARLOW_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/barlow.h"
#endif

/* Rows added into one partial before the partial joins a column's sum:
 * the rounding of a sum of n terms grows with BT_CHUNK + n/BT_CHUNK. */
#define BT_CHUNK 16

/*
 * BT_COL_SUM sets out to the sum over rows i < n of expr (a function of
 * the row index i), in chunks of BT_CHUNK rows (see BT_CHUNK).
 */
#define BT_COL_SUM(out, n, expr)                                   \
    do {                                                           \
        float tot_ = 0.0f;                                         \
        for (int i0_ = 0; i0_ < (n); i0_ += BT_CHUNK) {            \
            float part_ = 0.0f;                                    \
            int i1_ = i0_ + BT_CHUNK < (n) ? i0_ + BT_CHUNK : (n); \
            for (int i = i0_; i < i1_; i++) part_ += (expr);       \
            tot_ += part_;                                         \
        }                                                          \
        (out) = tot_;                                              \
    } while (0)

/*
 * bt_norm (btNorm): the standardisation of each column j < d of z [n, d]
 * over the n rows, one thread per column (grid-stride over columns), about
 * the column's first value z0 = z[0, j] (so that a column far from 0 keeps
 * its digits: each z − z0 is exact for values within a factor 2 of z0):
 *   m = Σ_i (z[i, j] − z0) / n,  S = Σ_i ((z[i, j] − z0) − m)²,
 *   r = 1 / sqrt(S / (n − unbiased) + eps),
 *   zn[i, j] = ((z[i, j] − z0) − m)·r,  rstd[j] = r
 * (the mean is z0 + m; unbiased 0, eps 1e-5: BatchNorm1d without affine
 * in training, the paper's; unbiased 1, eps 0: MONAI's division by the
 * unbiased std). zn may be z.
 */
LE_KERNEL bt_norm(const LE_GLOBAL float *z, int n, int d, int unbiased, float eps, LE_GLOBAL float *zn,
                  LE_GLOBAL float *rstd) {
    for (LE_INDEX j = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; j < d; j += (LE_INDEX)LE_NBLOCKS * LE_BLOCK) {
        float z0 = n > 0 ? z[j] : 0.0f, s, q;
        BT_COL_SUM(s, n, z[(LE_INDEX)i * d + j] - z0);
        float m = s / (float)n;
        BT_COL_SUM(q, n, ((z[(LE_INDEX)i * d + j] - z0) - m) * ((z[(LE_INDEX)i * d + j] - z0) - m));
        float r = 1.0f / sqrt(q / (float)(n - unbiased) + eps);
        for (int i = 0; i < n; i++) zn[(LE_INDEX)i * d + j] = ((z[(LE_INDEX)i * d + j] - z0) - m) * r;
        rstd[j] = r;
    }
}

/*
 * bt_cc (btCC): the loss terms over the cross-correlation matrix c [d, d]
 * and, with has_grad, dL/dc in place:
 *   diagonal:     l = (1 − c_ii)²,   c_ii ← −2·(1 − c_ii)·scale
 *   off-diagonal: l = λ·c_ij²,       c_ij ← 2·λ·c_ij·scale
 *   partials[b] = Σ l over block b's elements
 * in a grid-stride loop over the d·d elements in chunks of LE_BLOCK
 * (element e belongs to block (e / LE_BLOCK) mod LE_NBLOCKS), each thread
 * adding its elements in order and the block its threads in a fixed tree.
 */
LE_KERNEL bt_cc(LE_GLOBAL float *c, int d, float lambd, float scale, int has_grad, LE_GLOBAL float *partials) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX dd = (LE_INDEX)d * d, stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX e = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; e < dd; e += stride) {
        float v = c[e];
        int diag = e / d == e % d;
        float u = diag ? 1.0f - v : v;
        acc += diag ? u * u : lambd * (u * u);
        if (has_grad) c[e] = diag ? -2.0f * u * scale : 2.0f * lambd * u * scale;
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0) partials[LE_BID] = s;
}

/*
 * bt_norm_back (btNormBack): the backward of bt_norm for each column j,
 * in place over g [n, d] (dL/dzn in, dL/dz out), one thread per column:
 *   m1 = Σ_i g[i, j] / n,  m2 = Σ_i g[i, j]·zn[i, j] / (n − unbiased),
 *   g[i, j] ← rstd[j]·(g[i, j] − m1 − zn[i, j]·m2)
 * (the derivative of (z − mu)·r with r = (S/(n − unbiased) + eps)^−½).
 */
LE_KERNEL bt_norm_back(const LE_GLOBAL float *zn, const LE_GLOBAL float *rstd, int n, int d, int unbiased,
                       LE_GLOBAL float *g) {
    for (LE_INDEX j = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; j < d; j += (LE_INDEX)LE_NBLOCKS * LE_BLOCK) {
        float s1, s2;
        BT_COL_SUM(s1, n, g[(LE_INDEX)i * d + j]);
        BT_COL_SUM(s2, n, g[(LE_INDEX)i * d + j] * zn[(LE_INDEX)i * d + j]);
        float m1 = s1 / (float)n, m2 = s2 / (float)(n - unbiased), r = rstd[j];
        for (int i = 0; i < n; i++) {
            LE_INDEX e = (LE_INDEX)i * d + j;
            g[e] = r * (g[e] - m1 - zn[e] * m2);
        }
    }
}

#endif
