/*
 * src/rowloss.h: row-wise losses over an [n, c] matrix, one block of
 * LE_BLOCK threads per row: cross-entropy with probability targets,
 * nll_loss, softmax focal loss, multi_margin_loss, Keras'
 * categorical_hinge, the knowledge-distillation KL term and Poly-1. Host
 * mirrors (the specification): host/rowloss.go. The one body of the
 * family: kernels/cuda/rowloss.cu and kernels/opencl/rowloss.cl include it
 * after lemath.h.
 *
 * The softmax-based kernels merge each row's online state (max m, sum s
 * of exp(x - m)) themselves in a first pass (le_lse_push, le_block_lse)
 * and form log-probabilities as (x - m) - log(s), as PyTorch's float32
 * kernels do: never as x - L with L = m + log(s), which float32 rounds to
 * the spacing of m (6e-5 at logits near 1000, where a confident row's
 * log p_t is near -0.05). The batch reduction of loss_rows is reduce_sum
 * (src/reduce.h), and the mean's denominator of nll_rows and focal_rows
 * comes from cross_entropy_weight_sum (src/cross_entropy.h). Thread t
 * visits columns t, t + LE_BLOCK, ... of its row, and a row's sums are
 * added in the fixed trees of lemath.h, so every result is bitwise
 * reproducible. As lemath.h asks, no kernel with a barrier returns before
 * its last barrier: a block past the last row runs its loops zero times
 * and writes nothing.
 */
#ifndef LOSSENGINE_SRC_ROWLOSS_H
#define LOSSENGINE_SRC_ROWLOSS_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/rowloss.h"
#endif

/* rl_weight is w(k): weight[k] if has_weight, else 1. */
LE_FN float rl_weight(const LE_GLOBAL float *weight, int has_weight, LE_INDEX k) {
    return has_weight ? weight[k] : 1.0f;
}

/*
 * cross_entropy_prob_rows (crossEntropyProbRows): with m = max_k x[i,k],
 * s = sum_k exp(x[i,k] - m), nl_k = log(s) - (x[i,k] - m) (-log p_k),
 * eps = label_smoothing, y'_k = (1 - eps) y[i,k] + eps / c and
 * S = sum_k w(k) y'_k:
 *   loss_rows[i]     = sum_k w(k) y'_k nl_k
 *   grad[i,k]        = grad_scale (exp(x[i,k] - m) (S / s) - w(k) y'_k)
 *   grad_target[i,k] = grad_scale (1 - eps) w(k) nl_k
 * Pass 1 merges the threads' online (max, sum) and adds S (with the
 * gradient only) in fixed trees; in pass 2 each element is read and then
 * written by the same thread, so grad may be x and grad_target may be y.
 */
LE_KERNEL cross_entropy_prob_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *y, const LE_GLOBAL float *weight,
                                  int n, int c, int has_weight, float label_smoothing, float grad_scale,
                                  int has_grad, LE_GLOBAL float *grad, int has_grad_target,
                                  LE_GLOBAL float *grad_target, LE_GLOBAL float *loss_rows) {
    LE_LOCAL float shm[LE_BLOCK], shs[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    float keep = 1.0f - label_smoothing, u = label_smoothing / (float)c;
    int nc = active ? c : 0;
    /* Pass 1: the row's (max, sum) and, for the gradient, S. */
    float m = -LE_INF, s = 0.0f, acc = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        le_lse_push(&m, &s, x[o + k]);
        if (has_grad) acc += rl_weight(weight, has_weight, k) * (keep * y[o + k] + u);
    }
    le_block_lse(shm, shs, &m, &s);
    float S = le_block_sum(shm, acc);
    float ls = log(s), r = S / s;
    /* Pass 2: the loss terms and the gradients. */
    acc = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float xv = x[o + k], yv = y[o + k];
        float w = rl_weight(weight, has_weight, k);
        float d = xv - m;
        float nl = ls - d; /* -log p_k */
        float wy = w * (keep * yv + u);
        acc += wy * nl;
        if (has_grad) grad[o + k] = grad_scale * (exp(d) * r - wy);
        if (has_grad_target) grad_target[o + k] = grad_scale * keep * w * nl;
    }
    float l = le_block_sum(shm, acc);
    if (active && LE_TID == 0) loss_rows[i] = l;
}

/*
 * nll_rows (nllRows): x holds log-probabilities. For row i with target t:
 *   loss_rows[i] = -w(t) x[i,t]
 *   grad[i,k]    = -w(t) [k == t] / denom[1]
 * An ignored row (t == ignore_index) gets loss 0 and a zero gradient
 * row; a target outside [0, c) that is not ignore_index gets a NaN loss
 * and a NaN gradient row. The thread that owns column t reads x[i,t]
 * before it writes grad[i,t], and no other thread writes that element, so
 * grad may be x. No barriers.
 */
LE_KERNEL nll_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *weight, int n,
                   int c, int has_weight, int ignore_index, const LE_GLOBAL float *denom, int has_grad,
                   LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows) {
    int i = LE_BID;
    if (i >= n) return;
    LE_INDEX o = (LE_INDEX)i * c;
    int t = target[i];
    int ignored = t == ignore_index;
    int valid = !ignored && t >= 0 && t < c;
    float wt = valid ? rl_weight(weight, has_weight, t) : 0.0f;
    if (!valid && LE_TID == 0) loss_rows[i] = ignored ? 0.0f : LE_NAN;
    if (valid && LE_TID == t % LE_BLOCK) loss_rows[i] = -wt * x[o + t];
    if (!has_grad) return;
    float g = ignored ? 0.0f : valid ? -wt / denom[1] : LE_NAN;
    float z = valid ? 0.0f : g;
    for (LE_INDEX k = LE_TID; k < c; k += LE_BLOCK) grad[o + k] = k == t ? g : z;
}

/*
 * focal_rows (focalRows): softmax focal loss. For row i with target t,
 * m = max_k x[i,k], s = sum_k exp(x[i,k] - m), lp = (x[i,t] - m) - log(s)
 * (log p_t; not x[i,t] - L with L = m + log(s), which is rounded to the
 * spacing of m, far coarser than a confident row's log p_t),
 * q = -expm1(lp) (1 - p_t, and 0 if that is negative), a = w(t) (alpha),
 * g = gamma:
 *   loss_rows[i] = -a q^g lp
 *   D            = -a (q^g - g p_t lp q^(g-1))     (d loss / d lp; the
 *                  second term is 0 when g == 0 or q == 0, its limit)
 *   grad[i,k]    = D ([k == t] - p_k) / denom[1],  p_k = exp(x[i,k] - m) / s
 * with [k == t] - p_k computed as q at k == t. Ignored rows: loss 0 and
 * a zero gradient row (their logits are not read); a target outside
 * [0, c) that is not ignore_index: NaN loss and gradient row. Pass 1
 * merges the threads' online (max, sum) in a fixed tree; thread 0 then
 * computes the row's scalars (it alone reads x[i,t]) and hands q and D to
 * the block through work-group memory; the gradient is written after that
 * barrier, so grad may be x.
 */
LE_KERNEL focal_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *alpha,
                     int n, int c, int has_alpha, int ignore_index, float gamma,
                     const LE_GLOBAL float *denom, int has_grad, LE_GLOBAL float *grad,
                     LE_GLOBAL float *loss_rows) {
    LE_LOCAL float shm[LE_BLOCK], shs[LE_BLOCK];
    LE_LOCAL float shv[2];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    int t = active ? target[i] : ignore_index;
    int ignored = t == ignore_index;
    int valid = !ignored && t >= 0 && t < c;
    int nc = active && valid ? c : 0;
    float m = -LE_INF, s = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) le_lse_push(&m, &s, x[o + k]);
    le_block_lse(shm, shs, &m, &s);
    if (LE_TID == 0) { /* the row's scalars, once */
        float lp = valid ? (x[o + t] - m) - log(s) : LE_NAN;
        float a = valid ? rl_weight(alpha, has_alpha, t) : LE_NAN;
        float q = -expm1(lp);
        if (q < 0.0f) q = 0.0f;
        float qg = pow(q, gamma);
        float d2 = gamma != 0.0f && q != 0.0f ? gamma * exp(lp) * lp * pow(q, gamma - 1.0f) : 0.0f;
        shv[0] = q;
        shv[1] = -a * (qg - d2); /* D */
        if (active) loss_rows[i] = ignored ? 0.0f : -a * qg * lp;
    }
    LE_SYNC_GLOBAL(); /* x[i,t] is read before anyone writes grad */
    float q = shv[0];
    float f = shv[1] / denom[1];
    float ps = f / s; /* f p_k = exp(x[i,k] - m) f / s */
    int ng = active && has_grad ? c : 0;
    for (LE_INDEX k = LE_TID; k < ng; k += LE_BLOCK)
        grad[o + k] = ignored ? 0.0f : k == t ? f * q : -ps * exp(x[o + k] - m);
}

/*
 * multi_margin_rows (multiMarginRows): for row i with target t,
 * z_j = margin - x[i,t] + x[i,j] and f = w(t) / c:
 *   loss_rows[i] = f sum_{j != t, z_j > 0} z_j^p
 *   grad[i,j]    = grad_scale f p z_j^(p-1)   for j != t with z_j > 0,
 *                  else 0 (j != t)
 *   grad[i,t]    = -sum_{j != t} grad[i,j]
 * p is 1 or 2. A target outside [0, c) gives a NaN loss and gradient row.
 * All threads read x[i,t] first; column t is written by thread 0 after
 * the block's sums, and every other element is read and then written by
 * one thread, so grad may be x.
 */
LE_KERNEL multi_margin_rows(const LE_GLOBAL float *x, const LE_GLOBAL int *target, const LE_GLOBAL float *weight,
                            int n, int c, int has_weight, int p, float margin, float grad_scale, int has_grad,
                            LE_GLOBAL float *grad, LE_GLOBAL float *loss_rows) {
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    int t = active ? target[i] : 0;
    int valid = active && t >= 0 && t < c;
    float xt = valid ? x[o + t] : LE_NAN;
    float f = valid ? rl_weight(weight, has_weight, t) / (float)c : LE_NAN;
    float gs = grad_scale * f;
    int nc = active ? c : 0;
    float acc = 0.0f, gsum = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        if (k == t) continue;
        float z = margin - xt + x[o + k];
        float h = 0.0f, g = 0.0f;
        if (z > 0.0f) {
            h = p == 1 ? z : z * z;
            g = p == 1 ? gs : gs * 2.0f * z;
        }
        acc += h;
        gsum += g;
        if (has_grad) grad[o + k] = valid ? g : LE_NAN;
    }
    float l = le_block_sum(sh, acc);
    float gt = le_block_sum(sh, gsum);
    if (active && LE_TID == 0) {
        loss_rows[i] = valid ? f * l : LE_NAN;
        if (has_grad && valid) grad[o + t] = -gt;
    }
}

/*
 * categorical_hinge_rows (categoricalHingeRows): Keras'
 * categorical_hinge. For row i, pos = sum_k y[i,k] x[i,k],
 * v_k = (1 - y[i,k]) x[i,k], neg = max_k v_k, m = the number of k with
 * v_k == neg, d = neg - pos + 1:
 *   loss_rows[i] = max(0, d)             (NaN if d is NaN)
 *   grad[i,k]    = grad_scale ((1 - y[i,k]) [v_k == neg] / m - y[i,k])
 *                  if d >= 0, else 0; a NaN row if d is NaN
 * The maximum's gradient is shared evenly among ties (as TensorFlow's
 * reduce_max and torch.amax do), and at d == 0 the gradient passes (as
 * TensorFlow's maximum does). Each thread keeps its own maximum and how
 * many of its v_k equal it; m adds the counts of the threads whose
 * maximum is the row's. grad may be x.
 */
LE_KERNEL categorical_hinge_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *y, int n, int c,
                                 float grad_scale, int has_grad, LE_GLOBAL float *grad,
                                 LE_GLOBAL float *loss_rows) {
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    int nc = active ? c : 0;
    float pos = 0.0f, lm = -LE_INF, lc = 0.0f;
    int nan = 0;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float xv = x[o + k], yv = y[o + k];
        pos += yv * xv;
        float v = (1.0f - yv) * xv;
        nan |= v != v;
        lc = v > lm ? 1.0f : v == lm ? lc + 1.0f : lc; /* false for NaN */
        lm = v > lm ? v : lm;
    }
    if (nan) lm = LE_NAN;
    pos = le_block_sum(sh, pos);
    float neg = le_block_max(sh, lm);
    float m = le_block_sum(sh, lm == neg ? lc : 0.0f);
    float d = neg - pos + 1.0f;
    if (active && LE_TID == 0) loss_rows[i] = d != d ? LE_NAN : d > 0.0f ? d : 0.0f;
    int ng = active && has_grad ? c : 0;
    float inv = 1.0f / m;
    for (LE_INDEX k = LE_TID; k < ng; k += LE_BLOCK) {
        float xv = x[o + k], yv = y[o + k];
        float v = (1.0f - yv) * xv;
        float g = 0.0f;
        if (d != d) {
            g = LE_NAN;
        } else if (d >= 0.0f) {
            g = grad_scale * ((v == neg ? (1.0f - yv) * inv : 0.0f) - yv);
        }
        grad[o + k] = g;
    }
}

/*
 * distill_kl_rows (distillKLRows): knowledge distillation, KL(teacher ||
 * student) of the temperature-scaled softmaxes. With a_k = s[i,k] inv_tau
 * and b_k = t[i,k] inv_tau (rounded to float), m_s = max_k a_k,
 * S_s = sum_k exp(a_k - m_s), m_t and S_t likewise for b,
 * zs_k = (a_k - m_s) - log(S_s), zt_k = (b_k - m_t) - log(S_t)
 * (log-probabilities) and q_k = exp(b_k - m_t) (1 / S_t):
 *   loss_rows[i] = loss_scale sum_k q_k (zt_k - zs_k)   (a term with
 *                  q_k == 0 counts 0)
 *   grad[i,k]    = grad_scale (exp(a_k - m_s) (1 / S_s) - q_k)
 * The caller passes loss_scale = tau^2 and grad_scale = tau^2 inv_tau
 * times the reduction's factor. Pass 1 merges the threads' online (max,
 * sum) of both rows in fixed trees; in pass 2 each element of s is read
 * and then written by the same thread, so grad may be s.
 */
LE_KERNEL distill_kl_rows(const LE_GLOBAL float *s, const LE_GLOBAL float *t, int n, int c, float inv_tau,
                          float loss_scale, float grad_scale, int has_grad, LE_GLOBAL float *grad,
                          LE_GLOBAL float *loss_rows) {
    LE_LOCAL float shm[LE_BLOCK], shs[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    int nc = active ? c : 0;
    /* Pass 1: (max, sum) of the student's and of the teacher's row. */
    float ms = -LE_INF, ss = 0.0f, mt = -LE_INF, st = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        le_lse_push(&ms, &ss, s[o + k] * inv_tau);
        le_lse_push(&mt, &st, t[o + k] * inv_tau);
    }
    le_block_lse(shm, shs, &ms, &ss);
    le_block_lse(shm, shs, &mt, &st);
    float lss = log(ss), lst = log(st), rs = 1.0f / ss, rt = 1.0f / st;
    /* Pass 2: the loss terms and the gradient. */
    float acc = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float ds = s[o + k] * inv_tau - ms;
        float dt = t[o + k] * inv_tau - mt;
        float q = exp(dt) * rt;
        acc += q == 0.0f ? 0.0f : q * ((dt - lst) - (ds - lss));
        if (has_grad) grad[o + k] = grad_scale * (exp(ds) * rs - q);
    }
    float l = le_block_sum(shm, acc);
    if (active && LE_TID == 0) loss_rows[i] = loss_scale * l;
}

/*
 * poly_cross_entropy_rows (polyCrossEntropyRows): the Poly-1 loss of Leng
 * et al. (2022), Optax's poly_loss_cross_entropy, over logits x [n, c] and
 * label distributions y [n, c]. For row i with m = max_k x[i,k],
 * s = sum_k exp(x[i,k] - m), z_k = (x[i,k] - m) - log(s) (log p_k),
 * p_k = exp(z_k), q_k = 1 - p_k = -expm1(z_k) (no cancellation for a
 * confident class), Y = sum_k y[i,k] and S = sum_k y[i,k] p_k:
 *   loss_rows[i]     = -sum_k y[i,k] z_k + epsilon sum_k y[i,k] q_k
 *   grad[i,k]        = grad_scale (p_k (Y + epsilon (S - y[i,k])) - y[i,k])
 *   grad_target[i,k] = grad_scale (-z_k + epsilon q_k)
 * Pass 1 merges the threads' online (max, sum) in a fixed tree; pass 2
 * adds the four row sums per thread, then in two fixed trees. grad may be
 * x and grad_target may be y: every element is read in passes 1 and 2,
 * and read then written by one thread in pass 3, after the block's sums.
 */
LE_KERNEL poly_cross_entropy_rows(const LE_GLOBAL float *x, const LE_GLOBAL float *y, int n, int c,
                                  float epsilon, float grad_scale, int has_grad, LE_GLOBAL float *grad,
                                  int has_grad_target, LE_GLOBAL float *grad_target,
                                  LE_GLOBAL float *loss_rows) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int i = LE_BID;
    int active = i < n;
    LE_INDEX o = (LE_INDEX)i * c;
    int nc = active ? c : 0;
    float m = -LE_INF, s = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) le_lse_push(&m, &s, x[o + k]);
    le_block_lse(sha, shb, &m, &s);
    float ls = log(s);
    float ce = 0.0f, poly = 0.0f, Y = 0.0f, S = 0.0f;
    for (LE_INDEX k = LE_TID; k < nc; k += LE_BLOCK) {
        float z = (x[o + k] - m) - ls, yv = y[o + k];
        ce -= yv * z;
        poly -= yv * expm1(z);
        Y += yv;
        S += yv * exp(z);
    }
    le_block_sum2(sha, shb, &ce, &poly);
    le_block_sum2(sha, shb, &Y, &S);
    if (active && LE_TID == 0) loss_rows[i] = ce + epsilon * poly;
    int ng = active && (has_grad || has_grad_target) ? c : 0;
    for (LE_INDEX k = LE_TID; k < ng; k += LE_BLOCK) {
        float z = (x[o + k] - m) - ls, yv = y[o + k];
        if (has_grad) grad[o + k] = grad_scale * (exp(z) * (Y + epsilon * (S - yv)) - yv);
        if (has_grad_target) grad_target[o + k] = grad_scale * (-z - epsilon * expm1(z));
    }
}

/*
 * scale_rows (scaleRows): per-sample weights and a mask on a row-wise loss
 * already computed, one block per row i < n. With keep = mask[i] != 0 (1
 * without LE_ROWS_MASK), w = sample_weight[i] (1 without LE_ROWS_WEIGHT)
 * and g = w * (num / denom[0]) (w without LE_ROWS_DENOM):
 *   loss_rows[i]       = keep ? w * loss_rows[i] : 0
 *   grad[i, j]         = keep ? g * grad[i, j] : 0         if LE_ROWS_GRAD
 *   grad_target[i, j]  = keep ? g * grad_target[i, j] : 0  if LE_ROWS_GRAD_TARGET
 * for j < c. A masked-out row gets exact zeros even where it held NaN.
 */
LE_KERNEL scale_rows(LE_GLOBAL float *loss_rows, LE_GLOBAL float *grad, LE_GLOBAL float *grad_target,
                     int n, int c, const LE_GLOBAL float *sample_weight, const LE_GLOBAL int *mask,
                     int flags, float num, const LE_GLOBAL float *denom) {
    int i = LE_BID;
    int cols = i < n ? c : 0; /* no return before a barrier */
    int keep = 1;
    float w = 1.0f, g;
    if (i < n) {
        if (flags & LE_ROWS_MASK) keep = mask[i] != 0;
        if (flags & LE_ROWS_WEIGHT) w = sample_weight[i];
    }
    g = w;
    if (flags & LE_ROWS_DENOM) g = w * (num / denom[0]);
    LE_INDEX base = (LE_INDEX)i * c;
    for (int j = LE_TID; j < cols; j += LE_BLOCK) {
        if (flags & LE_ROWS_GRAD) grad[base + j] = keep ? g * grad[base + j] : 0.0f;
        if (flags & LE_ROWS_GRAD_TARGET) grad_target[base + j] = keep ? g * grad_target[base + j] : 0.0f;
    }
    if (LE_TID == 0 && i < n) loss_rows[i] = keep ? w * loss_rows[i] : 0.0f;
}

/*
 * mask_targets (maskTargets): out[i] = mask[i] != 0 ? target[i] :
 * ignore_index for i < n (grid-stride), so that a loss with ignore_index
 * drops the masked-out rows from its value, gradient and mean.
 */
LE_KERNEL mask_targets(const LE_GLOBAL int *target, const LE_GLOBAL int *mask, int n, int ignore_index,
                       LE_GLOBAL int *out) {
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride)
        out[i] = mask[i] != 0 ? target[i] : ignore_index;
}

#endif /* LOSSENGINE_SRC_ROWLOSS_H */
