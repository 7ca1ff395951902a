/*
 * ctc.cu: the CTC (connectionist temporal classification) forward-backward
 * dynamic program, in log space. Host mirrors (the specification):
 * host/ctc.go. kernels/opencl/ctc.cl has the same bodies.
 *
 * One block of LE_BLOCK threads per sequence n; its threads stride over the
 * 2*Ln+1 extended-label states s (even s: blank, odd s: label (s-1)/2), and
 * time steps are separated by LE_SYNC_GLOBAL, because each step reads the
 * previous step's row from global memory (alpha [N, T, s_max]). Nothing
 * caps the label length: no state row is held in local memory. Every sum
 * is taken in a fixed order, with no atomics, so results are bitwise
 * reproducible.
 *
 * x element (t, n, c) is at t*stride_t + n*stride_n + c; lp(t, c) is that
 * element minus, when has_lse, lse[(t*stride_t + n*stride_n)/C].
 */
#include "../lemath.h"

/* ctc_label is l'_s: blank for even s, label (s-1)/2 for odd s. */
LE_FN int ctc_label(const LE_GLOBAL int *tg, int s, int blank) {
    return (s & 1) ? tg[(s - 1) >> 1] : blank;
}

/* ctc_row is the offset of row (t, n) of x and grad. */
LE_FN LE_INDEX ctc_row(int t, int n, int stride_t, int stride_n) {
    return (LE_INDEX)t * stride_t + (LE_INDEX)n * stride_n;
}

/*
 * ctc_alpha: for sequence n = block index, with Tn = input_lengths[n],
 * Ln = target_lengths[n], S = 2*Ln+1,
 *   a(0, s) = lp(0, l'_s) for s < 2, -inf for 2 <= s < S
 *   a(t, s) = lp(t, l'_s) + logsumexp(a(t-1, s), a(t-1, s-1),
 *             a(t-1, s-2) if s odd, s >= 3 and l'_s != l'_{s-2})   1 <= t < Tn
 * into alpha cell ((n*T)+t)*s_max + s (t < Tn, s < S; no other cell is
 * written), and
 *   loglik[n] = logsumexp(a(Tn-1, S-1), a(Tn-1, S-2) if S >= 2)
 * or, when Tn == 0, 0 if Ln == 0 and -inf otherwise. States s > 2t+1,
 * which no path reaches by step t, get -inf without a look at x (as in
 * the mirror; the recursion gives the same unless x there is NaN or
 * +inf). Each step reads the row before it, written by other threads:
 * LE_SYNC_GLOBAL between steps. Tn is clamped to [0, T] and Ln to >= 0
 * so that bad lengths cannot address outside the sequence's rows. A
 * block past the last sequence writes nothing.
 */
LE_KERNEL ctc_alpha(const LE_GLOBAL float *x, const LE_GLOBAL float *lse, int T, int N, int C,
                    int stride_t, int stride_n, int has_lse, const LE_GLOBAL int *targets,
                    const LE_GLOBAL int *target_offsets, const LE_GLOBAL int *target_lengths,
                    const LE_GLOBAL int *input_lengths, int blank, int s_max,
                    LE_GLOBAL float *alpha, LE_GLOBAL float *loglik) {
    int n = LE_BID, tid = LE_TID;
    int active = n < N; /* no return before a barrier */
    int Tn = active ? min(max(input_lengths[n], 0), T) : 0;
    int Ln = active ? max(target_lengths[n], 0) : 0;
    int S = 2 * Ln + 1;
    const LE_GLOBAL int *tg = targets + (active ? target_offsets[n] : 0);
    LE_GLOBAL float *an = alpha + (LE_INDEX)n * T * s_max;

    for (int t = 0; t < Tn; t++) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        LE_GLOBAL float *cur = an + (LE_INDEX)t * s_max;
        for (int s = tid; s < S; s += LE_BLOCK) {
            float v = -LE_INF; /* s > 2t+1: not reachable yet */
            if (s <= 2 * t + 1) {
                int l = ctc_label(tg, s, blank);
                float p = 0.0f; /* t == 0: a(0, s) = lp(0, l'_s) */
                if (t > 0) {
                    const LE_GLOBAL float *prev = cur - s_max;
                    p = prev[s];
                    if (s >= 1) p = le_log_add_exp(p, prev[s - 1]);
                    if ((s & 1) && s >= 3 && l != tg[(s - 3) >> 1]) p = le_log_add_exp(p, prev[s - 2]);
                }
                v = x[row + l] - sub + p;
            }
            cur[s] = v;
        }
        LE_SYNC_GLOBAL(); /* row t is complete before row t+1 reads it */
    }

    if (active && tid == 0) {
        float ll = Ln == 0 ? 0.0f : -LE_INF;
        if (Tn > 0) {
            const LE_GLOBAL float *last = an + (LE_INDEX)(Tn - 1) * s_max;
            ll = last[S - 1];
            if (S >= 2) ll = le_log_add_exp(ll, last[S - 2]);
        }
        loglik[n] = ll;
    }
}

/*
 * ctc_beta_step is step t of ctc_beta_grad for the calling thread's states
 * s = tid, tid + LE_BLOCK, ... < S: b(t, s) from row t+1 (already beta;
 * last: t == Tn-1), written over a(t, s) in row t (cur); b(t, s) = -inf
 * without a look at x for s < lo = S - 2*(Tn-t), from where the end
 * cannot be reached. With grad_on it writes a(t, s) + b(t, s) of odd s
 * to sw[s] and pushes that of even s into the online log-sum-exp state
 * (*m, *ms), in the order of s; a + b is taken as -inf outside
 * lo <= s <= hi = 2t+1, where a or b is -inf by reachability alone (so
 * that a NaN or +inf in x off every path cannot reach the gradient, as in
 * the mirror).
 */
LE_FN void ctc_beta_step(const LE_GLOBAL float *x, LE_INDEX row, float sub, const LE_GLOBAL int *tg,
                         int blank, int S, int last, int lo, int hi, LE_GLOBAL float *cur, int s_max,
                         int grad_on, LE_GLOBAL float *sw, float *m, float *ms) {
    for (int s = LE_TID; s < S; s += LE_BLOCK) {
        float v = -LE_INF; /* s < lo: the end is out of reach */
        if (s >= lo) {
            int l = ctc_label(tg, s, blank);
            float p = 0.0f; /* last step: b(Tn-1, s) = lp(Tn-1, l'_s) */
            if (!last) {
                const LE_GLOBAL float *next = cur + s_max;
                p = next[s];
                if (s + 1 < S) p = le_log_add_exp(p, next[s + 1]);
                if ((s & 1) && s + 2 < S && l != tg[(s + 1) >> 1]) p = le_log_add_exp(p, next[s + 2]);
            }
            v = x[row + l] - sub + p;
        }
        float ab = s >= lo && s <= hi ? cur[s] + v : -LE_INF;
        cur[s] = v;
        if (grad_on) {
            if (s & 1) {
                sw[s] = ab;
            } else {
                le_lse_push(m, ms, ab);
            }
        }
    }
}

/*
 * ctc_beta_grad: for sequence n = block index (Tn, Ln, S as in ctc_alpha),
 * with alpha holding a(t, s) from ctc_alpha,
 *   b(Tn-1, s) = lp(Tn-1, l'_s) for s in {S-1, S-2}, -inf for other s < S
 *   b(t, s)    = lp(t, l'_s) + logsumexp(b(t+1, s), b(t+1, s+1) if s+1 < S,
 *                b(t+1, s+2) if s odd, s+2 < S and l'_{s+2} != l'_s)   t < Tn-1
 * overwriting a(t, s) in alpha, and
 *   loglik_beta[n] = logsumexp(b(0, 0), b(0, 1) if S >= 2)  (Tn == 0: as loglik)
 *   loss_rows[n]   = 0 if nll == +inf and zero_infinity, else
 *                    nll / max(Ln, 1) under mean reduction, nll otherwise,
 * where nll = -loglik[n]. With has_grad, grad (laid out as x) gets, for
 * every t < T and c < C,
 *   0                                     if t >= Tn or nll == +inf
 *   scale * (e(t, c) - occ(t, c))         otherwise
 * with scale = 1 / (N * max(Ln, 1)) under mean reduction (else 1),
 * e = exp(lp(t, c)) for LE_CTC_GRAD_SOFTMAX (0 for LE_CTC_GRAD_EXACT),
 * occ = exp(lcab(t, c) - lp(t, c) + nll), and lcab(t, c) the log-sum-exp of
 * a(t, s) + b(t, s) over the states s < S with l'_s == c (-inf if none).
 * Taken literally, like the mirror and PyTorch: where lp(t, c) = -inf,
 * lcab - lp is NaN and so is the gradient element.
 *
 * Step t (from Tn-1 down to 0): each thread makes b(t, s) for its states
 * from row t+1 (already b), reads a(t, s) and writes b(t, s) over it; with
 * a gradient it keeps a + b of its even (blank) states in an online
 * log-sum-exp state and writes a + b of its odd states to state_ws[n, s].
 * LE_SYNC_GLOBAL; then lcab of the blank is the fixed-tree le_block_lse
 * of the threads' states, and the thread of each first occurrence j of a
 * label (j = tid, tid + LE_BLOCK, ...) adds state_ws at 2k+1 for
 * k = j, target_next[j], target_next[target_next[j]], ... in that order;
 * both write class_ws[n, c]. LE_SYNC_GLOBAL; then the gradient row t is
 * written from class_ws. Every class_ws entry of a class that occurs is
 * rewritten at each step by the same thread, and the others stay -inf
 * from the start, so class_ws needs no clearing between steps. The even
 * cells state_ws[n, 2j] (no a + b is stored there) hold, for the whole
 * kernel, 1 if label j is the first occurrence of its class and 0 if not:
 * set to 1, then to 0 at target_next[j] for every j.
 */
LE_KERNEL ctc_beta_grad(const LE_GLOBAL float *x, const LE_GLOBAL float *lse, int T, int N, int C,
                        int stride_t, int stride_n, int has_lse, const LE_GLOBAL int *targets,
                        const LE_GLOBAL int *target_offsets, const LE_GLOBAL int *target_lengths,
                        const LE_GLOBAL int *input_lengths, const LE_GLOBAL int *target_next,
                        int blank, int s_max, LE_GLOBAL float *alpha, const LE_GLOBAL float *loglik,
                        int reduction, int zero_infinity, int grad_mode, int has_grad,
                        LE_GLOBAL float *grad, LE_GLOBAL float *class_ws, LE_GLOBAL float *state_ws,
                        LE_GLOBAL float *loss_rows, LE_GLOBAL float *loglik_beta) {
    LE_LOCAL float shm[LE_BLOCK];
    LE_LOCAL float shs[LE_BLOCK];
    int n = LE_BID, tid = LE_TID;
    int active = n < N; /* no return before a barrier */
    int Tn = active ? min(max(input_lengths[n], 0), T) : 0;
    int Ln = active ? max(target_lengths[n], 0) : 0;
    int S = 2 * Ln + 1;
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
    LE_GLOBAL float *sw = state_ws + (LE_INDEX)n * s_max;

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
     * Without a gradient (or for an impossible sequence) only beta is
     * made: one barrier per step. Of the two loops one runs Tn times and
     * the other none, the same for the whole block: no barrier sits
     * inside a conditional (PoCL 3.1 crashed with the per-step barriers
     * in an if inside one time loop).
     */
    for (int t = grad_on ? -1 : Tn - 1; t >= 0; t--) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        float m = -LE_INF, ms = 0.0f;
        ctc_beta_step(x, row, sub, tg, blank, S, t == Tn - 1, S - 2 * (Tn - t), 2 * t + 1,
                      an + (LE_INDEX)t * s_max, s_max, 0, sw, &m, &ms);
        LE_SYNC_GLOBAL(); /* row t of beta is complete */
    }
    for (int t = grad_on ? Tn - 1 : -1; t >= 0; t--) {
        LE_INDEX row = ctc_row(t, n, stride_t, stride_n);
        float sub = has_lse ? lse[row / C] : 0.0f;
        float m = -LE_INF, ms = 0.0f; /* online log-sum-exp of the blank states' a + b */
        ctc_beta_step(x, row, sub, tg, blank, S, t == Tn - 1, S - 2 * (Tn - t), 2 * t + 1,
                      an + (LE_INDEX)t * s_max, s_max, 1, sw, &m, &ms);
        LE_SYNC_GLOBAL(); /* row t of beta and state_ws are complete */
        le_block_lse(shm, shs, &m, &ms);
        if (tid == 0) cw[blank] = le_lse_value(m, ms);
        for (int j = tid; j < Ln; j += LE_BLOCK) {
            if (sw[2 * j] != 0.0f) { /* first occurrence of its class */
                float acc = sw[2 * j + 1];
                for (int k = nx[j], p = j; k > p && k < Ln; p = k, k = nx[k])
                    acc = le_log_add_exp(acc, sw[2 * k + 1]);
                cw[tg[j]] = acc;
            }
        }
        LE_SYNC_GLOBAL(); /* class_ws is complete */
        for (int c = tid; c < C; c += LE_BLOCK) {
            float lc = cw[c];
            float lp = x[row + c] - sub;
            float occ = exp(lc - lp + nll);
            float e = soft ? exp(lp) : 0.0f;
            grad[row + c] = scale * (e - occ);
        }
    }

    if (active && tid == 0) {
        float llb = Ln == 0 ? 0.0f : -LE_INF;
        if (Tn > 0) {
            llb = an[0];
            if (S >= 2) llb = le_log_add_exp(llb, an[1]);
        }
        loglik_beta[n] = llb;
        loss_rows[n] = impossible && zero_infinity ? 0.0f
                       : reduction == LE_REDUCTION_MEAN ? nll / (float)max(Ln, 1) : nll;
    }
}
