/*
 * src/gan.h: GAN losses (TF-GAN's discriminator and generator losses, the
 * relativistic average GAN) and the gradient penalties (WGAN-GP, R1), with
 * their gradients. Host mirror (the specification): host/gan.go. The one
 * body of the family: kernels/cuda/gan.cu and kernels/opencl/gan.cl
 * include it after lemath.h.
 *
 * Grids: gan_partials, gan_terms and gan_add run min(ceil(n / LE_BLOCK),
 * kernelspec.MaxReduceBlocks) blocks (or any grid: the caller uses one grid
 * for both tensors of a loss), grid-stride in chunks of LE_BLOCK: element i
 * is handled by thread i mod LE_BLOCK of block (i / LE_BLOCK) mod
 * LE_NBLOCKS. gan_penalty runs one block per row (rows r, r + LE_NBLOCKS,
 * ... on block r mod LE_NBLOCKS). gan_reduce runs one block.
 */
#ifndef LOSSENGINE_SRC_GAN_H
#define LOSSENGINE_SRC_GAN_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/gan.h"
#endif

/* Element ops of gan_terms (kernelspec.GanOp* in Go). */
#define LE_GAN_ZERO 0  /* t = 0 */
#define LE_GAN_SCE 1   /* t = softplus(x) - p*x: sigmoid cross-entropy with target p */
#define LE_GAN_LIN 2   /* t = x */
#define LE_GAN_HINGE 3 /* t = relu(1 + s*x) */
#define LE_GAN_SQ 4    /* t = (x - p)^2 / 2 */
#define LE_GAN_RA 5    /* t = softplus(s*(x - m)) */

/* gan_terms flag bits (kernelspec.GanFlag* in Go). */
#define LE_GAN_GRAD 1
#define LE_GAN_REDUCE 2
#define LE_GAN_DSUM 4

/* Penalty ops of gan_penalty (kernelspec.GanPenalty* in Go). */
#define LE_GAN_GP 0
#define LE_GAN_R1 1

/*
 * le_gan_term: the term t of element x for op (p the op's target, s its
 * sign, m the mean of the other tensor for LE_GAN_RA), and *d = dt/dx.
 * Softplus and sigmoid come from one exponential of -|z| (le_logistic), so
 * saturated logits (|x| = 1e4) give exact terms and no NaN.
 */
LE_FN float le_gan_term(int op, float x, float p, float s, float m, float *d) {
    float L, sp, sn;
    switch (op) {
    case LE_GAN_SCE:
        /* softplus(x) - p*x = max(x, 0) - p*x + log1p(exp(-|x|)) */
        le_logistic(x, &L, &sp, &sn);
        *d = sp - p;
        return (fmax(x, 0.0f) - p * x) + L;
    case LE_GAN_LIN:
        *d = 1.0f;
        return x;
    case LE_GAN_HINGE: {
        float z = 1.0f + s * x;
        *d = z > 0.0f ? s : 0.0f;
        return z <= 0.0f ? 0.0f : z; /* NaN stays NaN */
    }
    case LE_GAN_SQ: {
        float e = x - p;
        *d = e;
        return 0.5f * e * e;
    }
    case LE_GAN_RA: {
        float z = s * (x - m);
        le_logistic(z, &L, &sp, &sn);
        *d = s * sp;
        return fmax(z, 0.0f) + L;
    }
    }
    *d = 0.0f;
    return 0.0f;
}

/*
 * gan_partials (ganPartials): per block b (of LE_NBLOCKS = B),
 *   part[off + b]     = sum of x[i] over block b's elements i < n
 *   part[off + B + b] = the number of them with w[i] != 0 (0 unless has_w)
 * each added by thread in index order, then in a fixed tree.
 */
LE_KERNEL gan_partials(const LE_GLOBAL float *x, const LE_GLOBAL float *w, int n, int has_w,
                       LE_GLOBAL float *part, int off) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float sx = 0.0f, cw = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        sx += x[i];
        if (has_w && w[i] != 0.0f) cw += 1.0f;
    }
    le_block_sum2(sha, shb, &sx, &cw);
    if (LE_TID == 0) {
        part[off + LE_BID] = sx;
        part[off + LE_NBLOCKS + LE_BID] = cw;
    }
}

/*
 * gan_reduce (ganReduce): one block. s_k = sum_{b<nb} part[k*nb + b] for
 * k < nseg (thread t adds part[k*nb + t], part[k*nb + t + LE_BLOCK], ... in
 * order, then a fixed tree); then out[k] = scale * s_k, or with total set
 * out[0] = scale * (s_0 + s_1 + ...), added in order of k.
 */
LE_KERNEL gan_reduce(const LE_GLOBAL float *part, int nb, int nseg, int total, float scale, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    float tot = 0.0f;
    int ns = LE_BID == 0 ? nseg : 0; /* no return before a barrier */
    for (int k = 0; k < ns; k++) {
        float acc = 0.0f;
        for (LE_INDEX b = LE_TID; b < nb; b += LE_BLOCK) acc += part[(LE_INDEX)k * nb + b];
        float s = le_block_sum(sh, acc);
        tot += s;
        if (!total && LE_TID == 0) out[k] = scale * s;
    }
    if (total && LE_TID == 0 && LE_BID == 0) out[0] = scale * tot;
}

/*
 * gan_terms (ganTerms): for i < n, with m = mean_idx >= 0 ?
 * stats[mean_idx] * mean_scale : 0, den = den_idx >= 0 ? stats[den_idx] : 1,
 * w_i = has_w ? w[i] : 1 and (t, d) = le_gan_term(op, x[i], p, s, m):
 *   grad[i]           = g_i = gs * coef * w_i * d / den  if flags & LE_GAN_GRAD
 *   out[out_off + i]  = coef * w_i * t                    unless LE_GAN_REDUCE
 *   out[out_off + b]  = (sum of coef * w_i * t over block b) * gs / den
 *                                                         if LE_GAN_REDUCE
 *   dsum[dsum_off + b] = sum of g_i over block b          if LE_GAN_DSUM
 * (sums per thread in index order, then in a fixed tree). Each element is
 * read and then written by one thread, so grad may be x.
 */
LE_KERNEL gan_terms(int op, const LE_GLOBAL float *x, const LE_GLOBAL float *w, int n, int has_w, float p, float s,
                    float coef, float gs, const LE_GLOBAL float *stats, int mean_idx, float mean_scale, int den_idx,
                    int flags, LE_GLOBAL float *grad, LE_GLOBAL float *out, int out_off, LE_GLOBAL float *dsum,
                    int dsum_off) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float m = mean_idx >= 0 ? stats[mean_idx] * mean_scale : 0.0f;
    float den = den_idx >= 0 ? stats[den_idx] : 1.0f;
    float acc = 0.0f, dacc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float wi = has_w ? w[i] : 1.0f;
        float d;
        float t = le_gan_term(op, x[i], p, s, m, &d);
        float lt = coef * wi * t;
        float g = gs * coef * wi * d / den;
        if (flags & LE_GAN_GRAD) grad[i] = g;
        dacc += g;
        if (flags & LE_GAN_REDUCE) acc += lt;
        else out[out_off + i] = lt;
    }
    le_block_sum2(sha, shb, &acc, &dacc); /* every thread, whatever the flags */
    if (LE_TID == 0) {
        if (flags & LE_GAN_REDUCE) out[out_off + LE_BID] = acc * gs / den;
        if (flags & LE_GAN_DSUM) dsum[dsum_off + LE_BID] = dacc;
    }
}

/* gan_add (ganAdd): grad[i] += scale * stats[idx] for i < n. */
LE_KERNEL gan_add(LE_GLOBAL float *grad, int n, const LE_GLOBAL float *stats, int idx, float scale) {
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float c = scale * stats[idx];
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) grad[i] += c;
}

/*
 * gan_penalty (ganPenalty): for each row r < rows of g [rows, d], with
 * q = sum_k g[r*d + k]^2 (per thread over k = t, t + LE_BLOCK, ..., then a
 * fixed tree):
 *   LE_GAN_GP: nrm = sqrt(q + eps), e = nrm - target (max(e, 0) if
 *              one_sided), l = coef * e^2, dl/dg_k = coef * 2e * g_k / nrm
 *   LE_GAN_R1: l = coef * q, dl/dg_k = coef * 2 g_k
 *   grad[r*d + k] = gs * dl/dg_k                     if flags & LE_GAN_GRAD
 *   out[r]        = l                                unless LE_GAN_REDUCE
 *   out[b]        = sum of l over block b's rows, in row order, if LE_GAN_REDUCE
 * Row r is handled by block r mod LE_NBLOCKS. grad may be g.
 */
LE_KERNEL gan_penalty(int op, const LE_GLOBAL float *g, int rows, int d, float target, float eps, float coef,
                      int one_sided, float gs, int flags, LE_GLOBAL float *grad, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    float acc = 0.0f;
    for (LE_INDEX r = LE_BID; r < rows; r += LE_NBLOCKS) {
        const LE_GLOBAL float *row = g + r * d;
        float q = 0.0f;
        for (int k = LE_TID; k < d; k += LE_BLOCK) q += row[k] * row[k];
        q = le_block_sum(sh, q);
        float l, f;
        if (op == LE_GAN_GP) {
            float nrm = sqrt(q + eps);
            float e = nrm - target;
            if (one_sided && e < 0.0f) e = 0.0f;
            l = coef * e * e;
            f = coef * 2.0f * e / nrm;
        } else {
            l = coef * q;
            f = coef * 2.0f;
        }
        if (flags & LE_GAN_GRAD) {
            LE_GLOBAL float *gr = grad + r * d;
            for (int k = LE_TID; k < d; k += LE_BLOCK) gr[k] = gs * f * row[k];
        }
        if (flags & LE_GAN_REDUCE) acc += l;
        else if (LE_TID == 0) out[r] = l;
    }
    if ((flags & LE_GAN_REDUCE) && LE_TID == 0) out[LE_BID] = acc;
}

#endif /* LOSSENGINE_SRC_GAN_H */
