/*
 * src/returns.h: the returns family. returns_scan computes returns and
 * advantages of time-major rollouts [T, B] (GAE, lambda-returns, n-step
 * bootstrapped returns) as a reverse scan over T, one thread per column
 * b, parallel over B (consecutive threads read consecutive columns of a
 * row: coalesced). td_loss computes the TD, Q-learning and double
 * Q-learning errors with their squared or Huber losses and the gradient
 * w.r.t. the predicted values. Host mirror (the specification):
 * host/returns.go. The one body of the family: kernels/cuda/returns.cu
 * and kernels/opencl/returns.cl include it after lemath.h.
 *
 * Grid of returns_scan: ceil(B / LE_BLOCK) blocks (thread t of block k
 * handles column k*LE_BLOCK + t; a thread past the last column does
 * nothing). Grid of td_loss: min(ceil(n / LE_BLOCK), MaxReduceBlocks)
 * blocks, grid-stride in chunks of LE_BLOCK as box_iou_loss.
 */
#ifndef LOSSENGINE_SRC_RETURNS_H
#define LOSSENGINE_SRC_RETURNS_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/returns.h"
#endif

/* returns_scan ops (kernelspec.Ret* in Go). */
#define LE_RET_GAE 0
#define LE_RET_LAMBDA 1
#define LE_RET_NSTEP 2

/* returns_scan flag bits (kernelspec.RetFlag* in Go). */
#define LE_RET_DISCOUNTS 1 /* disc is discount_t; else terminated (0/1): d = gamma (1 - terminated) */
#define LE_RET_TRUNCATED 2 /* GAE: read truncated and truncation_values */
#define LE_RET_BOOTSTRAP 4 /* GAE: read bootstrap_value */
#define LE_RET_OUT2 8      /* GAE: out2 = advantages + values */

/* td_loss ops (kernelspec.TD* in Go). */
#define LE_TD_TD 0
#define LE_TD_Q 1
#define LE_TD_DOUBLE_Q 2

/* td_loss flag bits (kernelspec.TDFlag* in Go). */
#define LE_TD_GRAD 1    /* write grad */
#define LE_TD_REDUCE 2  /* out gets one partial sum per block; else out[i] is sample i's loss */
#define LE_TD_OUT_TD 4  /* write td */
#define LE_TD_HUBER 8   /* Huber loss with delta; else 0.5 td^2 */
#define LE_TD_ACTIONS 16 /* read actions (Q ops) */
#define LE_TD_SELECTOR 32 /* read selector (double Q) */

/* le_ret_discount: the discount of step i (see LE_RET_DISCOUNTS). */
LE_FN float le_ret_discount(const LE_GLOBAL float *disc, LE_INDEX i, float gamma, int flags) {
    return (flags & LE_RET_DISCOUNTS) ? disc[i] : gamma * (1.0f - disc[i]);
}

/*
 * returns_scan (returnsScan): for column b < B, with d_t the discount of
 * step t (le_ret_discount) and x[t] = rewards etc. at t*B + b:
 *   LE_RET_GAE:    nv_t = values[t+1] (t < T-1), bootstrap[b] (t = T-1);
 *                  c_t = d_t lambda; where truncated[t] != 0 (with
 *                  LE_RET_TRUNCATED) nv_t = truncation_values[t], c_t = 0;
 *                  A_t = (r_t + d_t nv_t - v_t) + c_t A_{t+1}, A_T = 0;
 *                  out = A, out2 = A + values (LE_RET_OUT2).
 *   LE_RET_LAMBDA: G_t = r_t + d_t ((1 - lambda) v_t + lambda G_{t+1}),
 *                  G_T = v_{T-1} (values is v_t, the value of the state
 *                  after step t, as rlax.lambda_returns); out = G.
 *   LE_RET_NSTEP:  out[t] = g after g = v[min(t+n-1, T-1)] and, for k =
 *                  min(n, T-t)-1 down to 0, g = r_{t+k} + d_{t+k} ((1 -
 *                  lambda) v_{t+k} + lambda g) (rlax's padding past T
 *                  leaves g unchanged): a windowed loop, T min(n, T)
 *                  steps per column.
 * The carry and the step terms are le_real.
 */
LE_KERNEL returns_scan(int op, const LE_GLOBAL float *rewards, const LE_GLOBAL float *values,
                       const LE_GLOBAL float *bootstrap, const LE_GLOBAL float *disc,
                       const LE_GLOBAL float *truncated, const LE_GLOBAL float *truncation_values, int T, int B,
                       float gamma, float lambda, int n, int flags, LE_GLOBAL float *out, LE_GLOBAL float *out2) {
    int b = LE_BID * LE_BLOCK + LE_TID;
    int rows = b < B ? T : 0;
    if (op == LE_RET_NSTEP) {
        for (int t = 0; t < rows; t++) {
            int m = n < T - t ? n : T - t; /* steps inside the sequence, >= 1 */
            int last = t + m - 1;          /* min(t+n-1, T-1) */
            le_real g = values[(LE_INDEX)last * B + b];
            for (int k = m - 1; k >= 0; k--) {
                LE_INDEX i = (LE_INDEX)(t + k) * B + b;
                le_real d = le_ret_discount(disc, i, gamma, flags);
                g = (le_real)rewards[i] + d * ((le_real)(1.0f - lambda) * (le_real)values[i] + (le_real)lambda * g);
            }
            out[(LE_INDEX)t * B + b] = (float)g;
        }
        rows = 0; /* the scan below runs zero times */
    }
    le_real carry = 0.0f;
    float nv = 0.0f;
    if (rows > 0) {
        if (op == LE_RET_GAE) nv = bootstrap[b];
        else carry = values[(LE_INDEX)(T - 1) * B + b];
    }
    for (int t = rows - 1; t >= 0; t--) {
        LE_INDEX i = (LE_INDEX)t * B + b;
        float r = rewards[i], v = values[i];
        float d = le_ret_discount(disc, i, gamma, flags);
        if (op == LE_RET_GAE) {
            float c = d * lambda, bv = nv;
            if ((flags & LE_RET_TRUNCATED) && truncated[i] != 0.0f) {
                bv = truncation_values[i];
                c = 0.0f;
            }
            le_real delta = ((le_real)r + (le_real)d * (le_real)bv) - (le_real)v;
            carry = delta + (le_real)c * carry;
            out[i] = (float)carry;
            if (flags & LE_RET_OUT2) out2[i] = (float)(carry + (le_real)v);
            nv = v;
        } else {
            carry = (le_real)r + (le_real)d * ((le_real)(1.0f - lambda) * (le_real)v + (le_real)lambda * carry);
            out[i] = (float)carry;
        }
    }
}

/*
 * le_td_sample: the TD error of sample i for op (see tdLoss in
 * host/returns.go): delta = r + d * boot - q, with q = x_tm1[i] (TD) or
 * x_tm1[i*A + a] (Q ops; NaN for an action outside [0, A)) and boot =
 * x_t[i] (TD), max_k x_t[i*A + k] (Q, NaN propagating), x_t[i*A + k*]
 * with k* the first argmax of sel[i*A ..] (double Q, a NaN counting as
 * the maximum). *act is the action read (-1 for TD).
 */
LE_FN float le_td_sample(int op, const LE_GLOBAL float *x_tm1, const LE_GLOBAL int *actions,
                         const LE_GLOBAL float *r_t, const LE_GLOBAL float *d_t, const LE_GLOBAL float *x_t,
                         const LE_GLOBAL float *sel, LE_INDEX i, int A, int *act) {
    float q, boot;
    *act = -1;
    if (op == LE_TD_TD) {
        q = x_tm1[i];
        boot = x_t[i];
    } else {
        LE_INDEX row = i * A;
        int a = actions[i];
        *act = a;
        q = (a >= 0 && a < A) ? x_tm1[row + a] : LE_NAN;
        if (op == LE_TD_Q) {
            float m = A > 0 ? x_t[row] : LE_NAN;
            for (int k = 1; k < A; k++) {
                float x = x_t[row + k];
                if (m == m && !(x <= m)) m = x;
            }
            boot = m;
        } else {
            int best = 0;
            float bm = A > 0 ? sel[row] : LE_NAN;
            for (int k = 1; k < A; k++) {
                float s = sel[row + k];
                if (bm == bm && (s > bm || s != s)) {
                    best = k;
                    bm = s;
                }
            }
            boot = A > 0 ? x_t[row + best] : LE_NAN;
        }
    }
    return (r_t[i] + d_t[i] * boot) - q;
}

/*
 * td_loss (tdLoss): for i < n, delta = le_td_sample(...), the loss
 * l = 0.5 delta^2, or with LE_TD_HUBER the Huber loss 0.5 min(|delta|,
 * delta_h)^2 + delta_h (|delta| - min(|delta|, delta_h)) (rlax.huber_loss),
 * and g = dl/d delta (delta, or delta clamped to [-delta_h, delta_h]):
 *   grad[i] = -grad_scale g                      (TD, with LE_TD_GRAD)
 *   grad[i*A + k] = k == a ? -grad_scale g : 0   (Q ops, with LE_TD_GRAD)
 *   td[i] = delta                                (LE_TD_OUT_TD)
 *   out[i] = l, or out[block] = the block's sum of l in a fixed tree
 *   (LE_TD_REDUCE).
 */
LE_KERNEL td_loss(int op, const LE_GLOBAL float *x_tm1, const LE_GLOBAL int *actions, const LE_GLOBAL float *r_t,
                  const LE_GLOBAL float *d_t, const LE_GLOBAL float *x_t, const LE_GLOBAL float *sel, int n, int A,
                  float delta_h, float grad_scale, int flags, LE_GLOBAL float *grad, LE_GLOBAL float *td,
                  LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        int a;
        float delta = le_td_sample(op, x_tm1, actions, r_t, d_t, x_t, sel, i, A, &a);
        float l, g;
        if (flags & LE_TD_HUBER) {
            float z = fabs(delta), qd = fmin(z, delta_h);
            l = 0.5f * qd * qd + delta_h * (z - qd);
            g = delta <= -delta_h ? -delta_h : (delta >= delta_h ? delta_h : delta);
        } else {
            l = 0.5f * delta * delta;
            g = delta;
        }
        if (flags & LE_TD_GRAD) {
            if (op == LE_TD_TD) {
                grad[i] = -grad_scale * g;
            } else {
                for (int k = 0; k < A; k++) grad[i * A + k] = k == a ? -grad_scale * g : 0.0f;
            }
        }
        if (flags & LE_TD_OUT_TD) td[i] = delta;
        if (flags & LE_TD_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_TD_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

#endif /* LOSSENGINE_SRC_RETURNS_H */
