/*
 * src/cross_entropy.h: fused softmax cross-entropy with class-index
 * targets, class weights, ignore_index and label smoothing. Host mirrors
 * (the specification): host/cross_entropy.go. The one body of the family:
 * kernels/cuda/cross_entropy.cu and kernels/opencl/cross_entropy.cl
 * include it after lemath.h.
 *
 * cross_entropy_weight_sum runs first (one block) and leaves in denom the
 * sum of the weights of the non-ignored targets and the gradient scale;
 * cross_entropy_rows then runs one block of LE_BLOCK threads per row.
 *
 * The row loops visit LE_UNROLL (lemath.h) of a thread's columns (t,
 * t + LE_BLOCK, ...) per trip and load them all before using any, so that
 * several loads are in flight per thread where the dialect wants it; the
 * order in which a thread visits its columns is that of the plain loop.
 */
#ifndef LOSSENGINE_SRC_CROSS_ENTROPY_H
#define LOSSENGINE_SRC_CROSS_ENTROPY_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/cross_entropy.h"
#endif

/* ce_weight is w(k): weight[k] if has_weight, else 1. */
LE_FN float ce_weight(const LE_GLOBAL float *weight, int has_weight, LE_INDEX k) {
    return has_weight ? weight[k] : 1.0f;
}

/*
 * cross_entropy_weight_sum (crossEntropyWeightSum):
 *   denom[0] = sum over i < n with target[i] != ignore_index of w(target[i])
 *   denom[1] = denom[0] if reduction is mean, else 1: the divisor of the
 *              gradient (divided, not multiplied by its inverse, which
 *              overflows for a subnormal weight sum)
 * One block: thread t adds targets t, t + LE_BLOCK, ... in order, then the
 * block adds the partials in a fixed tree. A target outside [0, c) that is
 * not ignore_index counts as NaN. Blocks other than 0 write nothing.
 */
LE_KERNEL cross_entropy_weight_sum(const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int n,
                                   int c, int has_weight, int ignore_index, int reduction,
                                   LE_GLOBAL float *denom) {
    LE_LOCAL float sh[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0; /* no return before a barrier */
    float acc = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) {
        int t = target[i];
        if (t != ignore_index) acc += t < 0 || t >= c ? LE_NAN : ce_weight(weight, has_weight, t);
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0 && LE_BID == 0) {
        denom[0] = s;
        denom[1] = reduction == LE_REDUCTION_MEAN ? s : 1.0f;
    }
}

/*
 * ce_tanh returns tanh(u) and sets *d = 1 - tanh^2(u), both from
 * e = exp(-2|u|): tanh|u| = -expm1(-2|u|) / (1 + e), exact in sign and
 * without cancellation near 0, and 1 - tanh^2 = 4e / (1 + e)^2, which
 * keeps its relative accuracy where tanh rounds to +-1 (a tanh one ulp
 * short of 1 would leave 1.2e-7 there instead of about 0).
 */
LE_FN float ce_tanh(float u, float *d) {
    float a = fabs(u);
    float e = exp(-2.0f * a);
    float th = -expm1(-2.0f * a) / (1.0f + e);
    *d = 4.0f * e / ((1.0f + e) * (1.0f + e));
    return u < 0.0f ? -th : th;
}

/* ce_cap is the soft-capped logit s tanh(v / s) (Gemma 2), or v when s = 0. */
LE_FN float ce_cap(float v, float softcap) {
    float d;
    return softcap > 0.0f ? softcap * ce_tanh(v / softcap, &d) : v;
}

/*
 * ce_rows is the body of cross_entropy_rows and cross_entropy_rows_ext, for
 * row i = block index. With t = target[i], eps = label_smoothing,
 * x'_k = ce_cap(x[i,k], softcap), W = sum_k w(k), L = log-sum-exp of x'_i,
 * p_k = exp(x'_k - L):
 *   ce_i         = (1-eps) w(t) (L - x'_t) + eps/c sum_k w(k) (L - x'_k)
 *   z_i          = z_loss L^2                 (PaLM's z-loss, not weighted)
 *   loss_rows[i] = ce_i + z_i r,  r = denom[1] / zdenom[1] if they differ, else 1
 *   grad[i,k]    = ((p_k ((1-eps) w(t) + eps W / c) - (1-eps) w(t) [k == t]
 *                    - eps w(k) / c) / denom[1] + 2 z_loss L p_k / zdenom[1])
 *                  * (1 - tanh^2(x[i,k] / softcap))  (the factor only with softcap;
 *                                                     see ce_tanh)
 *   lse[i]       = L                                   (if has_lse)
 *   z_rows[i]    = z_i                                 (if has_z)
 *   acc_rows[i]  = 1 if t is the first index of the row's largest x', else 0
 *                                                      (if has_acc)
 * r makes loss_rows' mean under class weights (divisor denom[1] = sum of
 * w(t)) give the z-loss the divisor zdenom[1] (the number of counted rows).
 * Ignored rows: loss 0, z 0, accuracy 0, zero gradient row, lse still
 * written. A row whose log-sum-exp is -inf (all logits -inf) or NaN (a NaN
 * or +inf logit) gets a NaN gradient row. A target outside [0, c) that is
 * not ignore_index gives a NaN loss and gradient row (the host mirror
 * rejects it; nothing is read out of bounds).
 *
 * Pass 1 reads the row once (not at all for an ignored row without lse):
 * the online (max, sum) state, and, when eps != 0, sum_k w(k) x'_k and W
 * (added by le_block_sum2, which every thread calls, smoothing or not;
 * W = c without weights); with has_acc, the number of columns k with
 * x'_k > x'_t or (x'_k == x'_t and k < t) (zero means correct). Pass 2
 * writes the gradient; grad may be x, since x[i,t] is read before pass 1
 * and every other element is read and then written by the same thread. No
 * thread returns before the last barrier (lemath.h); a block past the
 * last row writes nothing. The row offset i * c is 64-bit (LE_INDEX), so
 * n * c may pass 2^31.
 */
LE_FN void ce_rows(LE_LOCAL_PTR float *shm, LE_LOCAL_PTR float *shs, const LE_GLOBAL float *x,
                   const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int n, int c, int has_weight,
                   int ignore_index, float label_smoothing, const LE_GLOBAL float *denom, int has_grad,
                   LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows, int has_lse, LE_GLOBAL float *lse,
                   float softcap, float z_loss, const LE_GLOBAL float *zdenom, int has_z,
                   LE_GLOBAL float *z_rows, int has_acc, LE_GLOBAL float *acc_rows, int row0) {
    int i = LE_BID;
    int active = i < n; /* a block past the last row reads and writes nothing */
    LE_INDEX o = (LE_INDEX)i * c;
    const LE_GLOBAL float *xr = x + o;
    int r = row0 + i; /* the row's index in target and the per-row outputs */
    int t = active ? target[r] : ignore_index;
    int ignored = t == ignore_index;
    int valid = !ignored && t >= 0 && t < c;
    float eps = label_smoothing;
    int smooth = eps != 0.0f && !ignored;
    float xt = valid ? ce_cap(xr[t], softcap) : LE_NAN;

    /* Pass 1. */
    int nc = active && (!ignored || has_lse) ? c : 0;
    int na = has_acc && valid ? nc : 0;
    float m = -LE_INF, s = 0.0f, wx = 0.0f, ws = 0.0f, beat = 0.0f;
    for (LE_INDEX k0 = LE_TID; k0 < nc; k0 += LE_UNROLL * LE_BLOCK) {
        float v[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX k = k0 + u * LE_BLOCK;
            v[u] = k < nc ? ce_cap(xr[k], softcap) : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX k = k0 + u * LE_BLOCK;
            if (k >= nc) break;
            le_lse_push(&m, &s, v[u]);
            if (smooth) {
                float w = ce_weight(weight, has_weight, k);
                wx += w * v[u];
                ws += w;
            }
            if (k < na && (v[u] > xt || (v[u] == xt && k < t))) beat += 1.0f;
        }
    }
    le_block_lse(shm, shs, &m, &s);
    float L = le_lse_value(m, s);
    /* Unconditional, like every barrier (lemath.h): without smoothing both
     * sums are of zeros and go unused. */
    le_block_sum2(shm, shs, &wx, &ws);
    if (!has_weight) ws = (float)c;
    if (has_acc) beat = le_block_sum(shm, beat); /* has_acc is the same in every thread */
    if (!active) return; /* after the last barrier */

    float zl = ignored ? 0.0f : z_loss * L * L;
    if (LE_TID == 0) {
        if (has_lse) lse[r] = L;
        float l = 0.0f;
        if (!ignored) {
            float wt = valid ? ce_weight(weight, has_weight, t) : LE_NAN;
            /* L - xt as log(s) - (xt - m): L itself is rounded to the
             * spacing of m, far coarser than a confident row's loss. */
            l = (1.0f - eps) * wt * (log(s) - (xt - m));
            if (eps != 0.0f) l += eps / (float)c * (ws * L - wx);
            if (z_loss != 0.0f) l += denom[1] == zdenom[1] ? zl : zl * (denom[1] / zdenom[1]);
        }
        loss_rows[r] = l;
        if (has_z) z_rows[r] = zl;
        if (has_acc) acc_rows[r] = valid && xt == xt && beat == 0.0f ? 1.0f : 0.0f;
    }

    /* Pass 2. */
    if (!has_grad) return;
    LE_GLOBAL float *gr = grad + o;
    if (ignored) {
        for (LE_INDEX k = LE_TID; k < c; k += LE_BLOCK) gr[k] = 0.0f;
        return;
    }
    if (!valid || m == -LE_INF || m != m || L != L) {
        for (LE_INDEX k = LE_TID; k < c; k += LE_BLOCK) gr[k] = LE_NAN;
        return;
    }
    float div = denom[1];
    float wt = ce_weight(weight, has_weight, t);
    /* exp(x' - m) * coef = p_k (((1-eps) w(t) + eps W / c) / div + 2 z L / zdiv),
     * with p_k = exp(x'_k - m) / s (not exp(x'_k - L): L is rounded to m's
     * spacing) */
    float coef = ((1.0f - eps) * wt + eps * ws / (float)c) / div;
    if (z_loss != 0.0f) coef += 2.0f * z_loss * L / zdenom[1];
    coef /= s;
    float epc = eps / (float)c;
    float sm = epc / div;
    float hot = (1.0f - eps) * wt / div;
    for (LE_INDEX k0 = LE_TID; k0 < c; k0 += LE_UNROLL * LE_BLOCK) {
        float v[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX k = k0 + u * LE_BLOCK;
            v[u] = k < c ? xr[k] : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX k = k0 + u * LE_BLOCK;
            if (k >= c) break;
            float d = 1.0f;
            float xc = softcap > 0.0f ? softcap * ce_tanh(v[u] / softcap, &d) : v[u];
            float g = exp(xc - m) * coef;
            if (smooth) g -= has_weight ? epc * (weight[k] / div) : sm;
            if (k == t) g -= hot;
            if (softcap > 0.0f) g *= d;
            gr[k] = g;
        }
    }
}

/*
 * cross_entropy_rows (crossEntropyRows): ce_rows without soft-capping,
 * z-loss or accuracy: the fused softmax cross-entropy of one row per block.
 */
LE_KERNEL cross_entropy_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target,
                             const LE_GLOBAL float *weight, int n, int c, int has_weight,
                             int ignore_index, float label_smoothing, const LE_GLOBAL float *denom,
                             int has_grad, LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows,
                             int has_lse, LE_GLOBAL float *lse) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    ce_rows(shm, shs, x, target, weight, n, c, has_weight, ignore_index, label_smoothing, denom, has_grad, grad,
            loss_rows, has_lse, lse, 0.0f, 0.0f, denom, 0, loss_rows, 0, loss_rows, 0);
}

/*
 * cross_entropy_rows_ext (crossEntropyRowsExt): ce_rows with all of its
 * epilogues: softcap (0 = off), z_loss with its divisors zdenom (from
 * cross_entropy_weight_sum without weights: the number of counted rows),
 * the per-row z-losses (has_z) and the per-row accuracies (has_acc); and
 * on a chunk of rows: x and grad hold rows row0 .. row0 + n - 1 of a
 * larger batch (x[i, k] is row row0 + i), whose targets and per-row
 * outputs (loss_rows, lse, z_rows, acc_rows) are indexed row0 + i.
 */
LE_KERNEL cross_entropy_rows_ext(const LE_GLOBAL float *x, const LE_GLOBAL int *target,
                                 const LE_GLOBAL float *weight, int n, int c, int has_weight,
                                 int ignore_index, float label_smoothing, const LE_GLOBAL float *denom,
                                 int has_grad, LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows,
                                 int has_lse, LE_GLOBAL float *lse, float softcap, float z_loss,
                                 const LE_GLOBAL float *zdenom, int has_z, LE_GLOBAL float *z_rows,
                                 int has_acc, LE_GLOBAL float *acc_rows, int row0) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    ce_rows(shm, shs, x, target, weight, n, c, has_weight, ignore_index, label_smoothing, denom, has_grad, grad,
            loss_rows, has_lse, lse, softcap, z_loss, zdenom, has_z, z_rows, has_acc, acc_rows, row0);
}

#endif /* LOSSENGINE_SRC_CROSS_ENTROPY_H */
