/*
 * src/policy.h: the policy family, reinforcement-learning losses over
 * time-major batches flattened to N rows: the policy gradient, entropy and
 * PPO clipped-surrogate losses of a categorical policy (logits [N, A],
 * int32 actions [N]) or a diagonal Gaussian one (mean, log_std, actions
 * [N, A], optionally tanh-squashed), the value loss, and the actor-critic
 * sum of the three, with their gradients. Host mirror (the specification):
 * host/policy.go. The one body of the family: kernels/cuda/policy.cu and
 * kernels/opencl/policy.cl include it after lemath.h.
 *
 * Grid of policy_rows: min(ceil(n / LE_BLOCK), kernelspec.MaxReduceBlocks)
 * blocks of LE_BLOCK threads, one thread per row, grid-stride in chunks of
 * LE_BLOCK: row i is handled by thread i mod LE_BLOCK of block
 * (i / LE_BLOCK) mod LE_NBLOCKS, the partition the host mirror sums over.
 */
#ifndef LOSSENGINE_SRC_POLICY_H
#define LOSSENGINE_SRC_POLICY_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/policy.h"
#endif

/* policy_rows ops (kernelspec.Pol* in Go). */
#define LE_POL_PG 0
#define LE_POL_ENT 1
#define LE_POL_PPO 2
#define LE_POL_VALUE 3
#define LE_POL_AC_PG 4
#define LE_POL_AC_PPO 5

/* policy_rows flag bits (kernelspec.PolFlag* in Go). */
#define LE_POL_GAUSS 1          /* x is the Gaussian mean, with log_std and float actions */
#define LE_POL_SQUASH 2         /* the Gaussian actions are tanh-squashed */
#define LE_POL_LOGP 4           /* log pi(a) is given in log_probs */
#define LE_POL_WEIGHTS 8        /* multiply by weights[i] */
#define LE_POL_NORM_ADV 16      /* advantages normalised by stats (mean, std) */
#define LE_POL_CLIP_VF 32       /* clipped value loss around old_values */
#define LE_POL_HUBER 64         /* Huber value loss (else half squared error) */
#define LE_POL_GRAD_X 128       /* write grad_x */
#define LE_POL_GRAD_LOG_STD 256 /* write grad_log_std */
#define LE_POL_GRAD_LOGP 512    /* write grad_log_probs */
#define LE_POL_GRAD_VALUES 1024 /* write grad_values */
#define LE_POL_ROWS 2048        /* write each row's loss to rows */

/* Number of partial sums per block (out holds LE_POL_NPART * blocks). */
#define LE_POL_NPART 6

/* half of log(2 pi e), the entropy of a unit normal */
#define LE_POL_HALF_LOG_2PIE 1.4189385332046727f
/* the divisor guard of CleanRL's advantage normalisation */
#define LE_POL_NORM_EPS 1e-8f
/* SB3's guard inside log(1 - a^2 + eps) of the tanh correction */
#define LE_POL_SQUASH_EPS 1e-6f
/* the clamp of squashed actions before atanh: float32 machine epsilon */
#define LE_POL_ATANH_EPS 1.1920928955078125e-7f

/*
 * le_pol_value: the value loss of one element, *g its derivative w.r.t.
 * the value v: l(v - R) with l(d) = d^2/2 (mse) or Huber with delta; with
 * clip, vc = old + clamp(v - old, -c, c) and the loss max(l(v - R),
 * l(vc - R)), a tie splitting the gradient evenly (torch.max), the clamp
 * passing it where -c <= v - old <= c (torch.clamp).
 */
LE_FN float le_pol_hl(int huber, float d, float delta, float *g) {
    if (!huber) {
        *g = d;
        return 0.5f * d * d;
    }
    float z = fabs(d);
    *g = d <= -delta ? -delta : (d >= delta ? delta : d);
    return z <= delta ? 0.5f * d * d : delta * (z - 0.5f * delta);
}

LE_FN float le_pol_value(int flags, float v, float r, float old, float delta, float c, float *g) {
    int huber = (flags & LE_POL_HUBER) != 0;
    float g1, l1 = le_pol_hl(huber, v - r, delta, &g1);
    if (!(flags & LE_POL_CLIP_VF)) {
        *g = g1;
        return l1;
    }
    float dv = v - old;
    float dc = dv < -c ? -c : (dv > c ? c : dv);
    float inside = (dv >= -c && dv <= c) ? 1.0f : 0.0f;
    float g2, l2 = le_pol_hl(huber, (old + dc) - r, delta, &g2);
    float w = l1 > l2 ? 1.0f : (l1 == l2 ? 0.5f : 0.0f);
    *g = w * g1 + (1.0f - w) * g2 * inside;
    return l1 > l2 || l1 != l1 ? l1 : l2;
}

/*
 * le_pol_ppo: CleanRL's clipped surrogate of one element with new and old
 * log-probabilities lp and old, advantage A: ratio r = exp(lp - old),
 * loss max(-A r, -A clamp(r, 1 - eps, 1 + eps)); *g is its derivative
 * w.r.t. lp (a tie of the two terms splits evenly, the clamp passes the
 * gradient inside [1 - eps, 1 + eps]); *cf = (|r - 1| > eps), *kl =
 * (r - 1) - log r, formed as expm1(lp - old) - (lp - old).
 */
LE_FN float le_pol_ppo(float lp, float old, float A, float eps, float *g, float *cf, float *kl) {
    float lr = lp - old;
    float rm1 = expm1(lr), r = exp(lr);
    float rc = r < 1.0f - eps ? 1.0f - eps : (r > 1.0f + eps ? 1.0f + eps : r);
    float p1 = -A * r, p2 = -A * rc;
    float inside = (r >= 1.0f - eps && r <= 1.0f + eps) ? 1.0f : 0.0f;
    float w = p1 > p2 ? 1.0f : (p1 == p2 ? 0.5f : 0.0f);
    *g = -A * r * (w + (1.0f - w) * inside);
    *cf = fabs(rm1) > eps ? 1.0f : 0.0f;
    *kl = rm1 - lr;
    return p1 > p2 || p1 != p1 ? p1 : p2;
}

/*
 * le_pol_atanh_clamped(a) = atanh(clamp(a, -1 + e, 1 - e)), e the float32
 * machine epsilon, as (log1p(a) - log1p(-a)) / 2.
 */
LE_FN float le_pol_atanh_clamped(float a) {
    float lim = 1.0f - LE_POL_ATANH_EPS;
    float c = a < -lim ? -lim : (a > lim ? lim : a);
    return 0.5f * (log1p(c) - log1p(-c));
}

/*
 * policy_rows (policyRows): one thread per row i < n. The row's policy
 * gives lp = log pi(a_i) and H = its entropy:
 *   categorical (x = logits [n, a], actions int32 [n]): with m the row max
 *     (at its first index jm) and s = 1 + s1, s1 = sum_{j != jm}
 *     exp(x_j - m), log s = log1p(s1), lp = (x_a - m) - log s,
 *     H = log s - sum_j p_j (x_j - m), p_j = exp(x_j - m) / s;
 *     an action outside [0, a) gives lp = NaN; LE_POL_ENT reads no
 *     actions (act = 0);
 *   Gaussian (x = mean, log_std, actions float [n, a]): u = a_k, or with
 *     LE_POL_SQUASH u = atanh(clamp(a_k, +-(1 - eps32))); z = (u - mean) /
 *     exp(log_std), lp = sum_k (-z^2/2 - log_std_k - log(2 pi)/2), minus
 *     sum_k log((1 - a_k)(1 + a_k) + 1e-6) with squash;
 *     H = sum_k (log_std_k + log(2 pi e)/2), or -lp with squash;
 *   LE_POL_LOGP: lp = log_probs[i] (no entropy).
 * A = advantages[i], (A - stats[0]) / (stats[1] + 1e-8) with
 * LE_POL_NORM_ADV; w = weights[i] with LE_POL_WEIGHTS, else 1. The row's
 * terms (pol, val, ent, cf, kl) and total:
 *   LE_POL_PG:     pol = -A w lp                       total = pol
 *   LE_POL_ENT:    ent = H                             total = -w H
 *   LE_POL_PPO:    pol, cf, kl = le_pol_ppo(lp, old_log_probs[i], A)   total = pol
 *   LE_POL_VALUE:  val = le_pol_value(values[i], returns[i], old_values[i])   total = val
 *   LE_POL_AC_PG:  pol as PG (w = 1), val, ent = H     total = pol + vcoef val - ecoef H
 *   LE_POL_AC_PPO: pol as PPO, val, ent = H            total likewise
 * The gradients, each times grad_scale, are those of total w.r.t. x
 * ([j = act] - p_j formed as s1/s where the action is the maximum jm)
 * (grad_x), log_std, log_probs and values, written where the flag asks.
 * rows[i] = total with LE_POL_ROWS. out[k * LE_NBLOCKS + b] is the sum of
 * term k (total, pol, val, ent, cf, kl) over block b's rows, added by each
 * thread in row order and then in a fixed tree. A gradient buffer may be
 * its input's buffer (each row is read before it is written, by one
 * thread).
 */
LE_KERNEL policy_rows(int op, int flags, const LE_GLOBAL float *x, const LE_GLOBAL float *log_std,
                      const LE_GLOBAL int *act_i, const LE_GLOBAL float *act_f, const LE_GLOBAL float *log_probs,
                      const LE_GLOBAL float *old_log_probs, const LE_GLOBAL float *adv, const LE_GLOBAL float *weights,
                      const LE_GLOBAL float *stats, const LE_GLOBAL float *values, const LE_GLOBAL float *returns,
                      const LE_GLOBAL float *old_values, int n, int a, float clip_eps, float clip_vf, float delta,
                      float vcoef, float ecoef, float grad_scale, LE_GLOBAL float *grad_x,
                      LE_GLOBAL float *grad_log_std, LE_GLOBAL float *grad_log_probs, LE_GLOBAL float *grad_values,
                      LE_GLOBAL float *rows, LE_GLOBAL float *out) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    int has_pol = op != LE_POL_VALUE;
    int has_ent = op == LE_POL_ENT || op == LE_POL_AC_PG || op == LE_POL_AC_PPO;
    int has_val = op == LE_POL_VALUE || op == LE_POL_AC_PG || op == LE_POL_AC_PPO;
    int is_ppo = op == LE_POL_PPO || op == LE_POL_AC_PPO;
    int gauss = (flags & LE_POL_GAUSS) != 0, squash = (flags & LE_POL_SQUASH) != 0;
    float acc[LE_POL_NPART];
    for (int k = 0; k < LE_POL_NPART; k++) acc[k] = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        LE_INDEX base = i * (LE_INDEX)a;
        float lp = 0.0f, H = 0.0f, m = 0.0f, ls = 0.0f, s1 = 0.0f, s = 1.0f;
        int act = 0, jm = -1;
        if (has_pol && (flags & LE_POL_LOGP)) {
            lp = log_probs[i];
        } else if (has_pol && !gauss) {
            act = op == LE_POL_ENT ? 0 : act_i[i];
            m = -LE_INF;
            for (int j = 0; j < a; j++) {
                float v = x[base + j];
                if ((v > m || v != v) && m == m) {
                    m = v;
                    jm = j;
                }
            }
            /* s = 1 + s1, s1 the sum without the (first) maximum: log s =
               log1p(s1) keeps its digits for a confident row */
            float t = 0.0f;
            for (int j = 0; j < a; j++) {
                float d = x[base + j] - m, e = exp(d);
                s1 += j == jm ? e - 1.0f : e; /* 0 at the maximum (NaN for +inf - +inf) */
                t += e > 0.0f ? e * d : 0.0f;
            }
            s = jm < 0 ? s1 : 1.0f + s1;
            ls = jm < 0 ? log(s1) : log1p(s1);
            lp = (act >= 0 && act < a) ? (x[base + act] - m) - ls : LE_NAN;
            H = ls - t / s;
        } else if (has_pol) {
            float corr = 0.0f, sls = 0.0f;
            for (int k = 0; k < a; k++) {
                float ak = act_f[base + k], l = log_std[base + k];
                float u = squash ? le_pol_atanh_clamped(ak) : ak;
                float z = (u - x[base + k]) * exp(-l);
                lp += -0.5f * z * z - l;
                sls += l;
                if (squash) corr += log((1.0f - ak) * (1.0f + ak) + LE_POL_SQUASH_EPS);
            }
            lp -= 0.5f * LE_LOG_2PI * (float)a;
            lp -= corr;
            H = squash ? -lp : sls + LE_POL_HALF_LOG_2PIE * (float)a;
        }
        float A = 0.0f, w = 1.0f;
        if (op != LE_POL_VALUE && op != LE_POL_ENT) {
            A = adv[i];
            if (flags & LE_POL_NORM_ADV) A = (A - stats[0]) / (stats[1] + LE_POL_NORM_EPS);
        }
        if ((flags & LE_POL_WEIGHTS) && (op == LE_POL_PG || op == LE_POL_ENT)) w = weights[i];
        float pol = 0.0f, val = 0.0f, cf = 0.0f, kl = 0.0f, cl = 0.0f, ch = 0.0f, gv = 0.0f, total;
        if (is_ppo) {
            pol = le_pol_ppo(lp, old_log_probs[i], A, clip_eps, &cl, &cf, &kl);
        } else if (op == LE_POL_PG || op == LE_POL_AC_PG) {
            pol = -A * w * lp;
            cl = -A * w;
        }
        if (has_val) {
            float ov = (flags & LE_POL_CLIP_VF) ? old_values[i] : 0.0f;
            val = le_pol_value(flags, values[i], returns[i], ov, delta, clip_vf, &gv);
        }
        if (op == LE_POL_ENT) {
            total = -w * H;
            ch = -w;
        } else if (op == LE_POL_VALUE) {
            total = val;
        } else if (has_val) {
            total = pol + vcoef * val - ecoef * H;
            ch = -ecoef;
            gv *= vcoef;
        } else {
            total = pol;
        }
        float ent = has_ent ? H : 0.0f;
        /* gradients */
        if (has_pol && (flags & LE_POL_LOGP)) {
            if (flags & LE_POL_GRAD_LOGP) grad_log_probs[i] = grad_scale * cl;
        } else if (has_pol && !gauss) {
            if (flags & LE_POL_GRAD_X) {
                float cls = cl * grad_scale, chs = ch * grad_scale;
                for (int j = 0; j < a; j++) {
                    float lpj = (x[base + j] - m) - ls, p = exp(lpj);
                    float dh = p > 0.0f ? -p * (lpj + H) : 0.0f;
                    /* [j = act] - p_j, as s1/s at the maximum (1 - p there cancels) */
                    float sel = j == act ? (j == jm ? s1 / s : 1.0f - p) : -p;
                    grad_x[base + j] = cls * sel + chs * dh;
                }
            }
        } else if (has_pol) {
            /* with squash the entropy estimate is -lp: its coefficient joins lp's */
            float cle = squash ? cl - ch : cl, chl = squash ? 0.0f : ch;
            for (int k = 0; k < a; k++) {
                float ak = act_f[base + k], l = log_std[base + k];
                float u = squash ? le_pol_atanh_clamped(ak) : ak;
                float is = exp(-l), z = (u - x[base + k]) * is;
                if (flags & LE_POL_GRAD_X) grad_x[base + k] = grad_scale * (cle * z * is);
                if (flags & LE_POL_GRAD_LOG_STD) grad_log_std[base + k] = grad_scale * (cle * (z * z - 1.0f) + chl);
            }
        }
        if (has_val && (flags & LE_POL_GRAD_VALUES)) grad_values[i] = grad_scale * gv;
        if (flags & LE_POL_ROWS) rows[i] = total;
        acc[0] += total;
        acc[1] += pol;
        acc[2] += val;
        acc[3] += ent;
        acc[4] += cf;
        acc[5] += kl;
    }
    for (int k = 0; k < LE_POL_NPART; k += 2) {
        float s0 = acc[k], s1 = acc[k + 1];
        le_block_sum2(sha, shb, &s0, &s1);
        if (LE_TID == 0) {
            out[(LE_INDEX)k * LE_NBLOCKS + LE_BID] = s0;
            out[(LE_INDEX)(k + 1) * LE_NBLOCKS + LE_BID] = s1;
        }
    }
}

/*
 * policy_adv_stats (policyAdvStats), one block: stats[0] = the mean of
 * adv[0..n), stats[1] = its unbiased standard deviation
 * sqrt(sum (adv_i - mean)^2 / (n - 1)), two passes (each thread adds its
 * strided elements in order, then a fixed tree). n = 1 gives std NaN
 * (0/0), as torch.std; n = 0 a NaN mean.
 */
LE_KERNEL policy_adv_stats(const LE_GLOBAL float *adv, int n, LE_GLOBAL float *stats) {
    LE_LOCAL float sh[LE_BLOCK];
    float s = 0.0f;
    for (int i = LE_TID; i < n; i += LE_BLOCK) s += adv[i];
    float mean = le_block_sum(sh, s) / (float)n;
    float q = 0.0f;
    for (int i = LE_TID; i < n; i += LE_BLOCK) {
        float d = adv[i] - mean;
        q += d * d;
    }
    float ss = le_block_sum(sh, q);
    if (LE_TID == 0) {
        stats[0] = mean;
        stats[1] = sqrt(ss / (float)(n - 1));
    }
}

/*
 * policy_reduce (policyReduce), one block: out[0] = scale * sum of
 * part[k * nb + b] over b < nb, term k of policy_rows' partial sums
 * (thread t adds b = t, t + LE_BLOCK, ... in order, then a fixed tree).
 */
LE_KERNEL policy_reduce(const LE_GLOBAL float *part, int nb, int k, float scale, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    float acc = 0.0f;
    for (int b = LE_TID; b < nb; b += LE_BLOCK) acc += part[(LE_INDEX)k * nb + b];
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0) out[0] = s * scale;
}

#endif /* LOSSENGINE_SRC_POLICY_H */
