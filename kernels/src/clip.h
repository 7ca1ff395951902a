/*
 * src/clip.h: gradient clipping in place over a list of buffers, as
 * torch.nn.utils.clip_grad_norm_ and clip_grad_value_ do it.
 * Host mirror (the specification): host/clip.go. The one body of the
 * family: kernels/cuda/clip.cu and kernels/opencl/clip.cl include it after
 * lemath.h.
 *
 * clip_grad_norm is three steps, with no host round trip between them:
 *   1. clip_norm_partial, once per non-empty buffer: one partial state per
 *      block into the workspace slots [slot, slot + blocks) (the buffers'
 *      slots follow one another in buffer order);
 *   2. clip_norm_total, one block: the total norm and the coefficient from
 *      every slot, in a fixed order, into st = (total, coef, skip);
 *   3. clip_scale, once per non-empty buffer: y = x * coef, by skip.
 * Grid of clip_norm_partial, clip_scale and clip_value:
 * min(ceil(n / LE_BLOCK), kernelspec.MaxReduceBlocks) blocks of LE_BLOCK
 * threads, grid-stride in chunks of LE_BLOCK: element i is handled by
 * thread i mod LE_BLOCK of block (i / LE_BLOCK) mod LE_NBLOCKS.
 *
 * A partial state of a finite p is (s, q, e): the sum of |g|^p over the
 * block's finite elements is s^p * q, s a power of two (the largest power
 * of two <= the largest |g|, at least CLIP_MIN_SCALE), so that no |g|^p is
 * formed unscaled and the sum cannot overflow where the norm does not; e
 * is the sum of the block's non-finite |g| (0, +Inf, or NaN if any NaN).
 * For p = Inf, s is the largest finite |g| and q is 0.
 */
#ifndef LOSSENGINE_SRC_CLIP_H
#define LOSSENGINE_SRC_CLIP_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/clip.h"
#endif

/* clip_norm_total mode bits (kernelspec.Clip* in Go). */
#define LE_CLIP_OPTAX 1 /* coef = max_norm / max(total, max_norm) */
#define LE_CLIP_ERROR_NONFINITE 2 /* a non-finite total writes nothing */

/* The smallest scale: 2^-126, the smallest normal float. */
#define CLIP_MIN_SCALE 1.17549435082228750797e-38f
#define CLIP_MAX_FINITE 3.40282346638528859812e+38f

/* CLIP_EXP_BITS(a): a with its mantissa bits cleared, the largest power of
 * two <= a for a normal a > 0; each dialect file defines it (a bit cast). */
#ifndef CLIP_EXP_BITS
#error "the dialect file defines CLIP_EXP_BITS before it includes src/clip.h"
#endif

/* clip_pow: x^p for x >= 0, exact for p = 1 and p = 2. */
LE_FN float clip_pow(float x, float p) {
    if (p == 2.0f) return x * x;
    if (p == 1.0f) return x;
    return pow(x, p);
}

/*
 * clip_merge: (s, q) := the state of the union of (s, q) and (s2, q2),
 * s and s2 powers of two: the larger scale, each q rescaled to it.
 */
LE_FN void clip_merge(float *s, float *q, float s2, float q2, float p) {
    if (s2 > *s) {
        *q = *q * clip_pow(*s / s2, p) + q2;
        *s = s2;
    } else {
        *q = *q + q2 * clip_pow(s2 / *s, p);
    }
}

/*
 * clip_block_merge merges the states of the block's threads in a fixed
 * tree (pairs at distance 128, 64, ..., 1) and returns the block's state
 * to every thread. For p = Inf (pinf) s is a maximum. sh* hold LE_BLOCK
 * floats each. All threads must call it.
 */
LE_FN void clip_block_merge(LE_LOCAL_PTR float *shs, LE_LOCAL_PTR float *shq, LE_LOCAL_PTR float *she,
                            float *s, float *q, float *e, float p, int pinf) {
    int t = LE_TID;
    shs[t] = *s;
    shq[t] = *q;
    she[t] = *e;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) {
            float a = shs[t], aq = shq[t];
            if (pinf) {
                a = fmax(a, shs[t + d]);
            } else {
                clip_merge(&a, &aq, shs[t + d], shq[t + d], p);
            }
            shs[t] = a;
            shq[t] = aq;
            she[t] += she[t + d];
        }
        LE_SYNC();
    }
    *s = shs[0];
    *q = shq[0];
    *e = she[0];
    LE_SYNC();
}

/*
 * clip_norm_partial (clipNormPartial): block b's state of the p-norm of
 * the buffer g[off..off+n) (element i is g[off+i]) over the elements it handles (see the head of this file), into
 * ws[3*(slot+b)] = s, ws[3*(slot+b)+1] = q, ws[3*(slot+b)+2] = e. Each
 * thread keeps its own state as it reads; a value |g| >= 2s raises the
 * thread's scale to the power of two of |g|, the exponent bits of |g|.
 */
LE_KERNEL clip_norm_partial(const LE_GLOBAL float *g, int off, int n, float p, int pinf, int slot,
                            LE_GLOBAL float *ws) {
    LE_LOCAL float shs[LE_BLOCK];
    LE_LOCAL float shq[LE_BLOCK];
    LE_LOCAL float she[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float s = pinf ? 0.0f : CLIP_MIN_SCALE, inv = 1.0f / CLIP_MIN_SCALE, q = 0.0f, e = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float a = fabs(g[off + i]);
        if (!(a <= CLIP_MAX_FINITE)) {
            e += a;
        } else if (pinf) {
            s = fmax(s, a);
        } else {
            if (a >= 2.0f * s) {
                float s2 = CLIP_EXP_BITS(a);
                q *= clip_pow(s / s2, p);
                s = s2;
                inv = 1.0f / s2;
            }
            q += clip_pow(a * inv, p);
        }
    }
    clip_block_merge(shs, shq, she, &s, &q, &e, p, pinf);
    if (LE_TID == 0) {
        LE_INDEX o = 3 * ((LE_INDEX)slot + LE_BID);
        ws[o] = s;
        ws[o + 1] = q;
        ws[o + 2] = e;
    }
}

/*
 * clip_norm_total (clipNormTotal): one block merges the slots ws[0..slots)
 * (thread t the slots t, t + LE_BLOCK, ... in order, then the tree) and
 * thread 0 writes
 *   st[0] = total = e if e != 0 (Inf, or NaN), else s * q^(1/p) (s for p = Inf)
 *   st[1] = coef  = min(max_norm / (total + 1e-6), 1), NaN for a NaN total
 *                   (torch), or max_norm / max(total, max_norm) with LE_CLIP_OPTAX
 *   st[2] = skip  = 2 if LE_CLIP_ERROR_NONFINITE and the total is not
 *                   finite (nothing may be written), else 1 if coef == 1
 *                   (scaling by 1 is the identity), else 0.
 */
LE_KERNEL clip_norm_total(const LE_GLOBAL float *ws, int slots, float p, int pinf, float max_norm, int mode,
                          LE_GLOBAL float *st) {
    LE_LOCAL float shs[LE_BLOCK];
    LE_LOCAL float shq[LE_BLOCK];
    LE_LOCAL float she[LE_BLOCK];
    float s = pinf ? 0.0f : CLIP_MIN_SCALE, q = 0.0f, e = 0.0f;
    for (int k = LE_TID; k < slots; k += LE_BLOCK) {
        LE_INDEX o = 3 * (LE_INDEX)k;
        if (pinf) {
            s = fmax(s, ws[o]);
        } else {
            clip_merge(&s, &q, ws[o], ws[o + 1], p);
        }
        e += ws[o + 2];
    }
    clip_block_merge(shs, shq, she, &s, &q, &e, p, pinf);
    if (LE_TID == 0) {
        float total;
        if (e != 0.0f) {
            total = e;
        } else if (pinf) {
            total = s;
        } else if (p == 2.0f) {
            total = s * sqrt(q);
        } else if (p == 1.0f) {
            total = s * q;
        } else {
            total = s * pow(q, 1.0f / p);
        }
        float c;
        if (mode & LE_CLIP_OPTAX) {
            float d = total < max_norm ? max_norm : total; /* NaN stays */
            c = max_norm / d;
        } else {
            c = max_norm / (total + 1e-6f);
            c = c > 1.0f ? 1.0f : c; /* NaN stays */
        }
        int finite = total <= CLIP_MAX_FINITE;
        st[0] = total;
        st[1] = c;
        st[2] = ((mode & LE_CLIP_ERROR_NONFINITE) && !finite) ? 2.0f : (c == 1.0f ? 1.0f : 0.0f);
    }
}

/*
 * clip_scale (clipScale): y[off+i] = x[off+i] * st[1] for i < n, unless
 * st[2] == 2 (an error: nothing is written) or st[2] == 1 (coef 1) and
 * inplace (y is x: nothing to change). st is clip_norm_total's output,
 * read on the device. x and y are the same buffer when inplace.
 */
LE_KERNEL clip_scale(const LE_GLOBAL float *x, int off, int n, const LE_GLOBAL float *st, int inplace,
                     LE_GLOBAL float *y) {
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float c = st[1], skip = st[2];
    LE_INDEX end = (skip == 2.0f || (skip == 1.0f && inplace)) ? 0 : (LE_INDEX)n;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < end; i += stride) y[off + i] = x[off + i] * c;
}

/*
 * clip_value (clipValue): g[i] = min(max(g[i], -v), v) for i < n, with a
 * NaN g[i] left NaN (torch.clamp).
 */
LE_KERNEL clip_value(LE_GLOBAL float *g, int n, float v) {
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float x = g[i];
        g[i] = x < -v ? -v : (x > v ? v : x);
    }
}

#endif /* LOSSENGINE_SRC_CLIP_H */
