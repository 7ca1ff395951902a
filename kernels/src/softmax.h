/*
 * src/softmax.h: row-wise log-sum-exp, softmax and log-softmax over a
 * [rows, cols] matrix scaled by inv_tau, and their backward passes.
 * Host mirrors (the specification): host/softmax.go. The one body of the
 * family: kernels/cuda/softmax.cu and kernels/opencl/softmax.cl include it
 * after lemath.h.
 *
 * Grid: one block of LE_BLOCK threads per row (block r handles row r).
 * Thread t visits columns t, t + LE_BLOCK, ... of its row, in that order;
 * the per-thread results are combined with the fixed-tree block
 * reductions of lemath.h, so results are bitwise reproducible. As
 * lemath.h asks, no kernel returns before a barrier: a block past the last
 * row runs its loops zero times (nc = 0) and writes nothing.
 *
 * Each loop visits LE_UNROLL (lemath.h) of a thread's columns per trip and
 * loads them all before using any, so that several loads are in flight
 * per thread where the dialect wants it (an output that may alias the
 * input keeps the compiler from doing this itself). The order of the
 * columns a thread visits does not depend on LE_UNROLL.
 */
#ifndef LOSSENGINE_SRC_SOFTMAX_H
#define LOSSENGINE_SRC_SOFTMAX_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/softmax.h"
#endif

/*
 * sm_row_state leaves, in every thread of the block, the (max, sum) state
 * (*mp, *sp) of the log-sum-exp of
 * xr[c] * inv_tau over c < cols: one pass with the online (max, sum)
 * state per thread, merged in a fixed tree (a NaN or +inf element makes
 * it NaN).
 */
LE_FN void sm_row_state(LE_LOCAL_PTR float *shm, LE_LOCAL_PTR float *shs,
                        const LE_GLOBAL float *xr, int cols, float inv_tau, float *mp, float *sp) {
    float m = -LE_INF, s = 0.0f;
    for (LE_INDEX c0 = LE_TID; c0 < cols; c0 += LE_UNROLL * LE_BLOCK) {
        float v[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            v[u] = c < cols ? xr[c] : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++)
            if (c0 + u * LE_BLOCK < cols) le_lse_push(&m, &s, v[u] * inv_tau);
    }
    le_block_lse(shm, shs, &m, &s);
    *mp = m;
    *sp = s;
}

/* sm_row_lse is the row's log-sum-exp from sm_row_state. */
LE_FN float sm_row_lse(LE_LOCAL_PTR float *shm, LE_LOCAL_PTR float *shs,
                       const LE_GLOBAL float *xr, int cols, float inv_tau) {
    float m, s;
    sm_row_state(shm, shs, xr, cols, inv_tau, &m, &s);
    return le_lse_value(m, s);
}

/* logsumexp_rows: lse[r] = log sum_c exp(x[r, c] * inv_tau) (logsumexpRows). */
LE_KERNEL logsumexp_rows(const LE_GLOBAL float *x, int rows, int cols, float inv_tau,
                         LE_GLOBAL float *lse) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    const LE_GLOBAL float *xr = x + (LE_INDEX)r * cols;
    float l = sm_row_lse(shm, shs, xr, nc, inv_tau);
    if (LE_TID == 0 && r < rows) lse[r] = l;
}

/*
 * logsumexp_backward_rows: dx[r, c] = dlse[r] * inv_tau *
 * exp(x[r, c] * inv_tau - lse[r]) (logsumexpBackwardRows). dx may be x.
 */
LE_KERNEL logsumexp_backward_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *lse,
                                  const LE_GLOBAL float *dlse, int rows, int cols, float inv_tau,
                                  LE_GLOBAL float *dx) {
    int r = LE_BID;
    if (r >= rows) return;
    LE_INDEX o = (LE_INDEX)r * cols;
    float g = dlse[r] * inv_tau;
    float l = lse[r];
    for (LE_INDEX c0 = LE_TID; c0 < cols; c0 += LE_UNROLL * LE_BLOCK) {
        float v[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            v[u] = c < cols ? x[o + c] : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            if (c < cols) dx[o + c] = g * exp(v[u] * inv_tau - l);
        }
    }
}

/*
 * softmax_rows: with z = x[r, :] * inv_tau, m = max z, s = sum_c exp(z_c - m),
 * y[r, c] = exp(z_c - m) / s, or (z_c - m) - log(s) if log_out
 * (softmaxRows). y may be x: every element is
 * read in the first pass, and read then written by one thread in the
 * second, after the block-wide merge.
 */
LE_KERNEL softmax_rows(const LE_GLOBAL float *x, int rows, int cols, float inv_tau, int log_out,
                       LE_GLOBAL float *y) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    LE_INDEX o = (LE_INDEX)r * cols;
    /* (z - m) - log(s) and exp(z - m) / s rather than z - L and exp(z - L):
     * L = m + log(s) is rounded to the spacing of m, far coarser than a
     * confident row's log-probabilities near 0. */
    float m, sum;
    sm_row_state(shm, shs, x + o, nc, inv_tau, &m, &sum);
    float ls = log(sum), inv_s = 1.0f / sum;
    for (LE_INDEX c0 = LE_TID; c0 < nc; c0 += LE_UNROLL * LE_BLOCK) {
        float z[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            z[u] = c < nc ? x[o + c] * inv_tau : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            if (c < nc) y[o + c] = log_out ? (z[u] - m) - ls : exp(z[u] - m) * inv_s;
        }
    }
}

/*
 * softmax_backward_rows (softmaxBackwardRows), given the forward output y
 * and the upstream gradient dy:
 *   softmax:      dx = inv_tau * y * (dy - sum_k dy_k y_k)
 *   log-softmax:  dx = inv_tau * (dy - exp(y) * sum_k dy_k)
 * dx may be dy (or y).
 */
LE_KERNEL softmax_backward_rows(const LE_GLOBAL float *y, const LE_GLOBAL float *dy, int rows,
                                int cols, float inv_tau, int log_out, LE_GLOBAL float *dx) {
    LE_LOCAL float sh[LE_BLOCK];
    int r = LE_BID;
    int nc = r < rows ? cols : 0;
    LE_INDEX o = (LE_INDEX)r * cols;
    float acc = 0.0f;
    for (LE_INDEX c0 = LE_TID; c0 < nc; c0 += LE_UNROLL * LE_BLOCK) {
        float yv[LE_UNROLL], dv[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            dv[u] = c < nc ? dy[o + c] : 0.0f;
            yv[u] = c < nc && !log_out ? y[o + c] : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++)
            if (c0 + u * LE_BLOCK < nc) acc += log_out ? dv[u] : dv[u] * yv[u];
    }
    float s = le_block_sum(sh, acc);
    for (LE_INDEX c0 = LE_TID; c0 < nc; c0 += LE_UNROLL * LE_BLOCK) {
        float yv[LE_UNROLL], dv[LE_UNROLL];
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            yv[u] = c < nc ? y[o + c] : 0.0f;
            dv[u] = c < nc ? dy[o + c] : 0.0f;
        }
        for (int u = 0; u < LE_UNROLL; u++) {
            LE_INDEX c = c0 + u * LE_BLOCK;
            if (c < nc)
                dx[o + c] = log_out ? inv_tau * (dv[u] - exp(yv[u]) * s) : inv_tau * yv[u] * (dv[u] - s);
        }
    }
}

#endif /* LOSSENGINE_SRC_SOFTMAX_H */
