/*
 * src/dice.h: the overlap losses of dense prediction (Dice, Jaccard,
 * Tversky, generalized Dice) over an input [n, c, s] (s: the product of
 * the spatial dimensions; the class dimension has stride s). Host mirrors
 * (the specification): host/dice.go. The one body of the family:
 * kernels/cuda/dice.cu and kernels/opencl/dice.cl include it after
 * lemath.h.
 *
 * Four kernels, each a fixed-order reduction (no floating-point atomics):
 *   dice_partials  one block per (sample, pixel chunk): per class, the
 *                  chunk's sums a0, a1, a2 (below) -> part
 *   dice_combine   one block per row (sample and class, or class when the
 *                  batch is pooled): the row's sums of the partials -> stats
 *   dice_finish    one block: each row's loss and the row's coefficients
 *                  dL/dI and dL/dP of the gradient, and the reduction
 *   dice_grad      grid-stride over the pixels: the gradient w.r.t. the
 *                  input, through the activation (the softmax Jacobian
 *                  product over the classes of each pixel)
 *
 * Per pixel, p_k is the activated input (none, sigmoid, or softmax over
 * the c classes of the pixel) and t_k the target (one-hot of an int32
 * class index, or a float target [n, c, s]). A pixel whose index is
 * ignore_index (DICE_IGNORE) contributes nothing and gets a zero gradient;
 * an index outside [0, c) is a target of zeros (package losses refuses
 * it first). The sums are
 *   DICE_SQUARED:    a0 = sum p t,     a1 = sum p^2,  a2 = sum t^2
 *   DICE_SOFT_LABEL: a0 = sum |p - t|, a1 = sum |p|,  a2 = sum |t|
 *   otherwise:       a0 = sum p t,     a1 = sum p,    a2 = sum t
 * and the row's intersection I is a0, or (a1 + a2 - a0) / 2 with
 * DICE_SOFT_LABEL; P = a1, T = a2.
 *
 * dice_ce_loss (DICE_CE) and dice_focal_loss (DICE_FOCAL) add a second
 * term, computed in the same passes over the logits: dice_partials adds
 * each block's per-pixel terms and their divisor shares (dc_ce_pixel,
 * dc_focal_pixel) into xpart, dice_finish adds those and writes the
 * term's gradient factor to extra[0] (lambda_ce / divisor), and dice_grad
 * adds extra[0] times the term's per-pixel derivative. ce_eps is the
 * label smoothing (DICE_CE) or the focal gamma (DICE_FOCAL), ce_p1 the
 * focal alpha; cw the class weights of the term (DICE_CE_WEIGHT).
 */
#ifndef LOSSENGINE_SRC_DICE_H
#define LOSSENGINE_SRC_DICE_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/dice.h"
#endif

/* Flag bits (kernelspec.Dice* in Go). */
#define DICE_SOFTMAX 1
#define DICE_SIGMOID 2
#define DICE_TARGET_INDEX 4
#define DICE_TARGET_FLOAT 8
#define DICE_SQUARED 16
#define DICE_SOFT_LABEL 32
#define DICE_IGNORE 64
#define DICE_BATCH 128
#define DICE_JACCARD 256
#define DICE_WEIGHT 512
#define DICE_SMP 1024
#define DICE_CE 2048
#define DICE_CE_WEIGHT 4096
#define DICE_FOCAL 8192
#define DICE_FOCAL_SOFTMAX 16384
#define DICE_FOCAL_ALPHA 32768
#define DICE_NO_BG 65536

/* Loss kinds of dice_finish (kernelspec.DiceKind* in Go). */
#define DICE_KIND_DICE 0
#define DICE_KIND_TVERSKY 1
#define DICE_KIND_GDL_SQUARE 2
#define DICE_KIND_GDL_SIMPLE 3
#define DICE_KIND_GDL_UNIFORM 4

/* Classes per pass of dice_partials: their sums stay in registers. */
#define DICE_CG 4

/*
 * dc_pixel_lse: for the softmax, the online (max, sum) of the pixel's
 * logits x[o + k*s], k < c.
 */
LE_FN void dc_pixel_lse(const LE_GLOBAL float *x, LE_INDEX o, LE_INDEX s, int c, float *m, float *z) {
    *m = -LE_INF;
    *z = 0.0f;
    for (int k = 0; k < c; k++) le_lse_push(m, z, x[o + (LE_INDEX)k * s]);
}

/* dc_act: the activated input p of logit v (m, z: the pixel's softmax state). */
LE_FN float dc_act(int flags, float v, float m, float z) {
    if (flags & DICE_SOFTMAX) return exp(v - m) / z;
    if (flags & DICE_SIGMOID) return le_sigmoid(v);
    return v;
}

/* dc_target: t_k of a pixel: the float target, or [label == k]. */
LE_FN float dc_target(int flags, const LE_GLOBAL float *tf, LE_INDEX to, int label, int k) {
    if (flags & DICE_TARGET_FLOAT) return tf[to];
    return label == k ? 1.0f : 0.0f;
}

/*
 * dc_ce_pixel: the cross-entropy term of a pixel (dice_ce_loss), given
 * the pixel's softmax state (m, z) over its logits: returns the loss and
 * sets *wd to its share of the mean's divisor. c > 1: softmax
 * cross-entropy with label smoothing eps and class weights w_k (cw with
 * DICE_CE_WEIGHT, else 1), lp_k = (x_k - m) - log z:
 *   index target t: (1 - eps) (-w_t lp_t) + (eps / c) (-sum_k w_k lp_k), *wd = w_t
 *   float target y: -sum_k w_k y'_k lp_k, y'_k = (1 - eps) y_k + eps / c, *wd = 1
 * c == 1 (float target y): binary cross-entropy with logits,
 * max(x, 0) - x y + log1p(exp(-|x|)), *wd = 1. An index outside [0, c)
 * (only with package losses' SkipTargetCheck) has no term: 0, *wd = 0.
 */
LE_FN float dc_ce_pixel(int flags, const LE_GLOBAL float *x, const LE_GLOBAL float *tf, const LE_GLOBAL float *cw,
                        LE_INDEX base, LE_INDEX s, int c, int label, float eps, float m, float z, float *wd) {
    if (c == 1) {
        float v = x[base], y = tf[base];
        *wd = 1.0f;
        return fmax(v, 0.0f) - v * y + log1p(exp(-fabs(v)));
    }
    *wd = 0.0f;
    if (!(flags & DICE_TARGET_FLOAT) && (label < 0 || label >= c)) return 0.0f; /* not a class: no term */
    float ls = log(z), l = 0.0f, sm = 0.0f;
    int wt = (flags & DICE_CE_WEIGHT) != 0;
    for (int k = 0; k < c; k++) {
        LE_INDEX o = base + (LE_INDEX)k * s;
        float lp = (x[o] - m) - ls;
        float w = wt ? cw[k] : 1.0f;
        if (flags & DICE_TARGET_FLOAT) {
            l -= w * ((1.0f - eps) * tf[o] + eps / (float)c) * lp;
        } else {
            sm -= w * lp;
            if (k == label) l -= w * lp;
        }
    }
    if (flags & DICE_TARGET_FLOAT) {
        *wd = 1.0f;
        return l;
    }
    *wd = wt ? cw[label] : 1.0f;
    return (1.0f - eps) * l + eps / (float)c * sm;
}

/*
 * dc_focal_state: for the softmax focal term, the online (max, sum) of the
 * pixel's logits of the classes k >= k0 (the classes kept).
 */
LE_FN void dc_focal_lse(const LE_GLOBAL float *x, LE_INDEX o, LE_INDEX s, int k0, int c, float *m, float *z) {
    *m = -LE_INF;
    *z = 0.0f;
    for (int k = k0; k < c; k++) le_lse_push(m, z, x[o + (LE_INDEX)k * s]);
}

/*
 * dc_focal_elem: MONAI's focal term of one element (dice_focal_loss) of
 * logit v and target t, and *d its derivative: w.r.t. lp = log p (softmax:
 * DICE_FOCAL_SOFTMAX, lp = (v - m) - log z over the kept classes) or
 * w.r.t. v (sigmoid). a is the element's factor (alpha factor times class
 * weight). softmax: f = -a t (1 - p)^g lp, d = -a t ((1 - p)^g -
 * g (1 - p)^(g-1) p lp); sigmoid: with ce = max(v, 0) - v t +
 * log1p(exp(-|v|)), u = v (2t - 1), q = sigmoid(-u)^g: f = a ce q,
 * d = a ((sigmoid(v) - t) q - g (2t - 1) ce q sigmoid(u)).
 */
LE_FN float dc_focal_elem(int flags, float v, float t, float lp, float g, float a, float *d) {
    if (flags & DICE_FOCAL_SOFTMAX) {
        float p = exp(lp), q = -expm1(lp);
        if (q < 0.0f) q = 0.0f;
        float qg = pow(q, g);
        float dq = (g == 0.0f || q == 0.0f) ? 0.0f : g * pow(q, g - 1.0f) * p * lp;
        *d = -a * t * (qg - dq);
        return -a * t * qg * lp;
    }
    float L, sp, sn;
    le_logistic(v, &L, &sp, &sn);
    float ce = fmax(v, 0.0f) - v * t + L;
    float u = v * (2.0f * t - 1.0f);
    float su = le_sigmoid(u), smu = le_sigmoid(-u);
    float q = pow(smu, g);
    *d = a * ((sp - t) * q - g * (2.0f * t - 1.0f) * ce * q * su);
    return a * ce * q;
}

/* dc_focal_factor: the alpha factor (DICE_FOCAL_ALPHA) times the class
   weight (DICE_CE_WEIGHT) of class k with target t; k0 is the first kept class. */
LE_FN float dc_focal_factor(int flags, const LE_GLOBAL float *cw, int k, int k0, float t, float alpha) {
    float a = (flags & DICE_CE_WEIGHT) ? cw[k] : 1.0f;
    if (flags & DICE_FOCAL_ALPHA) {
        if (flags & DICE_FOCAL_SOFTMAX) a *= k == k0 ? 1.0f - alpha : alpha;
        else a *= t * alpha + (1.0f - t) * (1.0f - alpha);
    }
    return a;
}

/*
 * dc_focal_pixel: the focal term of a pixel, summed over its kept
 * classes; *wd = the number of kept classes (the mean's divisor share).
 */
LE_FN float dc_focal_pixel(int flags, const LE_GLOBAL float *x, const LE_GLOBAL float *tf, const LE_GLOBAL float *cw,
                           LE_INDEX base, LE_INDEX s, int c, int label, float g, float alpha, float *wd) {
    int k0 = (flags & DICE_NO_BG) && c > 1 ? 1 : 0;
    float m = 0.0f, z = 1.0f, l = 0.0f, d;
    if (flags & DICE_FOCAL_SOFTMAX) dc_focal_lse(x, base, s, k0, c, &m, &z);
    float lz = log(z);
    for (int k = k0; k < c; k++) {
        LE_INDEX o = base + (LE_INDEX)k * s;
        float v = x[o], t = dc_target(flags, tf, o, label, k);
        l += dc_focal_elem(flags, v, t, (v - m) - lz, g, dc_focal_factor(flags, cw, k, k0, t, alpha), &d);
    }
    *wd = (float)(c - k0);
    return l;
}

/*
 * dice_partials (dicePartials): block blk = i*nb + b (i < n, b < nb)
 * covers pixels [b*s/nb, (b+1)*s/nb) of sample i, and writes, for each
 * class k and j < 3, part[((i*c + k)*3 + j)*nb + b] = the chunk's sum aj
 * (see the top of the file). Thread t visits the chunk's pixels t,
 * t + LE_BLOCK, ...; the classes go in groups of DICE_CG, each group's
 * 3*DICE_CG sums added over the block in one fixed tree. With DICE_CE or
 * DICE_FOCAL, xpart[blk*2] and xpart[blk*2 + 1] = the block's sums of the
 * second term's per-pixel values and divisor shares (ignored pixels add
 * nothing).
 */
LE_KERNEL dice_partials(const LE_GLOBAL float *x, const LE_GLOBAL int *tidx, const LE_GLOBAL float *tf,
                        const LE_GLOBAL float *cw, int n, int c, int s, int nb, int flags, int ignore_index,
                        float ce_eps, float ce_p1, LE_GLOBAL float *part, LE_GLOBAL float *xpart) {
    LE_LOCAL float sh[3 * DICE_CG * LE_BLOCK];
    float ce = 0.0f, ced = 0.0f;
    int tid = LE_TID;
    LE_INDEX blk = LE_BID;
    int active = nb > 0 && blk < (LE_INDEX)n * nb;
    int i = active ? (int)(blk / nb) : 0;
    int b = active ? (int)(blk % nb) : 0;
    LE_INDEX lo = active ? (LE_INDEX)b * s / nb : 0;
    LE_INDEX hi = active ? (LE_INDEX)(b + 1) * s / nb : 0;
    int ngroups = active ? (c + DICE_CG - 1) / DICE_CG : 0;
    LE_INDEX base = (LE_INDEX)i * c * s;
    for (int g = 0; g < ngroups; g++) {
        float acc[3 * DICE_CG];
        for (int j = 0; j < 3 * DICE_CG; j++) acc[j] = 0.0f;
        for (LE_INDEX px = lo + tid; px < hi; px += LE_BLOCK) {
            int label = -1;
            if (flags & DICE_TARGET_INDEX) label = tidx[(LE_INDEX)i * s + px];
            if ((flags & DICE_IGNORE) && (flags & DICE_TARGET_INDEX) && label == ignore_index) continue;
            float m = 0.0f, z = 1.0f;
            if (flags & (DICE_SOFTMAX | DICE_CE)) dc_pixel_lse(x, base + px, s, c, &m, &z);
            if ((flags & DICE_CE) && g == 0) {
                float wd;
                ce += dc_ce_pixel(flags, x, tf, cw, base + px, s, c, label, ce_eps, m, z, &wd);
                ced += wd;
            }
            if ((flags & DICE_FOCAL) && g == 0) {
                float wd;
                ce += dc_focal_pixel(flags, x, tf, cw, base + px, s, c, label, ce_eps, ce_p1, &wd);
                ced += wd;
            }
            for (int j = 0; j < DICE_CG; j++) {
                int k = g * DICE_CG + j;
                if (k < c) {
                    LE_INDEX o = base + (LE_INDEX)k * s + px;
                    float p = dc_act(flags, x[o], m, z);
                    float t = dc_target(flags, tf, o, label, k);
                    if (flags & DICE_SOFT_LABEL) {
                        acc[3 * j] += fabs(p - t);
                        acc[3 * j + 1] += fabs(p);
                        acc[3 * j + 2] += fabs(t);
                    } else if (flags & DICE_SQUARED) {
                        acc[3 * j] += p * t;
                        acc[3 * j + 1] += p * p;
                        acc[3 * j + 2] += t * t;
                    } else {
                        acc[3 * j] += p * t;
                        acc[3 * j + 1] += p;
                        acc[3 * j + 2] += t;
                    }
                }
            }
        }
        /* The block's sums of the 3*DICE_CG values, in one fixed tree. */
        for (int j = 0; j < 3 * DICE_CG; j++) sh[j * LE_BLOCK + tid] = acc[j];
        LE_SYNC();
        for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
            if (tid < d)
                for (int j = 0; j < 3 * DICE_CG; j++) sh[j * LE_BLOCK + tid] += sh[j * LE_BLOCK + tid + d];
            LE_SYNC();
        }
        if (tid < 3 * DICE_CG) {
            int k = g * DICE_CG + tid / 3;
            if (k < c) part[(((LE_INDEX)i * c + k) * 3 + tid % 3) * nb + b] = sh[tid * LE_BLOCK];
        }
        LE_SYNC();
    }
    /* The cross-entropy term's sums (ngroups >= 1 for an active block). */
    int nce = active && (flags & (DICE_CE | DICE_FOCAL)) ? 1 : 0;
    for (int r = 0; r < nce; r++) {
        float a = ce, d = ced;
        le_block_sum2(sh, sh + LE_BLOCK, &a, &d);
        if (tid == 0) {
            xpart[blk * 2] = a;
            xpart[blk * 2 + 1] = d;
        }
    }
}

/*
 * dice_combine (diceCombine): block r is row r of stats: with DICE_BATCH
 * (flags) the class r (r < c), pooled over the samples, else the sample
 * r / c and class r % c (r < n*c). For j < 3, stats[r*3 + j] = the sum of
 * part[((i*c + k)*3 + j)*nb + b] over b < nb and over the row's samples i
 * (all n with DICE_BATCH), k its class. Thread t adds the terms q = t,
 * t + LE_BLOCK, ... of the row in order (q = i'*nb + b over its samples),
 * then the block adds the threads' sums in a fixed tree.
 */
LE_KERNEL dice_combine(const LE_GLOBAL float *part, int n, int c, int nb, int flags, LE_GLOBAL float *stats) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK], shc[LE_BLOCK];
    int batch = (flags & DICE_BATCH) != 0;
    LE_INDEX r = LE_BID;
    LE_INDEX rows = batch ? (LE_INDEX)c : (LE_INDEX)n * c;
    int active = r < rows;
    int k = active ? (int)(r % c) : 0;
    int i0 = active && !batch ? (int)(r / c) : 0;
    int ns = !active ? 0 : batch ? n : 1;
    LE_INDEX terms = (LE_INDEX)ns * nb;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f;
    for (LE_INDEX q = LE_TID; q < terms; q += LE_BLOCK) {
        LE_INDEX i = i0 + q / nb, b = q % nb;
        LE_INDEX o = ((i * c + k) * 3) * nb + b;
        a0 += part[o];
        a1 += part[o + nb];
        a2 += part[o + 2 * nb];
    }
    int t = LE_TID;
    sha[t] = a0;
    shb[t] = a1;
    shc[t] = a2;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) {
            sha[t] += sha[t + d];
            shb[t] += shb[t + d];
            shc[t] += shc[t + d];
        }
        LE_SYNC();
    }
    if (active && t == 0) {
        stats[r * 3] = sha[0];
        stats[r * 3 + 1] = shb[0];
        stats[r * 3 + 2] = shc[0];
    }
}

/*
 * dc_row: the loss of one row of the per-class kinds from its
 * intersection I, P and T, and its partial derivatives *gI = dL/dI and
 * *gP = dL/dP (see diceRow in host/dice.go for the formulas). Returns
 * the loss. The Tversky exponent of the smp convention is applied after
 * the mean, by dice_finish.
 */
LE_FN float dc_row(int kind, int flags, float I, float P, float T, float snr, float sdr, float alpha, float beta,
                   float gamma, float eps, float *gI, float *gP) {
    int jac = (flags & DICE_JACCARD) != 0;
    float num, den, dnI, ddI, ddP;
    if (flags & DICE_SMP) {
        if (kind == DICE_KIND_TVERSKY) {
            num = I + snr;
            den = I + alpha * (P - I) + beta * (T - I) + snr;
            dnI = 1.0f;
            ddI = 1.0f - alpha - beta;
            ddP = alpha;
        } else if (jac) {
            num = I + snr;
            den = P + T - I + snr;
            dnI = 1.0f;
            ddI = -1.0f;
            ddP = 1.0f;
        } else {
            num = 2.0f * I + snr;
            den = P + T + snr;
            dnI = 2.0f;
            ddI = 0.0f;
            ddP = 1.0f;
        }
        if (den < eps) { /* clamp_min(eps): no gradient through the clamp */
            den = eps;
            ddI = 0.0f;
            ddP = 0.0f;
        }
        if (!(T > 0.0f)) { /* a class absent from the target is dropped */
            *gI = 0.0f;
            *gP = 0.0f;
            return 0.0f;
        }
        float q = num / den;
        *gI = -dnI / den + q / den * ddI;
        *gP = q / den * ddP;
        return 1.0f - q;
    }
    if (kind == DICE_KIND_TVERSKY) {
        num = I + snr;
        den = I + alpha * (P - I) + beta * (T - I) + sdr;
        dnI = 1.0f;
        ddI = 1.0f - alpha - beta;
        ddP = alpha;
    } else if (jac) {
        num = 2.0f * I + snr;
        den = 2.0f * (P + T - I) + sdr;
        dnI = 2.0f;
        ddI = -2.0f;
        ddP = 2.0f;
    } else {
        num = 2.0f * I + snr;
        den = P + T + sdr;
        dnI = 2.0f;
        ddI = 0.0f;
        ddP = 1.0f;
    }
    float q = num / den;
    float l = 1.0f - q;
    float gi = -dnI / den + q / den * ddI, gp = q / den * ddP;
    if (kind == DICE_KIND_TVERSKY && gamma != 1.0f) {
        float f = gamma * pow(l, gamma - 1.0f);
        l = pow(l, gamma);
        gi *= f;
        gp *= f;
    }
    *gI = gi;
    *gP = gp;
    return l;
}

/* dc_weight: the generalized Dice weight of a class with target sum T. */
LE_FN float dc_gdl_weight(int kind, float T) {
    if (kind == DICE_KIND_GDL_SQUARE) return 1.0f / (T * T);
    if (kind == DICE_KIND_GDL_SIMPLE) return 1.0f / T;
    return 1.0f;
}

/* dc_intersection: I of a row from its sums. */
LE_FN float dc_intersection(int flags, const LE_GLOBAL float *st) {
    if (flags & DICE_SOFT_LABEL) return 0.5f * (st[1] + st[2] - st[0]);
    return st[0];
}

/*
 * dice_finish (diceFinish): one block. The rows of stats are the samples'
 * classes (n*c rows) or, with DICE_BATCH, the classes (c rows); a group
 * is a sample (or the whole batch): g = r / c. Rows of class k < c0 are
 * left out (include_background false): their coefficients are 0. For the
 * per-class kinds each kept row r gets L_r = w_k dc_row(...) (w_k =
 * weight[k] with DICE_WEIGHT, else 1) and for the generalized Dice each
 * group one loss (diceFinish in host/dice.go). reduction none writes the
 * losses to loss (per kept row, g*(c - c0) + k - c0, or per group); sum
 * and mean write loss[0] = their sum, divided by their count for mean;
 * with DICE_SMP and the Tversky kind, loss[0] = that ^ gamma. coef[r*2]
 * and coef[r*2 + 1] are dL/dI_r and dL/dP_r of the written loss (of the
 * sum of the losses with none), times lambda_dice (which scales loss[0]
 * too). With DICE_CE or DICE_FOCAL (sum or mean), with A and D the sums
 * of the nxp pairs of xpart: loss[0] += lambda_ce A / D' and
 * extra[0] = lambda_ce / D', D' = D for mean, 1 for sum (D' = 0: loss NaN,
 * extra[0] = 0). Thread t handles rows (groups) t, t + LE_BLOCK, ...; the
 * sums are added in fixed trees.
 */
LE_KERNEL dice_finish(const LE_GLOBAL float *stats, const LE_GLOBAL float *weight, const LE_GLOBAL float *xpart,
                      int n, int c, int c0, int kind, int flags, int nxp, float smooth_nr, float smooth_dr,
                      float alpha, float beta, float gamma, float eps, float lambda_dice, float lambda_ce,
                      int reduction, LE_GLOBAL float *loss, LE_GLOBAL float *coef, LE_GLOBAL float *extra) {
    LE_LOCAL float sh[2 * LE_BLOCK];
    int batch = (flags & DICE_BATCH) != 0;
    LE_INDEX groups = batch ? 1 : n;
    int kept = c - c0;
    int gdl = kind >= DICE_KIND_GDL_SQUARE;
    float count = gdl ? (float)groups : (float)groups * (float)kept;
    float gs = (reduction == 0 ? 1.0f / count : 1.0f) * lambda_dice; /* ReductionMean */
    float acc = 0.0f;
    for (LE_INDEX g = LE_TID; g < groups; g += LE_BLOCK) {
        const LE_GLOBAL float *st = stats + g * c * 3;
        LE_GLOBAL float *cf = coef + g * c * 2;
        for (int k = 0; k < c0; k++) {
            cf[k * 2] = 0.0f;
            cf[k * 2 + 1] = 0.0f;
        }
        if (gdl) {
            /* w_k, infinite ones replaced by the largest finite one */
            float wmax = 0.0f;
            for (int k = c0; k < c; k++) {
                float w = dc_gdl_weight(kind, st[k * 3 + 2]);
                if (w != LE_INF && w > wmax) wmax = w;
            }
            float num = 0.0f, den = 0.0f;
            for (int k = c0; k < c; k++) {
                float w = dc_gdl_weight(kind, st[k * 3 + 2]);
                if (w == LE_INF) w = wmax;
                num += w * dc_intersection(flags, st + k * 3);
                den += w * (st[k * 3 + 1] + st[k * 3 + 2]);
            }
            num = 2.0f * num + smooth_nr;
            den = den + smooth_dr;
            float q = num / den;
            float l = 1.0f - q;
            for (int k = c0; k < c; k++) {
                float w = dc_gdl_weight(kind, st[k * 3 + 2]);
                if (w == LE_INF) w = wmax;
                cf[k * 2] = gs * (-2.0f * w / den);
                cf[k * 2 + 1] = gs * (q / den * w);
            }
            if (reduction == 2) loss[g] = l; /* ReductionNone */
            acc += l;
        } else {
            for (int k = c0; k < c; k++) {
                float gI, gP;
                float l = dc_row(kind, flags, dc_intersection(flags, st + k * 3), st[k * 3 + 1], st[k * 3 + 2],
                                 smooth_nr, smooth_dr, alpha, beta, gamma, eps, &gI, &gP);
                if (flags & DICE_WEIGHT) {
                    float w = weight[k];
                    l *= w;
                    gI *= w;
                    gP *= w;
                }
                cf[k * 2] = gs * gI;
                cf[k * 2 + 1] = gs * gP;
                if (reduction == 2) loss[g * kept + k - c0] = l;
                acc += l;
            }
        }
    }
    float total = le_block_sum(sh, acc);
    float red = reduction == 0 ? total / count : total;
    float f = 1.0f;
    if ((flags & DICE_SMP) && kind == DICE_KIND_TVERSKY && gamma != 1.0f && reduction != 2) {
        f = gamma * pow(red, gamma - 1.0f);
        red = pow(red, gamma);
    }
    /* dice_ce_loss: the cross-entropy term from the partials of dice_partials */
    int nce = (flags & (DICE_CE | DICE_FOCAL)) ? nxp : 0;
    float ca = 0.0f, cd = 0.0f;
    for (int q = LE_TID; q < nce; q += LE_BLOCK) {
        ca += xpart[(LE_INDEX)q * 2];
        cd += xpart[(LE_INDEX)q * 2 + 1];
    }
    le_block_sum2(sh, sh + LE_BLOCK, &ca, &cd);
    if (reduction != 2 && LE_TID == 0) {
        float v = lambda_dice * red;
        if (flags & (DICE_CE | DICE_FOCAL)) {
            float den = reduction == 0 ? cd : 1.0f;
            v += lambda_ce * (den == 0.0f ? LE_NAN : ca / den);
            extra[0] = den == 0.0f ? 0.0f : lambda_ce / den;
        }
        loss[0] = v;
    }
    if (f != 1.0f) {
        for (LE_INDEX g = LE_TID; g < groups; g += LE_BLOCK) {
            LE_GLOBAL float *cf = coef + g * c * 2;
            for (int k = 0; k < 2 * c; k++) cf[k] *= f;
        }
    }
}

/*
 * dice_grad (diceGrad): grad[i, k, px] = dL/dx for every pixel (i, px)
 * of the n*s, grid-stride over the pixels. With gI, gP the coefficients
 * of the pixel's row (i*c + k, or k with DICE_BATCH) in coef,
 *   DICE_SQUARED:    g_k = gI t + 2 gP p
 *   DICE_SOFT_LABEL: g_k = gI (sgn p - sgn(p - t)) / 2 + gP sgn p
 *   otherwise:       g_k = gI t + gP
 * and through the activation: g_k (none), g_k p (1 - p) (sigmoid), or
 * p_k (g_k - sum_j p_j g_j) (softmax), plus extra[0] times the second
 * term's derivative with DICE_CE (softmax cross-entropy: (1 - eps) w_t
 * (q_k - [k = t]) + (eps/c)(W q_k - w_k), or S q_k - w_k y'_k for a float
 * target, q the softmax of the logits; c = 1: sigmoid(x) - y) or
 * DICE_FOCAL (dc_focal_elem; softmax form: D_k - q_k sum_j D_j over the
 * kept classes). An ignored pixel gets 0. Each thread reads a pixel's x
 * before it writes its gradient, so grad may be x.
 */
LE_KERNEL dice_grad(const LE_GLOBAL float *x, const LE_GLOBAL int *tidx, const LE_GLOBAL float *tf,
                    const LE_GLOBAL float *coef, const LE_GLOBAL float *cw, const LE_GLOBAL float *extra, int n,
                    int c, int s, int flags, int ignore_index, float ce_eps, float ce_p1, LE_GLOBAL float *grad) {
    float ce_scale = (flags & (DICE_CE | DICE_FOCAL)) ? extra[0] : 0.0f;
    int k0 = (flags & DICE_NO_BG) && c > 1 ? 1 : 0;
    int cew = (flags & DICE_CE_WEIGHT) != 0;
    LE_INDEX total = (LE_INDEX)n * s;
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    int batch = (flags & DICE_BATCH) != 0;
    for (LE_INDEX q = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; q < total; q += stride) {
        LE_INDEX i = q / s, px = q % s;
        LE_INDEX base = i * c * s + px;
        const LE_GLOBAL float *cf = coef + (batch ? 0 : i * c * 2);
        int label = -1;
        if (flags & DICE_TARGET_INDEX) label = tidx[q];
        if ((flags & DICE_IGNORE) && (flags & DICE_TARGET_INDEX) && label == ignore_index) {
            for (int k = 0; k < c; k++) grad[base + (LE_INDEX)k * s] = 0.0f;
            continue;
        }
        float m = 0.0f, z = 1.0f, dot = 0.0f;
        if (flags & (DICE_SOFTMAX | DICE_CE)) dc_pixel_lse(x, base, s, c, &m, &z);
        /* the cross-entropy term's per-pixel sums: W = sum_k w_k and
           S = sum_k w_k y'_k (float target) */
        float cW = 0.0f, cS = 0.0f;
        if ((flags & DICE_CE) && c > 1) {
            for (int k = 0; k < c; k++) {
                LE_INDEX o = base + (LE_INDEX)k * s;
                float w = cew ? cw[k] : 1.0f;
                cW += w;
                if (flags & DICE_TARGET_FLOAT) cS += w * ((1.0f - ce_eps) * tf[o] + ce_eps / (float)c);
            }
        }
        float wl = (flags & DICE_CE) && !(flags & DICE_TARGET_FLOAT) && c > 1 && label >= 0 && label < c
                       ? (cew ? cw[label] : 1.0f) : 0.0f;
        /* the softmax focal term: its state over the kept classes and
           sum_k D_k (D_k: d focal / d lp_k) */
        float fm = 0.0f, fz = 1.0f, fD = 0.0f;
        if ((flags & DICE_FOCAL) && (flags & DICE_FOCAL_SOFTMAX)) {
            dc_focal_lse(x, base, s, k0, c, &fm, &fz);
            for (int k = k0; k < c; k++) {
                LE_INDEX o = base + (LE_INDEX)k * s;
                float v = x[o], t = dc_target(flags, tf, o, label, k), d;
                dc_focal_elem(flags, v, t, (v - fm) - log(fz), ce_eps, dc_focal_factor(flags, cw, k, k0, t, ce_p1), &d);
                fD += d;
            }
        }
        if (flags & DICE_SOFTMAX) {
            for (int k = 0; k < c; k++) {
                LE_INDEX o = base + (LE_INDEX)k * s;
                float p = dc_act(flags, x[o], m, z);
                float t = dc_target(flags, tf, o, label, k);
                float gI = cf[k * 2], gP = cf[k * 2 + 1], g;
                if (flags & DICE_SQUARED) g = gI * t + 2.0f * gP * p;
                else if (flags & DICE_SOFT_LABEL) g = 0.5f * gI * (le_sign(p) - le_sign(p - t)) + gP * le_sign(p);
                else g = gI * t + gP;
                dot += p * g;
            }
        }
        for (int k = 0; k < c; k++) {
            LE_INDEX o = base + (LE_INDEX)k * s;
            float v = x[o];
            float p = dc_act(flags, v, m, z);
            float t = dc_target(flags, tf, o, label, k);
            float gI = cf[k * 2], gP = cf[k * 2 + 1], g;
            if (flags & DICE_SQUARED) g = gI * t + 2.0f * gP * p;
            else if (flags & DICE_SOFT_LABEL) g = 0.5f * gI * (le_sign(p) - le_sign(p - t)) + gP * le_sign(p);
            else g = gI * t + gP;
            if (flags & DICE_SOFTMAX) g = p * (g - dot);
            else if (flags & DICE_SIGMOID) {
                float L, sp, sn;
                le_logistic(v, &L, &sp, &sn);
                g = g * sp * sn;
            }
            if (flags & DICE_CE) {
                float h;
                if (c == 1) {
                    h = le_sigmoid(v) - tf[o];
                } else {
                    float q = exp(v - m) / z, w = cew ? cw[k] : 1.0f;
                    if (flags & DICE_TARGET_FLOAT)
                        h = cS * q - w * ((1.0f - ce_eps) * tf[o] + ce_eps / (float)c);
                    else if (label >= 0 && label < c)
                        h = (1.0f - ce_eps) * wl * (q - (k == label ? 1.0f : 0.0f)) + ce_eps / (float)c * (cW * q - w);
                    else
                        h = 0.0f;
                }
                g += ce_scale * h;
            }
            if ((flags & DICE_FOCAL) && k >= k0) {
                float t = dc_target(flags, tf, o, label, k), d;
                dc_focal_elem(flags, v, t, (v - fm) - log(fz), ce_eps, dc_focal_factor(flags, cw, k, k0, t, ce_p1), &d);
                if (flags & DICE_FOCAL_SOFTMAX) d -= exp((v - fm) - log(fz)) * fD; /* D_k - p_k sum_j D_j */
                g += ce_scale * d;
            }
            grad[o] = g;
        }
    }
}

#endif /* LOSSENGINE_SRC_DICE_H */
