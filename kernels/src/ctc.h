/*
 * src/ctc.h: the CTC (connectionist temporal classification)
 * forward-backward dynamic program, in log space. Host mirrors (the
 * specification): host/ctc.go. The one body of the family:
 * kernels/cuda/ctc.cu and kernels/opencl/ctc.cl include it after lemath.h.
 *
 * One block of LE_BLOCK threads per sequence n; its threads stride over the
 * 2*Ln+1 extended-label states s (even s: blank, odd s: label (s-1)/2), and
 * time steps are separated by block barriers, because each step reads the
 * previous step's row from global memory (alpha [N, T, s_max]). Nothing
 * caps the label length: no state row is held in local memory. Every sum
 * is taken in a fixed order, with no atomics, so results are bitwise
 * reproducible.
 *
 * Precision. Each stored row is relative to the running sum of the
 * earlier rows' maxima (the per-frame offsets of host/ctc.go: a block max
 * per step, the sum kept in a register), so stored values stay small
 * where the probability mass is. The recursion itself runs in le_real
 * (double where the device has it): a step reads the previous row as its
 * float32 values plus their float32 rounding residuals, kept for the last
 * two rows in state_ws, and computes in double, so no float32 rounding
 * is carried from one time step to the next (carried, it adds up to
 * about T·2^-24 of the values, which the gradient shows from T ~ 1000 on).
 *
 * x element (t, n, c) is at t*stride_t + n*stride_n + c; lp(t, c) is that
 * element minus, when has_lse, lse[(t*stride_t + n*stride_n)/C].
 *
 * state_ws holds 3*s_max floats per sequence: [0, s_max) is the
 * per-state scratch of ctc_beta_grad's gradient, [s_max, 3*s_max) the
 * residuals of rows of even and of odd t.
 */
#ifndef LOSSENGINE_SRC_CTC_H
#define LOSSENGINE_SRC_CTC_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/ctc.h"
#endif

/* ctc_label is l'_s: blank for even s, label (s-1)/2 for odd s. */
LE_FN int ctc_label(const LE_GLOBAL int *tg, int s, int blank) {
    return (s & 1) ? tg[(s - 1) >> 1] : blank;
}

/* ctc_row is the offset of row (t, n) of x and grad. */
LE_FN LE_INDEX ctc_row(int t, int n, int stride_t, int stride_n) {
    return (LE_INDEX)t * stride_t + (LE_INDEX)n * stride_n;
}

/* ctc_off is off(m) of host/ctc.go: m if finite, else 0. */
LE_FN float ctc_off(float m) {
    return (m > -LE_INF && m < LE_INF) ? m : 0.0f;
}

/* ctc_get reads cell s of a row as its float value plus its residual. */
LE_FN le_real ctc_get(const LE_GLOBAL float *row, const LE_GLOBAL float *res, int s) {
    return (le_real)row[s] + (le_real)res[s];
}

/*
 * ctc_put stores v in cell s of a row, rounded to float, and the rounding
 * residual (0 for infinities and NaN), and returns the float.
 */
LE_FN float ctc_put(LE_GLOBAL float *row, LE_GLOBAL float *res, int s, le_real v) {
    float f = (float)v;
    row[s] = f;
    res[s] = (f > -LE_INF && f < LE_INF) ? (float)(v - (le_real)f) : 0.0f;
    return f;
}

/* ctc_lse2 is log(exp(a) + exp(b)): -inf if both are, NaN if either is. */
LE_FN le_real ctc_lse2(le_real a, le_real b) {
    le_real m = a > b ? a : b, d = a > b ? b : a;
    if (m == -LE_INF) return a + b;
    return m + log1p(exp(d - m));
}

/* ctc_lse3 is log(exp(a) + exp(b) + exp(c)), as lse3 in host/ctc.go. */
LE_FN le_real ctc_lse3(le_real a, le_real b, le_real c) {
    le_real m = a;
    if (b > m) m = b;
    if (c > m) m = c;
    if (m == -LE_INF) return a + b + c;
    return m + log(exp(a - m) + exp(b - m) + exp(c - m));
}

/*
 * ctc_span is the number of threads that hold states: the smallest power
 * of two >= min(S, LE_BLOCK). The block reductions run over those only.
 */
LE_FN int ctc_span(int S) {
    int p = 1;
    while (p < S && p < LE_BLOCK) p <<= 1;
    return p;
}

/*
 * ctc_block_max returns to every thread the largest v of threads
 * [0, span) (span a power of two, the same for the whole block; v never
 * NaN). Its first barrier also makes the block's global writes visible
 * (the row just stored). sh holds LE_BLOCK floats; callers alternate
 * between two such arrays from one step to the next, so no barrier is
 * needed after the result is read.
 */
LE_FN float ctc_block_max(LE_LOCAL_PTR float *sh, float v, int span) {
    int t = LE_TID;
    sh[t] = v;
    LE_SYNC_GLOBAL();
    for (int d = span >> 1; d > 0; d >>= 1) {
        if (t < d) {
            float b = sh[t + d];
            if (b > sh[t]) sh[t] = b;
        }
        LE_SYNC();
    }
    return sh[0];
}

/*
 * ctc_alpha: for sequence n = block index, with Tn = input_lengths[n],
 * Ln = target_lengths[n], S = 2*Ln+1,
 *   w(0, s) = lp(0, l'_s) for s < 2, -inf for 2 <= s < S
 *   w(t, s) = lp(t, l'_s) + (logsumexp(w(t-1, s), w(t-1, s-1),
 *             w(t-1, s-2) if s odd, s >= 3 and l'_s != l'_{s-2}) - m(t-1))
 *                                                          1 <= t < Tn
 *   m(t)    = max_s w(t, s) (NaN skipped), 0 if that is not finite
 * into alpha cell ((n*T)+t)*s_max + s (t < Tn, s < S; no other cell is
 * written), and
 *   loglik[n] = sum_{t < Tn-1} m(t) + logsumexp(w(Tn-1, S-1), w(Tn-1, S-2) if S >= 2)
 * or, when Tn == 0, 0 if Ln == 0 and -inf otherwise. States s > 2t+1,
 * which no path reaches by step t, get -inf without a look at x (as in
 * the mirror; the recursion gives the same unless x there is NaN or
 * +inf). Each step reads the row before it, written by other threads; the
 * block max of the step orders them. Tn is clamped to [0, T] and Ln to
 * >= 0 so that bad lengths cannot address outside the sequence's rows. A
 * block past the last sequence writes nothing. state_ws gets the
 * residuals (see the top of the file).
 */
LE_KERNEL ctc_alpha(const LE_GLOBAL float *x, const LE_GLOBAL float *lse, int T, int N, int C,
                    int stride_t, int stride_n, int has_lse, const LE_GLOBAL int *targets,
                    const LE_GLOBAL int *target_offsets, const LE_GLOBAL int *target_lengths,
                    const LE_GLOBAL int *input_lengths, int blank, int s_max,
                    LE_GLOBAL float *alpha, LE_GLOBAL float *loglik, LE_GLOBAL float *state_ws) {
    LE_LOCAL float shm[2 * LE_BLOCK];
    int n = LE_BID, tid = LE_TID;
    int active = n < N; /* no return before a barrier */
    int Tn = active ? min(max(input_lengths[n], 0), T) : 0;
    int Ln = active ? max(target_lengths[n], 0) : 0;
    int S = 2 * Ln + 1;
    int span = ctc_span(S);
    const LE_GLOBAL int *tg = targets + (active ? target_offsets[n] : 0);
    LE_GLOBAL float *an = alpha + (LE_INDEX)n * T * s_max;
    LE_GLOBAL float *rs = state_ws + (LE_INDEX)n * 3 * s_max + s_max; /* residual rows */
    float mprev = 0.0f; /* m(t-1) */
    le_real acc = 0.0;  /* sum_{tau < t} m(tau) */

    for (int t = 0; t < Tn; t++) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        LE_GLOBAL float *cur = an + (LE_INDEX)t * s_max;
        LE_GLOBAL float *rcur = rs + (t & 1) * s_max;
        const LE_GLOBAL float *prev = cur - s_max;
        const LE_GLOBAL float *rprev = rs + ((t + 1) & 1) * s_max;
        float lm = -LE_INF;
        if (t > 0) acc += mprev;
        for (int s = tid; s < S; s += LE_BLOCK) {
            le_real v = -LE_INF; /* s > 2t+1: not reachable yet */
            if (s <= 2 * t + 1) {
                int l = ctc_label(tg, s, blank);
                le_real p = 0.0; /* t == 0: w(0, s) = lp(0, l'_s) */
                if (t > 0) {
                    le_real p0 = ctc_get(prev, rprev, s);
                    le_real p1 = s >= 1 ? ctc_get(prev, rprev, s - 1) : -LE_INF;
                    if ((s & 1) && s >= 3 && l != tg[(s - 3) >> 1])
                        p = ctc_lse3(p1, p0, ctc_get(prev, rprev, s - 2));
                    else
                        p = ctc_lse2(p1, p0);
                    p -= mprev;
                }
                v = ((le_real)x[row + l] - (le_real)sub) + p;
            }
            float f = ctc_put(cur, rcur, s, v);
            if (f > lm) lm = f;
        }
        /* row t is complete (the barrier inside) before row t+1 reads it */
        mprev = ctc_off(ctc_block_max(shm + (t & 1) * LE_BLOCK, lm, span));
    }

    if (active && tid == 0) {
        float ll = Ln == 0 ? 0.0f : -LE_INF;
        if (Tn > 0) {
            const LE_GLOBAL float *last = an + (LE_INDEX)(Tn - 1) * s_max;
            const LE_GLOBAL float *rlast = rs + ((Tn - 1) & 1) * s_max;
            le_real v = ctc_get(last, rlast, S - 1);
            if (S >= 2) v = ctc_lse2(ctc_get(last, rlast, S - 2), v);
            ll = (float)(acc + v);
        }
        loglik[n] = ll;
    }
}

/*
 * ctc_beta_step is step t of ctc_beta_grad for the calling thread's states
 * s = tid, tid + LE_BLOCK, ... < S: v(t, s) from row t+1 (already v, read
 * relative to its maximum mprev; last: t == Tn-1), written over w(t, s)
 * in row t (cur, residuals to rcur; those of row t+1 are in rnext);
 * v(t, s) = -inf without a look at x for s < lo = S - 2*(Tn-t), from
 * where the end cannot be reached. *lm gets the thread's largest v (NaN
 * skipped). With grad_on it writes the log-occupation g(t, s) - zprev =
 * w(t, s) + r(t, s) - zprev of odd s to sw[s], and pushes that of even s
 * into the online log-sum-exp state (*bm, *bs) and that of every s into
 * (*zm, *zs), in the order of s; g is taken as -inf outside
 * lo <= s <= hi = 2t+1, where w or v is -inf by reachability alone (so
 * that a NaN or +inf in x off every path cannot reach the gradient, as in
 * the mirror). zprev (the previous step's Z) only keeps the float values
 * near 0; it cancels in the occupations.
 */
LE_FN void ctc_beta_step(const LE_GLOBAL float *x, LE_INDEX row, float sub, const LE_GLOBAL int *tg,
                         int blank, int S, int last, int lo, int hi, LE_GLOBAL float *cur,
                         LE_GLOBAL float *rcur, const LE_GLOBAL float *rnext, int s_max, float mprev,
                         float zprev, float *lm, int grad_on, LE_GLOBAL float *sw, float *bm, float *bs,
                         float *zm, float *zs) {
    const LE_GLOBAL float *next = cur + s_max;
    for (int s = LE_TID; s < S; s += LE_BLOCK) {
        le_real v = -LE_INF; /* s < lo: the end is out of reach */
        float g = -LE_INF;
        if (s >= lo) {
            int l = ctc_label(tg, s, blank);
            le_real r = 0.0; /* last step: v(Tn-1, s) = lp(Tn-1, l'_s) */
            if (!last) {
                le_real n0 = ctc_get(next, rnext, s);
                le_real n1 = s + 1 < S ? ctc_get(next, rnext, s + 1) : -LE_INF;
                if ((s & 1) && s + 2 < S && l != tg[(s + 1) >> 1])
                    r = ctc_lse3(n0, n1, ctc_get(next, rnext, s + 2));
                else
                    r = ctc_lse2(n0, n1);
                r -= mprev;
            }
            v = ((le_real)x[row + l] - (le_real)sub) + r;
            if (s <= hi) g = (float)(((le_real)cur[s] + r) - (le_real)zprev);
        }
        float f = ctc_put(cur, rcur, s, v);
        if (f > *lm) *lm = f;
        if (grad_on) {
            if (s & 1) {
                sw[s] = g;
            } else {
                le_lse_push(bm, bs, g);
            }
            le_lse_push(zm, zs, g);
        }
    }
}

/*
 * ctc_beta_grad: for sequence n = block index (Tn, Ln, S as in ctc_alpha),
 * with alpha holding w(t, s) from ctc_alpha,
 *   r(Tn-1, s) = 0 for s in {S-1, S-2}
 *   r(t, s)    = logsumexp(v(t+1, s), v(t+1, s+1) if s+1 < S,
 *                v(t+1, s+2) if s odd, s+2 < S and l'_{s+2} != l'_s) - mb(t+1)   t < Tn-1
 *   v(t, s)    = lp(t, l'_s) + r(t, s) for s >= S - 2*(Tn-t), -inf below
 *   mb(t)      = max_s v(t, s) (NaN skipped), 0 if that is not finite
 * overwriting w(t, s) in alpha, and
 *   loglik_beta[n] = sum_{t > 0} mb(t) + logsumexp(v(0, 0), v(0, 1) if S >= 2)
 *                    (Tn == 0: as loglik)
 *   loss_rows[n]   = 0 if nll == +inf and zero_infinity, else
 *                    nll / max(Ln, 1) under mean reduction, nll otherwise,
 * where nll = -loglik[n]. With has_grad, grad (laid out as x) gets, for
 * every t < T and c < C,
 *   0                                     if t >= Tn or nll == +inf
 *   NaN                                   if nll or lp(t, c) is NaN
 *   scale * (e(t, c) - occ(t, c))         otherwise
 * with scale = 1 / (N * max(Ln, 1)) under mean reduction (else 1),
 * e = exp(lp(t, c)) for LE_CTC_GRAD_SOFTMAX (0 for LE_CTC_GRAD_EXACT),
 * occ = 0 if lcab(t, c) = -inf, else exp(lcab(t, c) - Z(t)), where
 * g(t, s) = w(t, s) + r(t, s) for S - 2*(Tn-t) <= s <= 2t+1 (-inf
 * elsewhere), lcab(t, c) is the log-sum-exp of g(t, s) over the states
 * s < S with l'_s == c (-inf if none) and Z(t) that over all states: each
 * frame's occupations are normalised by their own sum, so a
 * log-probability of -inf gets occupation 0 and a finite gradient.
 *
 * Step t (from Tn-1 down to 0): each thread makes v(t, s) for its states
 * from row t+1, reads w(t, s) and writes v(t, s) over it; with a gradient
 * it keeps g (less the previous step's Z) of its even (blank) states and
 * of all its states in two online log-sum-exp states and writes that of
 * its odd states to state_ws[n, s]. One fixed-tree reduction (its first
 * barrier orders the row and state_ws) then gives every thread mb(t),
 * lcab of the blank and Z(t); thread 0 writes lcab of the blank to
 * class_ws[n, blank], and the thread of each first occurrence j of a
 * label (j = tid, tid + LE_BLOCK, ...) adds state_ws at 2k+1 for
 * k = j, target_next[j], target_next[target_next[j]], ... in that order
 * into class_ws[n, c]. LE_SYNC_GLOBAL; then the gradient row t is written
 * from class_ws. Every class_ws entry of a class that occurs is rewritten
 * at each step by the same thread, and the others stay -inf from the
 * start, so class_ws needs no clearing between steps. The even cells
 * state_ws[n, 2j] (no g is stored there) hold, for the whole kernel, 1 if
 * label j is the first occurrence of its class and 0 if not: set to 1,
 * then to 0 at target_next[j] for every j.
 */
LE_KERNEL ctc_beta_grad(const LE_GLOBAL float *x, const LE_GLOBAL float *lse, int T, int N, int C,
                        int stride_t, int stride_n, int has_lse, const LE_GLOBAL int *targets,
                        const LE_GLOBAL int *target_offsets, const LE_GLOBAL int *target_lengths,
                        const LE_GLOBAL int *input_lengths, const LE_GLOBAL int *target_next,
                        int blank, int s_max, LE_GLOBAL float *alpha, const LE_GLOBAL float *loglik,
                        int reduction, int zero_infinity, int grad_mode, int has_grad,
                        LE_GLOBAL float *grad, LE_GLOBAL float *class_ws, LE_GLOBAL float *state_ws,
                        LE_GLOBAL float *loss_rows, LE_GLOBAL float *loglik_beta) {
    LE_LOCAL float shx[2 * LE_BLOCK];
    LE_LOCAL float shbm[LE_BLOCK];
    LE_LOCAL float shbs[LE_BLOCK];
    LE_LOCAL float shzm[LE_BLOCK];
    LE_LOCAL float shzs[LE_BLOCK];
    int n = LE_BID, tid = LE_TID;
    int active = n < N; /* no return before a barrier */
    int Tn = active ? min(max(input_lengths[n], 0), T) : 0;
    int Ln = active ? max(target_lengths[n], 0) : 0;
    int S = 2 * Ln + 1;
    int span = ctc_span(S);
    int off = active ? target_offsets[n] : 0;
    const LE_GLOBAL int *tg = targets + off;
    const LE_GLOBAL int *nx = target_next + off;
    float nll = active ? -loglik[n] : 0.0f;
    int impossible = nll == LE_INF;
    int grad_on = active && has_grad && !impossible; /* the same for the whole block */
    int soft = grad_mode == LE_CTC_GRAD_SOFTMAX;
    float scale = reduction == LE_REDUCTION_MEAN ? 1.0f / ((float)N * (float)max(Ln, 1)) : 1.0f;
    LE_GLOBAL float *an = alpha + (LE_INDEX)n * T * s_max;
    LE_GLOBAL float *cw = class_ws + (LE_INDEX)n * C;
    LE_GLOBAL float *sw = state_ws + (LE_INDEX)n * 3 * s_max;
    LE_GLOBAL float *rs = sw + s_max; /* residual rows */
    float mprev = 0.0f; /* mb(t+1) */
    float zprev = 0.0f; /* Z(t+1), less the zprev of its own step */
    le_real acc = 0.0;  /* sum_{tau > t} mb(tau) */

    /* Zero gradient rows: t >= Tn, or all of them for an impossible sequence. */
    if (active && has_grad) {
        for (int t = impossible ? 0 : Tn; t < T; t++) {
            LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
            for (int c = tid; c < C; c += LE_BLOCK) grad[row + c] = 0.0f;
        }
    }
    /* class_ws = -inf; first-occurrence flags in the even cells of state_ws. */
    if (grad_on) {
        for (int c = tid; c < C; c += LE_BLOCK) cw[c] = -LE_INF;
        for (int j = tid; j < Ln; j += LE_BLOCK) sw[2 * j] = 1.0f;
    }
    LE_SYNC_GLOBAL();
    if (grad_on) {
        for (int j = tid; j < Ln; j += LE_BLOCK) {
            int k = nx[j];
            if (k > j && k < Ln) sw[2 * k] = 0.0f;
        }
    }
    LE_SYNC_GLOBAL();

    /*
     * Without a gradient (or for an impossible sequence) only v is made:
     * one block max per step. Of the two loops one runs Tn times and the
     * other none, the same for the whole block: no barrier sits inside a
     * conditional (PoCL 3.1 crashed with the per-step barriers in an if
     * inside one time loop).
     */
    for (int t = grad_on ? -1 : Tn - 1; t >= 0; t--) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        float lm = -LE_INF, bm = -LE_INF, bs = 0.0f, zm = -LE_INF, zs = 0.0f;
        if (t < Tn - 1) acc += mprev;
        ctc_beta_step(x, row, sub, tg, blank, S, t == Tn - 1, S - 2 * (Tn - t), 2 * t + 1,
                      an + (LE_INDEX)t * s_max, rs + (t & 1) * s_max, rs + ((t + 1) & 1) * s_max, s_max,
                      mprev, 0.0f, &lm, 0, sw, &bm, &bs, &zm, &zs);
        /* row t is complete (the barrier inside) before row t-1 reads it */
        mprev = ctc_off(ctc_block_max(shx + (t & 1) * LE_BLOCK, lm, span));
    }
    for (int t = grad_on ? Tn - 1 : -1; t >= 0; t--) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        /* the thread's largest v, and online log-sum-exp states of g over its blank states and all its states */
        float lm = -LE_INF, bm = -LE_INF, bs = 0.0f, zm = -LE_INF, zs = 0.0f;
        if (t < Tn - 1) acc += mprev;
        ctc_beta_step(x, row, sub, tg, blank, S, t == Tn - 1, S - 2 * (Tn - t), 2 * t + 1,
                      an + (LE_INDEX)t * s_max, rs + (t & 1) * s_max, rs + ((t + 1) & 1) * s_max, s_max,
                      mprev, zprev, &lm, 1, sw, &bm, &bs, &zm, &zs);
        /* one fixed tree for mb(t), lcab of the blank and Z(t); its first barrier orders row t and state_ws */
        shx[tid] = lm;
        shbm[tid] = bm;
        shbs[tid] = bs;
        shzm[tid] = zm;
        shzs[tid] = zs;
        LE_SYNC_GLOBAL();
        for (int d = span >> 1; d > 0; d >>= 1) {
            if (tid < d) {
                float b = shx[tid + d];
                if (b > shx[tid]) shx[tid] = b;
                float mm = shbm[tid], ss = shbs[tid];
                le_lse_merge(&mm, &ss, shbm[tid + d], shbs[tid + d]);
                shbm[tid] = mm;
                shbs[tid] = ss;
                mm = shzm[tid];
                ss = shzs[tid];
                le_lse_merge(&mm, &ss, shzm[tid + d], shzs[tid + d]);
                shzm[tid] = mm;
                shzs[tid] = ss;
            }
            LE_SYNC();
        }
        mprev = ctc_off(shx[0]);
        float z = le_lse_value(shzm[0], shzs[0]);
        if (tid == 0) cw[blank] = le_lse_value(shbm[0], shbs[0]);
        for (int j = tid; j < Ln; j += LE_BLOCK) {
            if (sw[2 * j] != 0.0f) { /* first occurrence of its class */
                float acc2 = sw[2 * j + 1];
                for (int k = nx[j], p = j; k > p && k < Ln; p = k, k = nx[k])
                    acc2 = le_log_add_exp(acc2, sw[2 * k + 1]);
                cw[tg[j]] = acc2;
            }
        }
        LE_SYNC_GLOBAL(); /* class_ws is complete; every thread has read the tree's results */
        for (int c = tid; c < C; c += LE_BLOCK) {
            float lc = cw[c];
            float lp = x[row + c] - sub;
            float occ = lc == -LE_INF ? 0.0f : exp(lc - z);
            float e = soft ? exp(lp) : 0.0f;
            float gv = scale * (e - occ);
            grad[row + c] = (lp != lp || nll != nll) ? LE_NAN : gv;
        }
        zprev = ctc_off(zprev + z);
    }

    if (active && tid == 0) {
        float llb = Ln == 0 ? 0.0f : -LE_INF;
        if (Tn > 0) {
            const LE_GLOBAL float *r0 = rs; /* row 0's residuals: t = 0 is even */
            le_real v = ctc_get(an, r0, 0);
            if (S >= 2) v = ctc_lse2(v, ctc_get(an, r0, 1));
            llb = (float)(acc + v);
        }
        loglik_beta[n] = llb;
        loss_rows[n] = impossible && zero_infinity ? 0.0f
                       : reduction == LE_REDUCTION_MEAN ? nll / (float)max(Ln, 1) : nll;
    }
}

#endif /* LOSSENGINE_SRC_CTC_H */
