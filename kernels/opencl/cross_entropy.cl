/*
 * cross_entropy.cl: fused softmax cross-entropy over logits x [n, c] with
 * integer targets, optional class weights and label smoothing. Host
 * mirrors: host/cross_entropy.go.
 */
#include "lemath.h"

/*
 * cross_entropy_weight_sum: denom[0] = sum of w(target[i]) over the
 * targets that are not ignore_index, denom[1] = 1/denom[0] under mean
 * reduction, else 1 (crossEntropyWeightSum). One block: thread t adds
 * targets t, t+LE_BLOCK, ... in order, then the block adds in a fixed tree.
 * A target outside [0, c) that is not ignore_index counts as NaN. Blocks
 * other than block 0 write nothing.
 */
LE_KERNEL cross_entropy_weight_sum(const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int n, int c, int has_weight, int ignore_index, int reduction, LE_GLOBAL float *denom) {
    LE_LOCAL float sh[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0; /* no early return before a barrier */
    float acc = 0.0f;
    for (long i = LE_TID; i < nn; i += LE_BLOCK) {
        int t = target[i];
        if (t == ignore_index) continue;
        acc += t < 0 || t >= c ? LE_NAN : (has_weight ? weight[t] : 1.0f);
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0 && LE_BID == 0) {
        denom[0] = s;
        denom[1] = reduction == LE_REDUCTION_MEAN ? 1.0f / s : 1.0f;
    }
}

/*
 * cross_entropy_rows: per-row loss, gradient (scaled by denom[1]) and
 * log-sum-exp of softmax cross-entropy (crossEntropyRows). One block per
 * row. The first pass makes the online log-sum-exp and, with label
 * smoothing, sum_k w(k) x[k] and W = sum_k w(k); the second writes the
 * gradient, which may alias x (each element is read and then written by
 * the same thread, after the block's reductions). Ignored rows get loss 0
 * and a zero gradient row; their lse is still written. A row whose
 * log-sum-exp is -inf or NaN, or whose target is outside [0, c), gets a NaN
 * gradient row. No thread returns before the last barrier (see
 * softmax.cl); a block past the last row writes nothing.
 */
LE_KERNEL cross_entropy_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int n, int c, int has_weight, int ignore_index, float label_smoothing, const LE_GLOBAL float *denom, int has_grad, LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows, int has_lse, LE_GLOBAL float *lse) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int i = LE_BID, tid = LE_TID;
    int active = i < n;
    long off = (long)i * c;
    const LE_GLOBAL float *xr = x + off;
    int t = active ? target[i] : ignore_index;
    int ignored = t == ignore_index;
    int valid = !ignored && t >= 0 && t < c;
    float eps = label_smoothing;
    int smooth = eps != 0.0f && !ignored;

    /* Pass 1: log-sum-exp (skipped for ignored rows without lse), and the
     * smoothing sums. */
    int nc = active && (!ignored || has_lse) ? c : 0;
    float m = -LE_INF, s = 0.0f, wx = 0.0f, ws = 0.0f;
    for (int k = tid; k < nc; k += LE_BLOCK) {
        float v = xr[k];
        le_lse_push(&m, &s, v);
        if (smooth) {
            float wk = has_weight ? weight[k] : 1.0f;
            wx += wk * v;
            ws += wk;
        }
    }
    float xt = valid ? xr[t] : LE_NAN; /* read before any gradient write */
    le_block_lse(shm, shs, &m, &s);
    le_block_sum2(shm, shs, &wx, &ws);
    if (!active) return;

    float L = le_lse_value(m, s);
    float W = has_weight ? ws : (float)c;
    float wt = valid ? (has_weight ? weight[t] : 1.0f) : LE_NAN;
    if (tid == 0) {
        if (has_lse) lse[i] = L;
        float l = 0.0f;
        if (!ignored) {
            l = (1.0f - eps) * wt * (L - xt);
            if (smooth) l += eps / (float)c * (W * L - wx);
        }
        loss_rows[i] = l;
    }
    if (!has_grad) return;

    /* Pass 2: the gradient row. */
    LE_GLOBAL float *gr = grad + off;
    if (ignored) {
        for (int k = tid; k < c; k += LE_BLOCK) gr[k] = 0.0f;
        return;
    }
    int bad = L != L || L == -LE_INF || !valid;
    float scale = denom[1];
    float coef = scale * ((1.0f - eps) * wt + eps * W / (float)c);
    float sm = scale * eps / (float)c;
    float gt = scale * (1.0f - eps) * wt;
    for (int k = tid; k < c; k += LE_BLOCK) {
        float g = LE_NAN;
        if (!bad) {
            float wk = (smooth && has_weight) ? weight[k] : 1.0f;
            g = exp(xr[k] - L) * coef - sm * wk;
            if (k == t) g -= gt;
        }
        gr[k] = g;
    }
}
