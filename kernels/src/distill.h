/*
 * src/distill.h: the distillation and preference losses of language
 * models: the generalised Jensen-Shannon divergence of Liger-Kernel
 * (jsd_rows), the per-sequence log-probability of target tokens of TRL's
 * trainers (seq_log_probs_*) and the DPO loss of Rafailov et al. with
 * TRL's loss types (dpo_loss_elems), each with its gradients.
 * Host mirror (the specification): host/distill.go. The one body of the
 * family: kernels/cuda/distill.cu and kernels/opencl/distill.cl include it
 * after lemath.h.
 */
#ifndef LOSSENGINE_SRC_DISTILL_H
#define LOSSENGINE_SRC_DISTILL_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/distill.h"
#endif

/* jsd_rows flag bits (kernelspec.DstJSD* in Go). */
#define LE_DST_JSD_LABELS 1
#define LE_DST_JSD_DENOM 2
#define LE_DST_JSD_GRAD_INPUT 4
#define LE_DST_JSD_GRAD_TARGET 8

/* DPO loss types (kernelspec.DstDPO* in Go). */
#define LE_DST_DPO_SIGMOID 0
#define LE_DST_DPO_HINGE 1
#define LE_DST_DPO_IPO 2

/* dpo_loss_elems flag bits (kernelspec.DstDPOFlag* in Go). */
#define LE_DST_DPO_GRAD_CHOSEN 1
#define LE_DST_DPO_GRAD_REJECTED 2
#define LE_DST_DPO_REDUCE 4
#define LE_DST_DPO_REWARDS 8

/*
 * jsd_count_valid (jsdCountValid): one block; out[0] = the number of
 * i < n with labels[i] != ignore_index, as a float (the divisor of the
 * mean over non-ignored rows). Integer sums in a fixed tree.
 */
LE_KERNEL jsd_count_valid(const LE_GLOBAL int *labels, int n, int ignore_index, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    int nb = LE_BID == 0 ? n : 0;
    int cnt = 0;
    for (int i = LE_TID; i < nb; i += LE_BLOCK) cnt += labels[i] != ignore_index ? 1 : 0;
    float s = le_block_sum(sh, (float)cnt);
    if (LE_BID == 0 && LE_TID == 0) out[0] = s;
}

/*
 * dst_log_m: log M for M = beta P + (1 - beta) Q, P = exp(Y), Q = exp(X),
 * lb = log(beta), l1b = log(1 - beta): log(M), a sum of two non-negative
 * terms (no cancellation), where M > 1e-30; below, where P and Q may have
 * lost their precision to underflow (saturated logits), the log-add-exp
 * form log_add_exp(lb + Y, l1b + X), finite for any finite X and Y.
 */
LE_FN float dst_log_m(float X, float Y, float P, float Q, float beta, float lb, float l1b) {
    float M = beta * P + (1.0f - beta) * Q;
    return M > 1e-30f ? log(M) : le_log_add_exp(lb + Y, l1b + X);
}

/*
 * jsd_rows (jsdRows): the generalised Jensen-Shannon divergence of
 * Liger-Kernel per row, between the student's log-probabilities
 * X_k = log_softmax(x[i,:] inv_tau)_k (Q = exp X) and the teacher's
 * Y_k = log_softmax(y[i,:] inv_tau)_k (P = exp Y). With a_k = x inv_tau,
 * b_k = y inv_tau (rounded to float), row maxima m_x, m_y and sums
 * S_x = sum_k exp(a_k - m_x), S_y likewise, X_k = (a_k - m_x) - log S_x,
 * Y_k = (b_k - m_y) - log S_y, and
 *   log M_k = X_k (beta == 0), Y_k (beta == 1), else
 *             dst_log_m(X_k, Y_k, P_k, Q_k, ...) = log(beta P_k + (1 - beta) Q_k)
 *   A = sum_k P_k (Y_k - log M_k),  B = sum_k Q_k (X_k - log M_k)
 * (terms with P_k == 0, resp. Q_k == 0, count 0):
 *   loss_rows[i] = A (beta == 0: KL(P||Q)), B (beta == 1: KL(Q||P)),
 *                  beta A + (1 - beta) B (else)
 *   grad_input[i,k]  = g (Q_k - P_k)                            beta == 0
 *                      g Q_k ((X_k - Y_k) - B)                  beta == 1
 *                      g (1 - beta) Q_k ((X_k - log M_k) - B)   else
 *   grad_target[i,k] = g P_k ((Y_k - X_k) - A)                  beta == 0
 *                      g (P_k - Q_k)                            beta == 1
 *                      g beta P_k ((Y_k - log M_k) - A)         else
 * with g = grad_scale / denom[0] (grad_scale alone without
 * LE_DST_JSD_DENOM; the caller folds inv_tau into grad_scale). A row with
 * LE_DST_JSD_LABELS and labels[i] == ignore_index has loss 0 and zero
 * gradients. Pass 1 merges the threads' online (max, sum) of both rows in
 * fixed trees, pass 2 adds A and B per thread and then in one fixed tree,
 * pass 3 writes the gradients.
 */
LE_KERNEL jsd_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *y, const LE_GLOBAL int *labels, int n, int c,
                   float inv_tau, float beta, int ignore_index, float grad_scale, const LE_GLOBAL float *denom,
                   int flags, LE_GLOBAL float *grad_input, LE_GLOBAL float *grad_target,
                   LE_GLOBAL float *loss_rows) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    int keep = active && (!(flags & LE_DST_JSD_LABELS) || labels[i] != ignore_index);
    LE_INDEX o = (LE_INDEX)i * c;
    int nc = keep ? c : 0;
    int gin = flags & LE_DST_JSD_GRAD_INPUT, gtg = flags & LE_DST_JSD_GRAD_TARGET;
    /* Pass 1: (max, sum) of the student's and of the teacher's row. */
    float mx = -LE_INF, sx = 0.0f, my = -LE_INF, sy = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        le_lse_push(&mx, &sx, x[o + k] * inv_tau);
        le_lse_push(&my, &sy, y[o + k] * inv_tau);
    }
    le_block_lse(sha, shb, &mx, &sx);
    le_block_lse(sha, shb, &my, &sy);
    float lsx = log(sx), lsy = log(sy);
    int fwd = beta == 0.0f, rev = beta == 1.0f;
    float lb = log(beta), l1b = log(1.0f - beta);
    /* Pass 2: A and B. */
    float A = 0.0f, B = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float X = (x[o + k] * inv_tau - mx) - lsx;
        float Y = (y[o + k] * inv_tau - my) - lsy;
        float Q = exp(X), P = exp(Y);
        float lm = fwd ? X : (rev ? Y : dst_log_m(X, Y, P, Q, beta, lb, l1b));
        A += P == 0.0f ? 0.0f : P * (Y - lm);
        B += Q == 0.0f ? 0.0f : Q * (X - lm);
    }
    le_block_sum2(sha, shb, &A, &B);
    float g = grad_scale;
    if (flags & LE_DST_JSD_DENOM) g = grad_scale / denom[0];
    /* Pass 3: the gradients (zero on an ignored row). */
    int ng = active && (gin || gtg) ? c : 0;
    for (LE_INDEX k = LE_TID; k < ng; k += LE_BLOCK) {
        float di = 0.0f, dt = 0.0f;
        if (keep) {
            float X = (x[o + k] * inv_tau - mx) - lsx;
            float Y = (y[o + k] * inv_tau - my) - lsy;
            float Q = exp(X), P = exp(Y);
            if (fwd) {
                di = g * (Q - P);
                dt = g * (P * ((Y - X) - A));
            } else if (rev) {
                di = g * (Q * ((X - Y) - B));
                dt = g * (P - Q);
            } else {
                float lm = dst_log_m(X, Y, P, Q, beta, lb, l1b);
                di = g * ((1.0f - beta) * (Q * ((X - lm) - B)));
                dt = g * (beta * (P * ((Y - lm) - A)));
            }
        }
        if (gin) grad_input[o + k] = di;
        if (gtg) grad_target[o + k] = dt;
    }
    float l = fwd ? A : (rev ? B : beta * A + (1.0f - beta) * B);
    if (active && LE_TID == 0) loss_rows[i] = keep ? l : 0.0f;
}

/*
 * dst_keep: whether token r of a [b, t] batch counts: target[r] is not
 * ignore_index and, with has_mask, mask[r] != 0.
 */
LE_FN int dst_keep(const LE_GLOBAL int *target, const LE_GLOBAL int *mask, LE_INDEX r, int has_mask,
                   int ignore_index) {
    return target[r] != ignore_index && (!has_mask || mask[r] != 0);
}

/*
 * seq_log_probs_scale (seqLogProbsScale): one block per sequence s < b
 * over its t tokens: with cnt = the number of tokens r = s t + j that
 * count (dst_keep) and g = grad_output[s] (1 without has_grad_output):
 *   count[s] = cnt (as a float)
 *   scale[s] = average ? g / cnt : g
 * (the factor of the gradient rows of sequence s). Integer sums in a
 * fixed tree.
 */
LE_KERNEL seq_log_probs_scale(const LE_GLOBAL int *target, const LE_GLOBAL int *mask, int b, int t,
                              int has_mask, int ignore_index, int average, int has_grad_output,
                              const LE_GLOBAL float *grad_output, LE_GLOBAL float *scale,
                              LE_GLOBAL float *count) {
    LE_LOCAL float sh[LE_BLOCK];
    int s = LE_BID;
    int active = s < b;
    int nt = active ? t : 0;
    LE_INDEX o = (LE_INDEX)s * t;
    int cnt = 0;
    for (int j = LE_TID; j < nt; j += LE_BLOCK) cnt += dst_keep(target, mask, o + j, has_mask, ignore_index);
    float c = le_block_sum(sh, (float)cnt);
    if (active && LE_TID == 0) {
        float g = has_grad_output ? grad_output[s] : 1.0f;
        count[s] = c;
        scale[s] = average ? g / c : g;
    }
}

/*
 * seq_log_probs_rows (seqLogProbsRows): one block per token row r < b t
 * of logits x [b t, v], sequence s = r / t. With m = max_k x[r,k],
 * S = sum_k exp(x[r,k] - m), y = target[r] and
 * lp = (x[r,y] - m) - log S (the token's log-probability):
 *   tok[r]    = dst_keep(r) ? lp : 0
 *   grad[r,k] = dst_keep(r) ? scale[s] (onehot_k - p_k) : 0   (has_grad)
 * where p_k = exp(x[r,k] - m) / S and, at k == y, 1 - p_y is formed as
 * -expm1(lp) (no cancellation on a confident row). Pass 1 merges the
 * threads' online (max, sum) in a fixed tree; after a barrier (every
 * thread has read x[r,y]) each element of x is read and then written by
 * the same thread in pass 2, so grad may be x.
 */
LE_KERNEL seq_log_probs_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL int *mask,
                             int b, int t, int v, int has_mask, int ignore_index, const LE_GLOBAL float *scale,
                             int has_grad, LE_GLOBAL float *grad, LE_GLOBAL float *tok) {
    LE_LOCAL float shm[LE_BLOCK], shs[LE_BLOCK];
    int r = LE_BID;
    int active = r < b * t;
    int keep = active && dst_keep(target, mask, r, has_mask, ignore_index);
    LE_INDEX o = (LE_INDEX)r * v;
    int nv = keep ? v : 0;
    float m = -LE_INF, s = 0.0f;
    for (LE_INDEX k = LE_TID; k < nv; k += LE_BLOCK) le_lse_push(&m, &s, x[o + k]);
    le_block_lse(shm, shs, &m, &s);
    int y = keep ? target[r] : 0;
    float ls = log(s);
    float lp = keep ? (x[o + y] - m) - ls : 0.0f;
    LE_SYNC_GLOBAL(); /* every thread has read x[o + y] before grad (maybe x) is written */
    float g = keep ? scale[r / t] : 0.0f;
    float rs = 1.0f / s;
    int ng = active && has_grad ? v : 0;
    for (LE_INDEX k = LE_TID; k < ng; k += LE_BLOCK) {
        float d = 0.0f;
        if (keep) d = k == y ? g * -expm1(lp) : -g * (exp(x[o + k] - m) * rs);
        grad[o + k] = d;
    }
    if (active && LE_TID == 0) tok[r] = lp;
}

/*
 * seq_log_probs_sum (seqLogProbsSum): one block per sequence s < b:
 *   out[s] = (sum_{j<t} tok[s t + j]) / (average ? count[s] : 1)
 * added per thread in order and then in a fixed tree (0 / 0 = NaN for a
 * sequence with no counted token and average, as TRL's).
 */
LE_KERNEL seq_log_probs_sum(const LE_GLOBAL float *tok, int b, int t, int average, const LE_GLOBAL float *count,
                            LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    int s = LE_BID;
    int active = s < b;
    int nt = active ? t : 0;
    LE_INDEX o = (LE_INDEX)s * t;
    float acc = 0.0f;
    for (int j = LE_TID; j < nt; j += LE_BLOCK) acc += tok[o + j];
    float v = le_block_sum(sh, acc);
    if (active && LE_TID == 0) out[s] = average ? v / count[s] : v;
}

/*
 * dst_dpo: the DPO loss of one pair for loss type op, with h the margin
 * (pc - pr) - (rc - rr), as TRL's DPOTrainer defines it:
 *   sigmoid: (1 - ls) softplus(-beta h) + ls softplus(beta h)
 *   hinge:   max(0, 1 - beta h)
 *   ipo:     (h - 1 / (2 beta))^2
 * and *dh = its derivative w.r.t. h (hinge: -beta where 1 - beta h > 0,
 * else 0).
 */
LE_FN float dst_dpo(int op, float h, float beta, float ls, float *dh) {
    if (op == LE_DST_DPO_HINGE) {
        float u = 1.0f - beta * h;
        *dh = u > 0.0f ? -beta : (u != u ? u : 0.0f);
        return u > 0.0f ? u : (u != u ? u : 0.0f);
    }
    if (op == LE_DST_DPO_IPO) {
        float d = h - 1.0f / (2.0f * beta);
        *dh = 2.0f * d;
        return d * d;
    }
    float z = beta * h;
    *dh = beta * (ls * le_sigmoid(z) - (1.0f - ls) * le_sigmoid(-z));
    return (1.0f - ls) * le_softplus(-z) + ls * le_softplus(z);
}

/*
 * dpo_loss_elems (dpoLossElems): for i < n, with
 * h = (pc[i] - pr[i]) - (rc[i] - rr[i]) and (l, dh) = dst_dpo(op, h, ...):
 *   grad_chosen[i]      = grad_scale dh        if flags & GRAD_CHOSEN
 *   grad_rejected[i]    = -grad_scale dh       if flags & GRAD_REJECTED
 *   chosen_rewards[i]   = beta (pc[i] - rc[i]) if flags & REWARDS
 *   rejected_rewards[i] = beta (pr[i] - rr[i]) if flags & REWARDS
 *   out[i]              = l                    unless flags & REDUCE
 *   out[blk]            = sum of l over block blk's elements, per thread
 *                         in order and then in a fixed tree, with REDUCE
 * Grid-stride in chunks of LE_BLOCK as box_iou_loss.
 */
LE_KERNEL dpo_loss_elems(int op, const LE_GLOBAL float *pc, const LE_GLOBAL float *pr, const LE_GLOBAL float *rc,
                         const LE_GLOBAL float *rr, int n, float beta, float label_smoothing, float grad_scale,
                         int flags, LE_GLOBAL float *grad_chosen, LE_GLOBAL float *grad_rejected,
                         LE_GLOBAL float *chosen_rewards, LE_GLOBAL float *rejected_rewards,
                         LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float a = pc[i], b = pr[i], ca = rc[i], cb = rr[i];
        float h = (a - b) - (ca - cb);
        float dh;
        float l = dst_dpo(op, h, beta, label_smoothing, &dh);
        if (flags & LE_DST_DPO_GRAD_CHOSEN) grad_chosen[i] = grad_scale * dh;
        if (flags & LE_DST_DPO_GRAD_REJECTED) grad_rejected[i] = -(grad_scale * dh);
        if (flags & LE_DST_DPO_REWARDS) {
            chosen_rewards[i] = beta * (a - ca);
            rejected_rewards[i] = beta * (b - cb);
        }
        if (flags & LE_DST_DPO_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_DST_DPO_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

#endif /* LOSSENGINE_SRC_DISTILL_H */
