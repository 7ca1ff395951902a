/*
 * src/pairwise.h: metric-learning losses over pairs and triplets of rows
 * (cosine embedding, margin ranking, triplet margin with a p-norm, squared
 * L2 or cosine distance, contrastive in Hadsell's and in
 * pytorch-metric-learning's form, Keras' cosine similarity), with their
 * gradients w.r.t. every float input. Host mirror (the specification):
 * host/pairwise.go. The one body of the family: kernels/cuda/pairwise.cu
 * and kernels/opencl/pairwise.cl include it after lemath.h.
 *
 * Grid of pairwise_rows: n blocks of LE_BLOCK threads, block i handles
 * row i; thread t visits the columns t, t + LE_BLOCK, ... in order and the
 * block adds the per-thread sums in a fixed tree (le_block_sum2).
 * pairwise_avg_nonzero runs in one block.
 */
#ifndef LOSSENGINE_SRC_PAIRWISE_H
#define LOSSENGINE_SRC_PAIRWISE_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/pairwise.h"
#endif

/* Ops of pairwise_rows (kernelspec.Pw* in Go). */
#define LE_PW_COS_EMB 0
#define LE_PW_MARGIN_RANK 1
#define LE_PW_TRIPLET 2
#define LE_PW_TRIPLET_SQ 3
#define LE_PW_TRIPLET_COS 4
#define LE_PW_CONTRASTIVE 5
#define LE_PW_CONTRASTIVE_PML 6
#define LE_PW_KERAS_COS 7

/* pairwise_rows flag bits (kernelspec.PwFlag* in Go). */
#define LE_PW_GRAD1 1
#define LE_PW_GRAD2 2
#define LE_PW_GRAD3 4
#define LE_PW_GRAD_TARGET 8
#define LE_PW_SWAP 16
#define LE_PW_DENOM 32
#define LE_PW_HAS_X3 64
#define LE_PW_HAS_TARGET 128
#define LE_PW_NONZERO 256

/* pw_powp: |u|^p, with p = 1 and p = 2 exact. */
LE_FN float pw_powp(float u, float p) {
    float a = fabs(u);
    if (p == 2.0f) return a * a;
    if (p == 1.0f) return a;
    return pow(a, p);
}

/* pw_rootp: s^(1/p), the p-norm from the sum of |u|^p. */
LE_FN float pw_rootp(float s, float p) {
    if (p == 2.0f) return sqrt(s);
    if (p == 1.0f) return s;
    return pow(s, 1.0f / p);
}

/*
 * pw_dnorm: d ||u||_p / d u_j at the component u with norm nrm: 0 where
 * the norm is 0 (PyTorch's norm backward), sgn(u) for p = 1, u / nrm for
 * p = 2, sgn(u) |u|^(p-1) / nrm^(p-1) otherwise.
 */
LE_FN float pw_dnorm(float u, float nrm, float p) {
    if (nrm == 0.0f) return 0.0f;
    if (p == 1.0f) return le_sign(u);
    if (p == 2.0f) return u / nrm;
    return le_sign(u) * pow(fabs(u), p - 1.0f) / pow(nrm, p - 1.0f);
}

/* pw_sel_min(a, b): d min(a, b) / da, a tie split evenly (PyTorch's minimum). */
LE_FN float pw_sel_min(float a, float b) { return a < b ? 1.0f : (a == b ? 0.5f : 0.0f); }

/* pw_step(v): 1 where v >= 0 (clamp_min's gradient passes), else 0. */
LE_FN float pw_step(float v) { return v >= 0.0f ? 1.0f : 0.0f; }

/*
 * pairwise_rows (pairwiseRows): for row i < n (one block) of the [n, d]
 * inputs x1, x2 (and x3 with LE_PW_HAS_X3; target[i] with
 * LE_PW_HAS_TARGET), loss_rows[i] = the row's loss for op, and with
 * g = grad_scale (divided by denom[0] with LE_PW_DENOM) the gradients
 *   grad1[i, j] = g * dL/dx1[i, j]   if flags & LE_PW_GRAD1 (likewise 2, 3)
 *   grad_target[i] = g * dL/dtarget[i]   if flags & LE_PW_GRAD_TARGET
 * where with LE_PW_NONZERO g is 0 for a row whose loss is not > 0 (the
 * rows pytorch-metric-learning's AvgNonZeroReducer leaves out), with the formulas of host/pairwise.go (pairwiseRow). The row sums are
 * taken per thread in column order, then in a fixed tree. Each element is
 * read and then written by the same thread, so a gradient buffer may be
 * its input.
 */
LE_KERNEL pairwise_rows(int op, const LE_GLOBAL float *x1, const LE_GLOBAL float *x2, const LE_GLOBAL float *x3,
                        const LE_GLOBAL float *target, int n, int d, float p, float margin, float margin2, float eps,
                        float grad_scale, const LE_GLOBAL float *denom, int flags, LE_GLOBAL float *grad1,
                        LE_GLOBAL float *grad2, LE_GLOBAL float *grad3, LE_GLOBAL float *grad_target,
                        LE_GLOBAL float *loss_rows) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int i = LE_BID;
    if (i >= n) return; /* uniform in the block */
    int t = LE_TID;
    LE_INDEX base = (LE_INDEX)i * d;
    int swap = (flags & LE_PW_SWAP) != 0;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f, s4 = 0.0f, s5 = 0.0f;
    for (int j = t; j < d; j += LE_BLOCK) {
        float a = x1[base + j], b = x2[base + j];
        if (op == LE_PW_COS_EMB || op == LE_PW_KERAS_COS) {
            s0 += a * b;
            s1 += a * a;
            s2 += b * b;
        } else if (op == LE_PW_TRIPLET) {
            float c = x3[base + j];
            s0 += pw_powp((a - b) + eps, p);
            s1 += pw_powp((a - c) + eps, p);
            if (swap) s2 += pw_powp((b - c) + eps, p);
        } else if (op == LE_PW_TRIPLET_SQ) {
            float c = x3[base + j];
            float u = a - b, v = a - c, w = b - c;
            s0 += u * u;
            s1 += v * v;
            s2 += w * w;
        } else if (op == LE_PW_TRIPLET_COS) {
            float c = x3[base + j];
            s0 += a * b;
            s1 += a * c;
            s2 += b * c;
            s3 += a * a;
            s4 += b * b;
            s5 += c * c;
        } else if (op == LE_PW_CONTRASTIVE) {
            float u = a - b;
            s0 += u * u;
        } else if (op == LE_PW_CONTRASTIVE_PML) {
            s1 += a * a;
            s2 += b * b;
        }
    }
    le_block_sum2(sha, shb, &s0, &s1);
    le_block_sum2(sha, shb, &s2, &s3);
    le_block_sum2(sha, shb, &s4, &s5);
    float y = (flags & LE_PW_HAS_TARGET) ? target[i] : 0.0f;
    float g = grad_scale;
    if (flags & LE_PW_DENOM) g = g / denom[0];
    float L = 0.0f, gt = 0.0f;
    /* per-op row scalars used by the gradient pass */
    float c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f, c7 = 0.0f;
    if (op == LE_PW_COS_EMB) {
        float w1 = s1 + eps, w2 = s2 + eps;
        float den = sqrt(w1 * w2);
        float cs = s0 / den;
        float dc = 0.0f;
        if (y == 1.0f) {
            L = 1.0f - cs;
            dc = -1.0f;
        } else if (y == -1.0f) {
            float v = cs - margin;
            L = le_clamp_min(v, 0.0f);
            dc = pw_step(v);
        }
        c0 = dc; c1 = den; c2 = cs; c3 = w1; c4 = w2;
    } else if (op == LE_PW_MARGIN_RANK) {
        /* d is 1: x1[i], x2[i] */
        float a = x1[base], b = x2[base];
        float v = -y * (a - b) + margin;
        L = le_clamp_min(v, 0.0f);
        float act = pw_step(v);
        c0 = act;
        gt = -act * (a - b);
    } else if (op == LE_PW_TRIPLET || op == LE_PW_TRIPLET_SQ || op == LE_PW_TRIPLET_COS) {
        float dp, dn, ds;
        if (op == LE_PW_TRIPLET) {
            dp = pw_rootp(s0, p);
            dn = pw_rootp(s1, p);
            ds = pw_rootp(s2, p);
        } else if (op == LE_PW_TRIPLET_SQ) {
            dp = s0;
            dn = s1;
            ds = s2;
        } else {
            /* PyTorch 1.13's cosine_similarity: each squared norm clamped
               to eps^2 (the clamp passes the gradient through) */
            float e2 = eps * eps;
            c3 = le_clamp_min(s3, e2);
            c4 = le_clamp_min(s4, e2);
            c5 = le_clamp_min(s5, e2);
            c0 = sqrt(c3 * c4); /* a, p */
            c1 = sqrt(c3 * c5); /* a, n */
            c2 = sqrt(c4 * c5); /* p, n */
            dp = 1.0f - s0 / c0;
            dn = 1.0f - s1 / c1;
            ds = 1.0f - s2 / c2;
        }
        float wn = 1.0f, dneg = dn;
        if (swap) {
            wn = pw_sel_min(dn, ds);
            dneg = fmin(dn, ds);
            if (dn != dn || ds != ds) dneg = dn + ds;
        }
        float v = (margin + dp) - dneg;
        L = le_clamp_min(v, 0.0f);
        float act = pw_step(v);
        c6 = act * wn;
        c7 = swap ? act * (1.0f - wn) : 0.0f;
        /* act in s-slots the gradient pass reads back */
        s0 = dp; s1 = dn; s2 = ds; s3 = act;
    } else if (op == LE_PW_CONTRASTIVE) {
        float dist = sqrt(s0);
        float h = le_clamp_min(margin - dist, 0.0f);
        L = 0.5f * y * s0 + 0.5f * (1.0f - y) * (h * h);
        c0 = y;
        c1 = dist > 0.0f ? (1.0f - y) * h / dist : 0.0f;
        gt = 0.5f * s0 - 0.5f * (h * h);
    } else if (op == LE_PW_CONTRASTIVE_PML) {
        float q1 = sqrt(s1), q2 = sqrt(s2);
        float r1 = fmax(q1, eps), r2 = fmax(q2, eps);
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, tz = 0.0f;
        for (int j = t; j < d; j += LE_BLOCK) {
            float n1 = x1[base + j] / r1, n2 = x2[base + j] / r2;
            float e = n1 - n2;
            t0 += e * e;
            t1 += n1 * e;
            t2 += n2 * e;
        }
        le_block_sum2(sha, shb, &t0, &t1);
        le_block_sum2(sha, shb, &t2, &tz);
        float dist = sqrt(t0);
        float lp = dist - margin, ln = margin2 - dist;
        float rp = fmax(lp, 0.0f), rn = fmax(ln, 0.0f);
        L = y * rp + (1.0f - y) * rn;
        float dld = y * (lp > 0.0f ? 1.0f : 0.0f) - (1.0f - y) * (ln > 0.0f ? 1.0f : 0.0f);
        c0 = dist > 0.0f ? dld / dist : 0.0f;
        c1 = r1; c2 = r2;
        c3 = q1 >= eps ? t1 : 0.0f;
        c4 = q2 >= eps ? t2 : 0.0f;
        gt = rp - rn;
    } else if (op == LE_PW_KERAS_COS) {
        float m1 = fmax(s1, eps), m2 = fmax(s2, eps);
        float r1 = 1.0f / sqrt(m1), r2 = 1.0f / sqrt(m2);
        float cs = s0 * r1 * r2;
        L = -cs;
        c0 = r1 * r2;
        c1 = s1 >= eps ? cs / m1 : 0.0f;
        c2 = s2 >= eps ? cs / m2 : 0.0f;
    }
    if ((flags & LE_PW_NONZERO) && !(L > 0.0f)) g = 0.0f;
    if (t == 0) {
        loss_rows[i] = L;
        if (flags & LE_PW_GRAD_TARGET) grad_target[i] = g * gt;
    }
    if (!(flags & (LE_PW_GRAD1 | LE_PW_GRAD2 | LE_PW_GRAD3))) return;
    for (int j = t; j < d; j += LE_BLOCK) {
        float a = x1[base + j], b = x2[base + j];
        float ga = 0.0f, gb = 0.0f, gc = 0.0f;
        if (op == LE_PW_COS_EMB) {
            ga = c0 * (b / c1 - c2 * a / c3);
            gb = c0 * (a / c1 - c2 * b / c4);
        } else if (op == LE_PW_MARGIN_RANK) {
            ga = -c0 * y;
            gb = c0 * y;
        } else if (op == LE_PW_TRIPLET || op == LE_PW_TRIPLET_SQ || op == LE_PW_TRIPLET_COS) {
            float c = x3[base + j];
            float pa, pp, na, nc, sp, sc;
            if (op == LE_PW_TRIPLET) {
                float u = pw_dnorm((a - b) + eps, s0, p);
                float v = pw_dnorm((a - c) + eps, s1, p);
                float w = swap ? pw_dnorm((b - c) + eps, s2, p) : 0.0f;
                pa = u; pp = -u; na = v; nc = -v; sp = w; sc = -w;
            } else if (op == LE_PW_TRIPLET_SQ) {
                float u = 2.0f * (a - b), v = 2.0f * (a - c), w = 2.0f * (b - c);
                pa = u; pp = -u; na = v; nc = -v; sp = w; sc = -w;
            } else {
                float cap = 1.0f - s0, can = 1.0f - s1, cpn = 1.0f - s2; /* the cosines */
                pa = -(b / c0 - cap * a / c3);
                pp = -(a / c0 - cap * b / c4);
                na = -(c / c1 - can * a / c3);
                nc = -(a / c1 - can * c / c5);
                sp = -(c / c2 - cpn * b / c4);
                sc = -(b / c2 - cpn * c / c5);
            }
            ga = s3 * pa - c6 * na;
            gb = s3 * pp - c7 * sp;
            gc = -c6 * nc - c7 * sc;
        } else if (op == LE_PW_CONTRASTIVE) {
            float u = a - b;
            ga = c0 * u - c1 * u;
            gb = -ga;
        } else if (op == LE_PW_CONTRASTIVE_PML) {
            float n1 = a / c1, n2 = b / c2;
            float e = n1 - n2;
            ga = c0 * (e - n1 * c3) / c1;
            gb = -c0 * (e - n2 * c4) / c2;
        } else if (op == LE_PW_KERAS_COS) {
            ga = -(c0 * b - c1 * a);
            gb = -(c0 * a - c2 * b);
        }
        if (flags & LE_PW_GRAD1) grad1[base + j] = g * ga;
        if (flags & LE_PW_GRAD2) grad2[base + j] = g * gb;
        if (flags & LE_PW_GRAD3) grad3[base + j] = g * gc;
    }
}

/*
 * pairwise_avg_nonzero (pairwiseAvgNonzero): pytorch-metric-learning's
 * AvgNonZeroReducer over loss_rows[0..n): with k the number of rows whose
 * loss is > 0 and S the sum of all rows (per thread in index order, then
 * a fixed tree), denom[0] = max(k, 1) and loss[0] = S / max(k, 1). One
 * block; blocks other than block 0 write nothing.
 */
LE_KERNEL pairwise_avg_nonzero(const LE_GLOBAL float *loss_rows, int n, LE_GLOBAL float *denom,
                               LE_GLOBAL float *loss) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0; /* no return before a barrier */
    float s = 0.0f, k = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) {
        float v = loss_rows[i];
        s += v;
        if (v > 0.0f) k += 1.0f;
    }
    le_block_sum2(sha, shb, &s, &k);
    if (LE_TID == 0 && LE_BID == 0) {
        float dv = fmax(k, 1.0f);
        denom[0] = dv;
        loss[0] = s / dv;
    }
}

#endif /* LOSSENGINE_SRC_PAIRWISE_H */
