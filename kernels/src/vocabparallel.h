/*
 * src/vocabparallel.h: vocabulary-parallel softmax cross-entropy. Each rank
 * holds the logits of a contiguous vocabulary range [v0, v0 + vs) of a V-class
 * softmax, x [r, vs] (rows row0 .. row0 + r - 1 of the full batch), the full
 * targets and its slice of the class weights. Host mirrors (the
 * specification): host/vocabparallel.go. The one body of the family:
 * kernels/cuda/vocabparallel.cu and kernels/opencl/vocabparallel.cl include
 * it after lemath.h.
 *
 * Order of a forward and backward (package losses, VocabParallelCrossEntropy):
 *   vp_ce_max       each row's local max of the capped logits      -> MAX all-reduce
 *   vp_ce_partials  the packed per-row partials [r, VP_PARTS]     -> SUM all-reduce
 *   vp_ce_denom     the mean's divisors from the reduced partials (1 block)
 *   vp_ce_rows      per-row loss, z-loss and this shard's gradient columns
 *   vp_ce_reduce    the reduced loss and z-loss (1 block)
 * No collective runs after the second all-reduce.
 *
 * Capped logit: x' = softcap * tanh(x / softcap) if softcap > 0, else x.
 * Ignored rows (target == ignore_index) read no logits.
 */
#ifndef LOSSENGINE_SRC_VOCABPARALLEL_H
#define LOSSENGINE_SRC_VOCABPARALLEL_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/vocabparallel.h"
#endif

/* The packed partials of one row (kernelspec.VP* in Go). */
#define VP_PARTS 5
#define VP_SUMEXP 0 /* sum_k exp(x'_k - M) */
#define VP_XT 1     /* x'_t if t is in this shard, else 0 */
#define VP_WX 2     /* sum_k w(k) x'_k (label smoothing only, else 0) */
#define VP_WS 3     /* sum_k w(k) (label smoothing only, else 0) */
#define VP_WT 4     /* w(t) if t is in this shard, else 0 (w = 1 without weights) */

/* vp_cap: the capped logit s tanh(x / s), or x for s = 0. */
LE_FN float vp_cap(float x, float s) { return s > 0.0f ? s * tanh(x / s) : x; }

/* vp_max2: max(a, b), NaN if either is NaN (le_block_max's rule). */
LE_FN float vp_max2(float a, float b) { return (a != a || b != b) ? a + b : fmax(a, b); }

/*
 * vp_ce_max (vpCEMax): for row i < r (one block per row), t = target[row0 + i]:
 *   rowmax[i] = max_k x'[i, k]     (-inf for an ignored row, which reads nothing)
 * NaN in a row gives NaN. A block past the last row writes nothing.
 */
LE_KERNEL vp_ce_max(const LE_GLOBAL float *x, const LE_GLOBAL int *target, int r, int vs, int row0,
                    int ignore_index, float softcap, LE_GLOBAL float *rowmax) {
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int active = i < r;
    int ignored = active ? target[row0 + i] == ignore_index : 1;
    int nc = active && !ignored ? vs : 0;
    const LE_GLOBAL float *xr = x + (LE_INDEX)i * vs;
    float m = -LE_INF;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) m = vp_max2(m, vp_cap(xr[k], softcap));
    m = le_block_max(sh, m);
    if (active && LE_TID == 0) rowmax[i] = m;
}

/*
 * vp_ce_partials (vpCEPartials): for row i < r with t = target[row0 + i],
 * M = rowmax[i] (the all-reduced row max), tl = t - v0, w(k) = weight[k] if
 * has_weight else 1, and P = partials + VP_PARTS * i:
 *   P[VP_SUMEXP] = sum_{k < vs} exp(x'[i,k] - M)
 *   P[VP_XT]     = x'[i, tl] if 0 <= tl < vs, else 0
 *   P[VP_WX]     = sum_k w(k) x'[i,k]       if smooth, else 0
 *   P[VP_WS]     = sum_k w(k)               if smooth, else 0 (vs without weights)
 *   P[VP_WT]     = w(tl) if 0 <= tl < vs, else 0
 * An ignored row gets zeros and reads no logits. Sums: thread j adds
 * columns j, j + LE_BLOCK, ... in order, then the block's fixed tree.
 */
LE_KERNEL vp_ce_partials(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *weight,
                         int r, int vs, int row0, int v0, int has_weight, int ignore_index, int smooth,
                         float softcap, const LE_GLOBAL float *rowmax, LE_GLOBAL float *partials) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int i = LE_BID;
    int active = i < r;
    int t = active ? target[row0 + i] : ignore_index;
    int ignored = t == ignore_index;
    int nc = active && !ignored ? vs : 0;
    int sm = smooth && nc > 0;
    const LE_GLOBAL float *xr = x + (LE_INDEX)i * vs;
    float M = nc > 0 ? rowmax[i] : 0.0f;
    float s = 0.0f, wx = 0.0f, ws = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float v = vp_cap(xr[k], softcap);
        s += exp(v - M);
        if (sm) {
            float w = has_weight ? weight[k] : 1.0f;
            wx += w * v;
            ws += w;
        }
    }
    le_block_sum2(sha, shb, &s, &wx);
    ws = le_block_sum(sha, ws);
    if (!active || LE_TID != 0) return; /* after the last barrier */
    LE_GLOBAL float *P = partials + (LE_INDEX)VP_PARTS * i;
    int tl = t - v0;
    int owned = !ignored && tl >= 0 && tl < vs;
    P[VP_SUMEXP] = s;
    P[VP_XT] = owned ? vp_cap(xr[tl], softcap) : 0.0f;
    P[VP_WX] = wx;
    P[VP_WS] = sm ? (has_weight ? ws : (float)vs) : 0.0f;
    P[VP_WT] = owned ? (has_weight ? weight[tl] : 1.0f) : 0.0f;
}

/*
 * vp_ce_denom (vpCEDenom): one block, over the rows i < r whose target
 * target[row0 + i] is not ignore_index, with the all-reduced partials:
 *   denom[0] = sum_i partials[VP_PARTS i + VP_WT]   (the total weight)
 *   denom[1] = the number of such rows
 *   denom[2] = denom[0] if reduction is mean, else 1 (the cross-entropy divisor)
 *   denom[3] = denom[1] if reduction is mean, else 1 (the z-loss divisor)
 * Thread j adds rows j, j + LE_BLOCK, ... in order, then a fixed tree.
 */
LE_KERNEL vp_ce_denom(const LE_GLOBAL int *target, const LE_GLOBAL float *partials, int r, int row0,
                      int ignore_index, int reduction, LE_GLOBAL float *denom) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int nn = LE_BID == 0 ? r : 0; /* no return before a barrier */
    float tw = 0.0f, cnt = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) {
        if (target[row0 + i] == ignore_index) continue;
        tw += partials[VP_PARTS * i + VP_WT];
        cnt += 1.0f;
    }
    le_block_sum2(sha, shb, &tw, &cnt);
    if (LE_TID == 0 && LE_BID == 0) {
        int mean = reduction == LE_REDUCTION_MEAN;
        denom[0] = tw;
        denom[1] = cnt;
        denom[2] = mean ? tw : 1.0f;
        denom[3] = mean ? cnt : 1.0f;
    }
}

/*
 * vp_ce_rows (vpCERows): for row i < r (one block per row) with
 * t = target[row0 + i] not ignored, the all-reduced P = partials + VP_PARTS i,
 * M = rowmax[i], S = P[VP_SUMEXP], L = M + log S, eps = label_smoothing,
 * z = z_loss, p_k = exp(x'_k - M) / S:
 *   ce = (1-eps) P[VP_WT] (log S - (P[VP_XT] - M)) + eps/v (P[VP_WS] L - P[VP_WX])
 *   zl = z L^2
 *   loss_rows[i] = ce + zl if combine, else ce;   z_rows[i] = zl
 *   grad[i,k] = ( p_k ((1-eps) P[VP_WT] + eps P[VP_WS] / v) / denom[2]
 *                 + 2 z L p_k / denom[3]
 *                 - eps w(k) / v / denom[2] - (1-eps) P[VP_WT] / denom[2] [k == t - v0] )
 *               * (1 - tanh^2(x[i,k] / softcap))    (the factor only if softcap > 0)
 * An ignored row gets loss_rows[i] = z_rows[i] = 0 and a zero gradient row;
 * a row with M = -inf or a NaN log-sum-exp gets a NaN gradient row. Every
 * element is read and then written by one thread: grad may be x.
 */
LE_KERNEL vp_ce_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int r,
                     int vs, int row0, int v0, int v, int has_weight, int ignore_index, float label_smoothing,
                     float softcap, float z_loss, const LE_GLOBAL float *rowmax, const LE_GLOBAL float *partials,
                     const LE_GLOBAL float *denom, int has_grad, LE_GLOBAL float *grad, int combine,
                     LE_GLOBAL float *loss_rows, LE_GLOBAL float *z_rows) {
    int i = LE_BID;
    if (i >= r) return; /* no barrier in this kernel */
    int t = target[row0 + i];
    int ignored = t == ignore_index;
    LE_GLOBAL float *gr = grad + (LE_INDEX)i * vs;
    if (ignored) {
        if (LE_TID == 0) {
            loss_rows[i] = 0.0f;
            z_rows[i] = 0.0f;
        }
        if (has_grad)
            for (LE_INDEX k = LE_TID; k < vs; k += LE_BLOCK) gr[k] = 0.0f;
        return;
    }
    const LE_GLOBAL float *P = partials + (LE_INDEX)VP_PARTS * i;
    float M = rowmax[i], S = P[VP_SUMEXP], xt = P[VP_XT], wx = P[VP_WX], ws = P[VP_WS], wt = P[VP_WT];
    float eps = label_smoothing;
    float lnS = log(S);
    float L = M + lnS;
    if (LE_TID == 0) {
        /* L - xt as log S - (xt - M): L is rounded to M's spacing */
        float ce = (1.0f - eps) * wt * (lnS - (xt - M));
        if (eps != 0.0f) ce += eps / (float)v * (ws * L - wx);
        float zl = z_loss != 0.0f ? z_loss * L * L : 0.0f;
        loss_rows[i] = combine ? ce + zl : ce;
        z_rows[i] = zl;
    }
    if (!has_grad) return;
    const LE_GLOBAL float *xr = x + (LE_INDEX)i * vs;
    if (M == -LE_INF || L != L) {
        for (LE_INDEX k = LE_TID; k < vs; k += LE_BLOCK) gr[k] = LE_NAN;
        return;
    }
    float dce = denom[2], dz = denom[3];
    float coef = ((1.0f - eps) * wt + eps * ws / (float)v) / dce / S;
    if (z_loss != 0.0f) coef += 2.0f * z_loss * L / dz / S;
    float epc = eps / (float)v;
    float sm = epc / dce;
    float hot = (1.0f - eps) * wt / dce;
    int tl = t - v0;
    for (LE_INDEX k = LE_TID; k < vs; k += LE_BLOCK) {
        float xv = xr[k];
        float xc = xv, f = 1.0f;
        if (softcap > 0.0f) {
            float th = tanh(xv / softcap);
            xc = softcap * th;
            f = 1.0f - th * th;
        }
        float g = exp(xc - M) * coef;
        if (eps != 0.0f) g -= has_weight ? epc * (weight[k] / dce) : sm;
        if (k == tl) g -= hot;
        gr[k] = g * f;
    }
}

/*
 * vp_ce_reduce (vpCEReduce): one block:
 *   a = sum_{i<r} loss_rows[i],  b = sum_{i<r} z_rows[i]
 *   z_out[0] = b / denom[3] if has_z, else 0
 *   loss[0]  = a / denom[2] + z_out[0]
 * A zero divisor gives NaN for its part (a mean over nothing). Thread j
 * adds rows j, j + LE_BLOCK, ... in order, then a fixed tree.
 */
LE_KERNEL vp_ce_reduce(const LE_GLOBAL float *loss_rows, const LE_GLOBAL float *z_rows, int r, int has_z,
                       const LE_GLOBAL float *denom, LE_GLOBAL float *loss, LE_GLOBAL float *z_out) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int nn = LE_BID == 0 ? r : 0;
    float a = 0.0f, b = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) {
        a += loss_rows[i];
        b += z_rows[i];
    }
    le_block_sum2(sha, shb, &a, &b);
    if (LE_TID == 0 && LE_BID == 0) {
        float dce = denom[2], dz = denom[3];
        float zo = 0.0f;
        if (has_z) zo = dz == 0.0f ? LE_NAN : b / dz;
        z_out[0] = zo;
        loss[0] = (dce == 0.0f ? LE_NAN : a / dce) + zo;
    }
}

#endif /* LOSSENGINE_SRC_VOCABPARALLEL_H */
