/*
 * softmax.cl: row-wise log-sum-exp, softmax and log-softmax over a
 * [rows, cols] matrix whose entries are scaled by inv_tau, and their
 * backward passes. One block per row; each thread strides over the row's
 * columns, and the block merges the threads' partial results in a fixed
 * tree (lemath.h), so results are bitwise reproducible. Host mirrors:
 * host/softmax.go.
 *
 * Kernels with barriers never return early: a block past the last row
 * runs its loops zero times and writes nothing (an early return before a
 * barrier makes PoCL 3.1's loopvec work-group compiler emit code that
 * crashes).
 */
#include "lemath.h"

/* logsumexp_rows: lse[r] = log sum_c exp(x[r,c] * inv_tau) (logsumexpRows). */
LE_KERNEL logsumexp_rows(const LE_GLOBAL float *x, int rows, int cols, float inv_tau, LE_GLOBAL float *lse) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    const LE_GLOBAL float *xr = x + (long)r * cols;
    float m = -LE_INF, s = 0.0f;
    for (int c = LE_TID; c < nc; c += LE_BLOCK) le_lse_push(&m, &s, xr[c] * inv_tau);
    le_block_lse(shm, shs, &m, &s);
    if (LE_TID == 0 && r < rows) lse[r] = le_lse_value(m, s);
}

/*
 * logsumexp_backward_rows: dx[r,c] = dlse[r] * inv_tau *
 * exp(x[r,c]*inv_tau - lse[r]) (logsumexpBackwardRows).
 */
LE_KERNEL logsumexp_backward_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *lse, const LE_GLOBAL float *dlse, int rows, int cols, float inv_tau, LE_GLOBAL float *dx) {
    int r = LE_BID;
    if (r >= rows) return;
    long off = (long)r * cols;
    float l = lse[r];
    float g = dlse[r] * inv_tau;
    for (int c = LE_TID; c < cols; c += LE_BLOCK) dx[off + c] = g * exp(x[off + c] * inv_tau - l);
}

/*
 * softmax_rows: y[r,:] = softmax(x[r,:] * inv_tau), or log-softmax if
 * log_out (softmaxRows). y may be x: each element is read and written by
 * the same thread, the write after the block's reduction.
 */
LE_KERNEL softmax_rows(const LE_GLOBAL float *x, int rows, int cols, float inv_tau, int log_out, LE_GLOBAL float *y) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    long off = (long)r * cols;
    float m = -LE_INF, s = 0.0f;
    for (int c = LE_TID; c < nc; c += LE_BLOCK) le_lse_push(&m, &s, x[off + c] * inv_tau);
    le_block_lse(shm, shs, &m, &s);
    float l = le_lse_value(m, s);
    for (int c = LE_TID; c < nc; c += LE_BLOCK) {
        float z = x[off + c] * inv_tau - l;
        y[off + c] = log_out ? z : exp(z);
    }
}

/*
 * softmax_backward_rows: with s = sum_k dy[r,k]*y[r,k] (softmax) or
 * sum_k dy[r,k] (log-softmax),
 *   softmax:     dx[r,c] = inv_tau * y[r,c] * (dy[r,c] - s)
 *   log-softmax: dx[r,c] = inv_tau * (dy[r,c] - exp(y[r,c]) * s)
 * (softmaxBackwardRows). dx may be dy.
 */
LE_KERNEL softmax_backward_rows(const LE_GLOBAL float *y, const LE_GLOBAL float *dy, int rows, int cols, float inv_tau, int log_out, LE_GLOBAL float *dx) {
    LE_LOCAL float sh[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    long off = (long)r * cols;
    float acc = 0.0f;
    for (int c = LE_TID; c < nc; c += LE_BLOCK) acc += log_out ? dy[off + c] : dy[off + c] * y[off + c];
    float s = le_block_sum(sh, acc);
    for (int c = LE_TID; c < nc; c += LE_BLOCK) {
        float yc = y[off + c], dyc = dy[off + c];
        dx[off + c] = log_out ? inv_tau * (dyc - exp(yc) * s) : inv_tau * yc * (dyc - s);
    }
}
