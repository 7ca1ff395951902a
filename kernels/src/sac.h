/*
 * src/sac.h: the sac family, the losses of soft actor-critic (CleanRL's
 * sac_atari and sac_continuous_action): the discrete actor loss, critic
 * target and temperature losses (sac_rows), and the continuous actor loss
 * with the reparameterised, tanh-squashed Gaussian policy
 * (sac_continuous_actor). Host mirror (the specification): host/sac.go.
 * The one body of the family: kernels/cuda/sac.cu and
 * kernels/opencl/sac.cl include it after lemath.h.
 *
 * Both kernels take one thread per row (sample) of [n, A], grid-stride in
 * chunks of LE_BLOCK over min(ceil(n / LE_BLOCK), MaxReduceBlocks) blocks
 * as box_iou_loss, and write one loss per row or one partial sum per
 * block (a fixed tree).
 */
#ifndef LOSSENGINE_SRC_SAC_H
#define LOSSENGINE_SRC_SAC_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/sac.h"
#endif

/* sac_rows ops (kernelspec.Sac* in Go). */
#define LE_SAC_ACTOR 0       /* discrete actor loss */
#define LE_SAC_TARGET 1      /* discrete critic target */
#define LE_SAC_TEMP 2        /* temperature loss, discrete form (x = logits) */
#define LE_SAC_TEMP_LOGPI 3  /* temperature loss, continuous form (x = log_pi, A = 1) */

/* flag bits of both kernels (kernelspec.SacFlag* in Go). */
#define LE_SAC_GRAD 1    /* write the gradient(s) */
#define LE_SAC_REDUCE 2  /* out gets one partial sum per block */
#define LE_SAC_LOGPI 4   /* sac_continuous_actor: write log_pi */
#define LE_SAC_ACTION 8  /* sac_continuous_actor: write action */
#define LE_SAC_Q 16        /* sac_rows: read q (else Q = 0) */
#define LE_SAC_TARGET_IN 32 /* sac_rows: read rewards and dones (else 0) */
#define LE_SAC_LOG_ALPHA 64 /* sac_rows: read log_alpha (else 0) */

/* le_sac_lse: log-sum-exp of x[0..A) with the row maximum (-inf for A = 0). */
LE_FN float le_sac_lse(const LE_GLOBAL float *x, int A) {
    float m = -LE_INF, s = 0.0f;
    for (int k = 0; k < A; k++) le_lse_push(&m, &s, x[k]);
    return le_lse_value(m, s);
}

/*
 * sac_rows (sacRows): for row i < n, with z = x[i*A ..], log pi_k =
 * z_k - lse(z) and pi_k = exp(log pi_k) (from the stable log-softmax):
 *   LE_SAC_ACTOR:  f_k = alpha log pi_k - q[i*A+k], l = sum_k pi_k f_k;
 *                  grad[i*A+k] = grad_scale pi_k (f_k - l).
 *   LE_SAC_TARGET: l = rewards[i] + gamma (1 - dones[i])
 *                  sum_k pi_k (q[i*A+k] - alpha log pi_k).
 *   LE_SAC_TEMP:   l = -exp(log_alpha[0]) sum_k pi_k (log pi_k + te).
 *   LE_SAC_TEMP_LOGPI: l = -exp(log_alpha[0]) (x[i] + te) (A = 1).
 * q, rewards, dones and log_alpha are read only under their flags
 * (LE_SAC_Q, LE_SAC_TARGET_IN, LE_SAC_LOG_ALPHA), and count as 0 without.
 * out[i] = loss_scale l, or out[block] = the block's sum of loss_scale l
 * (LE_SAC_REDUCE). The temperature losses' gradient w.r.t. log_alpha is the loss itself, which
 * the caller reduces twice.
 */
LE_KERNEL sac_rows(int op, const LE_GLOBAL float *x, const LE_GLOBAL float *q, const LE_GLOBAL float *rewards,
                   const LE_GLOBAL float *dones, const LE_GLOBAL float *log_alpha, int n, int A, float alpha,
                   float gamma, float te, float loss_scale, float grad_scale, int flags, LE_GLOBAL float *grad,
                   LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    float ea = exp((flags & LE_SAC_LOG_ALPHA) ? log_alpha[0] : 0.0f);
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        LE_INDEX row = i * A;
        float l = 0.0f;
        if (op == LE_SAC_TEMP_LOGPI) {
            l = -ea * (x[i] + te);
        } else {
            float lse = le_sac_lse(x + row, A);
            for (int k = 0; k < A; k++) {
                float lp = x[row + k] - lse, p = exp(lp);
                float qk = (flags & LE_SAC_Q) ? q[row + k] : 0.0f;
                if (op == LE_SAC_ACTOR) l += p * (alpha * lp - qk);
                else if (op == LE_SAC_TARGET) l += p * (qk - alpha * lp);
                else l += p * (lp + te);
            }
            if (op == LE_SAC_TARGET) {
                float r = 0.0f, dn = 0.0f;
                if (flags & LE_SAC_TARGET_IN) {
                    r = rewards[i];
                    dn = dones[i];
                }
                l = r + gamma * (1.0f - dn) * l;
            }
            else if (op == LE_SAC_TEMP) l = -ea * l;
            if (op == LE_SAC_ACTOR && (flags & LE_SAC_GRAD)) {
                for (int k = 0; k < A; k++) {
                    float lp = x[row + k] - lse, p = exp(lp);
                    float qk = (flags & LE_SAC_Q) ? q[row + k] : 0.0f;
                    grad[row + k] = grad_scale * (p * ((alpha * lp - qk) - l));
                }
            }
        }
        l *= loss_scale;
        if (flags & LE_SAC_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_SAC_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

#define LE_SAC_HALF_LOG_2PI 0.91893853320467274f
#define LE_SAC_EPS 1e-6f

/*
 * sac_continuous_actor (sacContinuousActor): for row i < n and j < A at
 * e = i*A + j: sigma = exp(log_std[e]), eps = noise[e], x = mean[e] +
 * sigma eps, w = exp(-2|x|), y = tanh x = sign(x)(1 - w)/(1 + w),
 * u = 1 - y^2 = 4w/(1 + w)^2 (no cancellation), c = scale u + 1e-6:
 *   log_pi = sum_j (-eps^2/2 - log_std[e] - log(2 pi)/2 - log c)
 *   l      = alpha log_pi - q_value[i]
 *   g_x    = alpha 2 scale y u / c - dq_da[e] scale u   (dl/dx)
 *   grad_mean[e]    = grad_scale g_x
 *   grad_log_std[e] = grad_scale (g_x sigma eps - alpha)
 *   action[e] = scale y + bias (LE_SAC_ACTION); log_pi[i] (LE_SAC_LOGPI)
 * out[i] = l, or out[block] = the block's sum of l (LE_SAC_REDUCE).
 */
LE_KERNEL sac_continuous_actor(const LE_GLOBAL float *mean, const LE_GLOBAL float *log_std,
                               const LE_GLOBAL float *noise, const LE_GLOBAL float *q_value,
                               const LE_GLOBAL float *dq_da, int n, int A, float alpha, float scale, float bias,
                               float grad_scale, int flags, LE_GLOBAL float *grad_mean,
                               LE_GLOBAL float *grad_log_std, LE_GLOBAL float *log_pi, LE_GLOBAL float *action,
                               LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float lp = 0.0f;
        for (int j = 0; j < A; j++) {
            LE_INDEX e = i * A + j;
            float ls = log_std[e], sg = exp(ls), ep = noise[e];
            float xv = mean[e] + sg * ep;
            float w = exp(-2.0f * fabs(xv)), r = 1.0f / (1.0f + w);
            float y = (xv < 0.0f ? -1.0f : 1.0f) * ((1.0f - w) * r), u = 4.0f * w * r * r;
            float c = scale * u + LE_SAC_EPS;
            lp += ((-0.5f * ep * ep - ls) - LE_SAC_HALF_LOG_2PI) - log(c);
            if (flags & LE_SAC_GRAD) {
                float gx = alpha * (2.0f * scale * y * u / c) - dq_da[e] * scale * u;
                grad_mean[e] = grad_scale * gx;
                grad_log_std[e] = grad_scale * (gx * sg * ep - alpha);
            }
            if (flags & LE_SAC_ACTION) action[e] = scale * y + bias;
        }
        if (flags & LE_SAC_LOGPI) log_pi[i] = lp;
        float l = alpha * lp - q_value[i];
        if (flags & LE_SAC_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_SAC_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

#endif /* LOSSENGINE_SRC_SAC_H */
