/*
 * src/multitask.h: the multi-task weightings of K per-task losses, with
 * their gradients: a weighted sum, Kendall et al.'s uncertainty weighting
 * and the GradNorm loss of Chen et al. Host mirror (the specification):
 * host/multitask.go. The one body of the family: kernels/cuda/multitask.cu
 * and kernels/opencl/multitask.cl include it after lemath.h.
 *
 * The tensors are M independent sets of K tasks, row-major [m, k]: set i's
 * task j at i*k + j. Grid of multitask_loss: min(ceil(m / LE_BLOCK),
 * kernelspec.MaxReduceBlocks) blocks of LE_BLOCK threads, grid-stride in
 * chunks of LE_BLOCK: set i is handled by thread i mod LE_BLOCK of block
 * (i / LE_BLOCK) mod LE_NBLOCKS, which loops over its K tasks in order.
 */
#ifndef LOSSENGINE_SRC_MULTITASK_H
#define LOSSENGINE_SRC_MULTITASK_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/multitask.h"
#endif

/* Ops of multitask_loss (kernelspec.MT* in Go). */
#define MT_WEIGHTED_SUM 0
#define MT_UNCERTAINTY 1
#define MT_GRADNORM 2

/* Flag bits of multitask_loss (kernelspec.MTFlag* in Go). */
#define MT_GRAD_LOSSES 1
#define MT_GRAD_A 2
#define MT_GRAD_B 4
#define MT_REDUCE 8

/*
 * multitask_loss (multitaskLoss): for each set i < m, with row offset
 * o = i*k, l = losses, and per op:
 *   MT_WEIGHTED_SUM: a = weights.
 *     loss_i = sum_j a[o+j] l[o+j]
 *     d/dl = a, d/da = l
 *   MT_UNCERTAINTY: a = log_vars s, coef[j] = 1/2 (regression) or 1
 *     (classification).
 *     loss_i = sum_j coef[j] exp(-s) l + s/2
 *     d/dl = coef[j] exp(-s), d/ds = 1/2 - coef[j] exp(-s) l
 *   MT_GRADNORM: a = weights w, b = grad_norms g, l0 = initial_losses.
 *     lt_j = l/l0, G_j = w g, mlt = (sum_j lt_j)/k, mG = (sum_j G_j)/k,
 *     target_j = mG pow(lt_j/mlt, alpha) (a constant),
 *     loss_i = sum_j |G_j - target_j|
 *     d/dw = sign(G_j - target_j) g, d/dg = sign(G_j - target_j) w
 *     (sign(0) = 0, le_sign: NaN for NaN), no gradient w.r.t. l and l0
 *     (grad_losses, if asked, gets 0).
 * Each derivative is written times grad_scale: d/dl to grad_losses if
 * flags & MT_GRAD_LOSSES, d/da to grad_a if MT_GRAD_A, d/db to grad_b if
 * MT_GRAD_B. out[i] = loss_i, or with MT_REDUCE out[blk] = the sum of
 * block blk's losses, each thread adding its sets in order, then a fixed
 * tree. Every element is read and then written by one thread, so a
 * gradient may be its own input's buffer.
 */
LE_KERNEL multitask_loss(int op, int m, int k, const LE_GLOBAL float *losses, const LE_GLOBAL float *a,
                         const LE_GLOBAL float *b, const LE_GLOBAL float *l0, const LE_GLOBAL float *coef,
                         float alpha, float grad_scale, int flags, LE_GLOBAL float *grad_losses,
                         LE_GLOBAL float *grad_a, LE_GLOBAL float *grad_b, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < m; i += stride) {
        LE_INDEX o = i * k;
        float s = 0.0f;
        if (op == MT_GRADNORM) {
            float slt = 0.0f, sg = 0.0f;
            for (int j = 0; j < k; j++) {
                slt += losses[o + j] / l0[o + j];
                sg += a[o + j] * b[o + j];
            }
            float mlt = slt / (float)k, mg = sg / (float)k;
            for (int j = 0; j < k; j++) {
                float w = a[o + j], g = b[o + j];
                /* separate statements: no contraction of G - target into
                 * an fma, so that G == target (one task, equal ratios)
                 * gives d = 0 exactly, the kink's subgradient 0 */
                float G = w * g;
                float tgt = mg * pow((losses[o + j] / l0[o + j]) / mlt, alpha);
                float d = G - tgt;
                float sg1 = le_sign(d);
                s += fabs(d);
                if (flags & MT_GRAD_LOSSES) grad_losses[o + j] = 0.0f;
                if (flags & MT_GRAD_A) grad_a[o + j] = grad_scale * sg1 * g;
                if (flags & MT_GRAD_B) grad_b[o + j] = grad_scale * sg1 * w;
            }
        } else {
            for (int j = 0; j < k; j++) {
                float l = losses[o + j], v = a[o + j];
                float dl, da;
                if (op == MT_UNCERTAINTY) {
                    float e = coef[j] * exp(-v);
                    s += e * l + 0.5f * v;
                    dl = e;
                    da = 0.5f - e * l;
                } else {
                    s += v * l;
                    dl = v;
                    da = l;
                }
                if (flags & MT_GRAD_LOSSES) grad_losses[o + j] = grad_scale * dl;
                if (flags & MT_GRAD_A) grad_a[o + j] = grad_scale * da;
            }
        }
        if (flags & MT_REDUCE) acc += s;
        else out[i] = s;
    }
    if (flags & MT_REDUCE) {
        float t = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = t;
    }
}

#endif /* LOSSENGINE_SRC_MULTITASK_H */
