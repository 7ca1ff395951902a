/*
 * lemath.h: the dialect layer and the math and block-reduction helpers of
 * lossengine's kernels. Each family's kernels are written once, in
 * src/<family>.h, in the vocabulary below; cuda/<family>.cu and
 * opencl/<family>.cl include this header and then that body. Package host
 * has Go twins of the helpers with the same names (host/lemath.go), so the
 * three paths compute the same thing.
 *
 * The first part maps the two dialects onto one vocabulary:
 *   LE_KERNEL      kernel qualifier          LE_GLOBAL  global-memory pointer qualifier
 *   LE_FN          device helper qualifier   LE_LOCAL   work-group shared memory
 *   LE_TID/LE_BID  thread/block index        LE_NBLOCKS number of blocks in the grid
 *   LE_SYNC()      work-group barrier (orders work-group shared memory)
 *   LE_SYNC_GLOBAL() work-group barrier that also makes the block's
 *                  global-memory writes visible to the whole block
 *   le_real        double where the device has it, else float (below)
 * Every kernel is launched with LE_BLOCK threads per block. Kernels never
 * return before a barrier (PoCL cannot compile that): surplus threads and
 * blocks run their loops zero times instead. A barrier inside a
 * conditional, even a block-uniform one, can crash PoCL 3.1 as well
 * (ctc_beta_grad did, with its per-step barriers in an if inside the time
 * loop): prefer loops whose trip count is the same for the whole block.
 * Offsets into [rows, cols] matrices are LE_INDEX (64-bit).
 */
#ifndef LOSSENGINE_LEMATH_H
#define LOSSENGINE_LEMATH_H

#define LE_BLOCK 256

#ifdef __CUDACC__
#define LE_KERNEL extern "C" __global__ void __launch_bounds__(LE_BLOCK)
#define LE_FN static __device__ __forceinline__
#define LE_GLOBAL
#define LE_LOCAL __shared__
#define LE_LOCAL_PTR
#define LE_TID ((int)threadIdx.x)
#define LE_BID ((int)blockIdx.x)
#define LE_NBLOCKS ((int)gridDim.x)
#define LE_SYNC() __syncthreads()
#define LE_SYNC_GLOBAL() __syncthreads() /* orders global memory too */
#define LE_INF __int_as_float(0x7f800000)
#define LE_NAN __int_as_float(0x7fffffff)
#define LE_INDEX long long
#else /* OpenCL C 1.2 */
#define LE_KERNEL __kernel __attribute__((reqd_work_group_size(LE_BLOCK, 1, 1))) void
#define LE_FN static inline
#define LE_GLOBAL __global
#define LE_LOCAL __local
#define LE_LOCAL_PTR __local
#define LE_TID ((int)get_local_id(0))
#define LE_BID ((int)get_group_id(0))
#define LE_NBLOCKS ((int)get_num_groups(0))
#define LE_SYNC() barrier(CLK_LOCAL_MEM_FENCE)
#define LE_SYNC_GLOBAL() barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE)
#define LE_INF INFINITY
#define LE_NAN NAN
#define LE_INDEX long
#endif

/*
 * LE_UNROLL is how many of a thread's columns the row loops of the
 * softmax and cross_entropy families (src/softmax.h, src/cross_entropy.h)
 * load per trip before using any, so that several loads are in flight per
 * thread. A thread visits its columns t, t + LE_BLOCK, ... in the same
 * order whatever LE_UNROLL is, so results do not depend on it, only speed
 * does. CUDA: 8 (one load at a time leaves those kernels bound by memory
 * latency). OpenCL: 1, the plain loop: on PoCL 3.1 (CPU), whose work-group
 * compiler vectorises across work-items, 4 and 8 made these kernels 5% to
 * 80% slower. Define LE_UNROLL before lemath.h (e.g. -DLE_UNROLL=4, a
 * compiler option) to override.
 */
#ifndef LE_UNROLL
#ifdef __CUDACC__
#define LE_UNROLL 8
#else
#define LE_UNROLL 1
#endif
#endif

/*
 * le_real is the type of the few computations that need more than float
 * precision (the CTC recursions, whose float32 rounding would add up over
 * thousands of time steps): double on CUDA and on OpenCL devices with
 * cl_khr_fp64, float on the others (LE_REAL_IS_DOUBLE says which).
 */
#ifdef __CUDACC__
typedef double le_real;
#define LE_REAL_IS_DOUBLE 1
#elif defined(cl_khr_fp64)
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double le_real;
#define LE_REAL_IS_DOUBLE 1
#else
typedef float le_real;
#define LE_REAL_IS_DOUBLE 0
#endif

/* le_log1p_exp(x) = log(1 + exp(x)), without overflow for large x. */
LE_FN float le_log1p_exp(float x) {
    return x > 0.0f ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* le_log_add_exp(a, b) = log(exp(a) + exp(b)), exact when either is -inf. */
LE_FN float le_log_add_exp(float a, float b) {
    if (a == -LE_INF) return b;
    if (b == -LE_INF) return a;
    float m = fmax(a, b);
    return m + log1p(exp(-fabs(a - b)));
}

/*
 * Online log-sum-exp: the state (m, s) stands for m + log(s), the log of a
 * sum of exponentials with running maximum m. le_lse_push adds exp(x);
 * le_lse_merge adds another state. -inf terms are skipped so that all--inf
 * rows give (m, s) = (-inf, 0), i.e. log-sum-exp -inf. A NaN or +inf term
 * makes the state (NaN, NaN) for good, so the row's log-sum-exp is NaN, as
 * in the host mirrors (where exp(+inf - max) is NaN).
 */
LE_FN void le_lse_push(float *m, float *s, float x) {
    if (x != x || x == LE_INF) { *m = LE_NAN; *s = LE_NAN; return; } /* sticks */
    if (x == -LE_INF) return;
    if (x > *m) {
        *s = *s * exp(*m - x) + 1.0f;
        *m = x;
    } else {
        *s += exp(x - *m);
    }
}

LE_FN void le_lse_merge(float *m, float *s, float m2, float s2) {
    if (*m != *m) return;
    if (m2 != m2) { *m = m2; *s = s2; return; }
    if (m2 == -LE_INF) return;
    if (*m == -LE_INF) { *m = m2; *s = s2; return; }
    if (m2 > *m) {
        *s = *s * exp(*m - m2) + s2;
        *m = m2;
    } else {
        *s += s2 * exp(m2 - *m);
    }
}

/* le_lse_value turns a state into log-sum-exp; NaN inputs propagate through m. */
LE_FN float le_lse_value(float m, float s) {
    return m == -LE_INF ? -LE_INF : m + log(s);
}

/*
 * le_block_sum returns, to every thread of the block, the sum of v over the
 * block's LE_BLOCK threads, added in a fixed tree (pairs at distance 128,
 * 64, ..., 1) so the result is bitwise reproducible. sh must hold LE_BLOCK
 * floats. All threads must call it.
 */
LE_FN float le_block_sum(LE_LOCAL_PTR float *sh, float v) {
    int t = LE_TID;
    sh[t] = v;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) sh[t] += sh[t + d];
        LE_SYNC();
    }
    float r = sh[0];
    LE_SYNC();
    return r;
}

/*
 * le_block_sum2 is le_block_sum for two values at once, in one tree: *a
 * and *b become the block's sums of a and of b, bitwise the same as two
 * le_block_sum calls. sha and shb must hold LE_BLOCK floats each. All
 * threads must call it.
 */
LE_FN void le_block_sum2(LE_LOCAL_PTR float *sha, LE_LOCAL_PTR float *shb, float *a, float *b) {
    int t = LE_TID;
    sha[t] = *a;
    shb[t] = *b;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) {
            sha[t] += sha[t + d];
            shb[t] += shb[t + d];
        }
        LE_SYNC();
    }
    *a = sha[0];
    *b = shb[0];
    LE_SYNC();
}

/* le_block_max: as le_block_sum, for the maximum (NaN propagates). */
LE_FN float le_block_max(LE_LOCAL_PTR float *sh, float v) {
    int t = LE_TID;
    sh[t] = v;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) {
            float a = sh[t], b = sh[t + d];
            sh[t] = (a != a || b != b) ? a + b : fmax(a, b);
        }
        LE_SYNC();
    }
    float r = sh[0];
    LE_SYNC();
    return r;
}

/*
 * le_block_lse merges the online log-sum-exp states of all threads in a
 * fixed tree and returns the merged state to every thread. shm and shs
 * must hold LE_BLOCK floats each.
 */
LE_FN void le_block_lse(LE_LOCAL_PTR float *shm, LE_LOCAL_PTR float *shs, float *m, float *s) {
    int t = LE_TID;
    shm[t] = *m;
    shs[t] = *s;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) {
            float mm = shm[t], ss = shs[t];
            le_lse_merge(&mm, &ss, shm[t + d], shs[t + d]);
            shm[t] = mm;
            shs[t] = ss;
        }
        LE_SYNC();
    }
    *m = shm[0];
    *s = shs[0];
    LE_SYNC();
}

/* le_sign(x): -1, 0 or 1; NaN for NaN. */
LE_FN float le_sign(float x) {
    return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
}

/* le_clamp_min(x, lo) = max(x, lo), but NaN for NaN (unlike fmax). */
LE_FN float le_clamp_min(float x, float lo) {
    return x < lo ? lo : x;
}

/* le_sigmoid(x) = 1 / (1 + exp(-x)), without overflow. */
LE_FN float le_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    float e = exp(x);
    return e / (1.0f + e);
}

/* le_softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). */
LE_FN float le_softplus(float x) {
    return fmax(x, 0.0f) + log1p(exp(-fabs(x)));
}

/*
 * le_logistic(x, &L, &p, &pn): from one exponential e = exp(-|x|),
 * L = log1p(e) = softplus(-|x|), p = sigmoid(x) and pn = sigmoid(-x) =
 * 1 - p: 1/(1 + e) for the one on x's side, e/(1 + e) for the other, so
 * both keep their digits however small (never as 1 - sigmoid). NaN
 * propagates.
 */
LE_FN void le_logistic(float x, float *L, float *p, float *pn) {
    float e = exp(-fabs(x)), r = 1.0f / (1.0f + e), er = e * r;
    *L = log1p(e);
    *p = x >= 0.0f ? r : er;
    *pn = x >= 0.0f ? er : r;
}

/*
 * Pointwise loss ops (the op argument of pointwise_loss; kernelspec.Op* in
 * Go). le_pointwise sets *l to the loss of element (x, y) and *dx, *dy, *da
 * to its partial derivatives w.r.t. x (input), y (target) and a (the
 * auxiliary input: pos_weight or var). p0, p1, p2 are the op's parameters.
 * Twin: pointwiseOp in host/pointwise.go, whose comments give each formula.
 */
#define LE_OP_MSE 0
#define LE_OP_L1 1
#define LE_OP_HUBER 2           /* p0 = delta */
#define LE_OP_SMOOTH_L1 3       /* p0 = beta */
#define LE_OP_LOG_COSH 4
#define LE_OP_MAPE 5            /* p0 = epsilon */
#define LE_OP_MSLE 6            /* p0 = epsilon */
#define LE_OP_BCE 7
#define LE_OP_BCE_LOGITS 8      /* a = pos_weight */
#define LE_OP_SIGMOID_FOCAL 9   /* p0 = alpha (< 0: none), p1 = gamma */
#define LE_OP_HINGE_EMBEDDING 10 /* p0 = margin */
#define LE_OP_SOFT_MARGIN 11
#define LE_OP_HINGE 12
#define LE_OP_SQUARED_HINGE 13
#define LE_OP_KL_DIV 14         /* p0 = log_target */
#define LE_OP_POISSON_NLL 15    /* p0 = log_input, p1 = full, p2 = eps */
#define LE_OP_GAUSSIAN_NLL 16   /* a = var, p0 = full, p1 = eps */

#define LE_LOG_2 0.69314718055994531f
#define LE_LOG_2PI 1.8378770664093453f

/*
 * le_log_cosh(d, &g): log cosh d, and tanh d in *g. Below the knee
 * |d| < LE_LOG_COSH_KNEE it is -log1p(-tanh^2 d)/2, whose terms have one
 * sign (|d| - log 2 + log1p(exp(-2|d|)) cancels to d^2/2 near 0); at and
 * above it (|d| - log 2) + log1p(exp(-2|d|)), two positive terms (the
 * knee is above log 2).
 */
#define LE_LOG_COSH_KNEE 0.75f

LE_FN float le_log_cosh(float d, float *g) {
    float z = fabs(d), w = tanh(d);
    *g = w;
    if (z < LE_LOG_COSH_KNEE) return -0.5f * log1p(-w * w);
    return (z - LE_LOG_2) + log1p(exp(-2.0f * z));
}

LE_FN void le_pointwise(int op, float x, float y, float a, float p0, float p1, float p2,
                        float *l, float *dx, float *dy, float *da) {
    float d = x - y;
    *da = 0.0f;
    switch (op) {
    case LE_OP_MSE:
        *l = d * d;
        *dx = 2.0f * d;
        *dy = -2.0f * d;
        return;
    case LE_OP_L1: {
        float s = le_sign(d);
        *l = fabs(d);
        *dx = s;
        *dy = -s;
        return;
    }
    case LE_OP_HUBER: {
        float z = fabs(d);
        *l = z < p0 ? 0.5f * d * d : p0 * (z - 0.5f * p0);
        float g = d <= -p0 ? -p0 : (d >= p0 ? p0 : d);
        *dx = g;
        *dy = -g;
        return;
    }
    case LE_OP_SMOOTH_L1: {
        float z = fabs(d), g;
        if (p0 == 0.0f) {
            *l = z;
            g = le_sign(d);
        } else {
            *l = z < p0 ? 0.5f * d * d / p0 : z - 0.5f * p0;
            g = d <= -p0 ? -1.0f : (d >= p0 ? 1.0f : d / p0);
        }
        *dx = g;
        *dy = -g;
        return;
    }
    case LE_OP_LOG_COSH: {
        float g;
        *l = le_log_cosh(d, &g);
        *dx = g;
        *dy = -g;
        return;
    }
    case LE_OP_MAPE: {
        float z = fabs(d), m = le_clamp_min(fabs(y), p0), s = le_sign(d);
        *l = 100.0f * z / m;
        *dx = 100.0f * s / m;
        *dy = -100.0f * s / m - (fabs(y) > p0 ? 100.0f * z * le_sign(y) / (m * m) : 0.0f);
        return;
    }
    case LE_OP_MSLE: {
        float u = log(le_clamp_min(x, p0) + 1.0f), v = log(le_clamp_min(y, p0) + 1.0f), e = u - v;
        *l = e * e;
        *dx = x > p0 ? 2.0f * e / (x + 1.0f) : 0.0f;
        *dy = y > p0 ? -2.0f * e / (y + 1.0f) : 0.0f;
        return;
    }
    case LE_OP_BCE: {
        float lx = le_clamp_min(log(x), -100.0f), l1x = le_clamp_min(log(1.0f - x), -100.0f);
        *l = -(y * lx + (1.0f - y) * l1x);
        *dx = d / fmax((1.0f - x) * x, 1e-12f);
        *dy = l1x - lx;
        return;
    }
    case LE_OP_BCE_LOGITS: { /* terms of one sign: see pointwiseOp */
        float L, p, pn, xm = fmax(x, 0.0f), xn = fmin(x, 0.0f);
        le_logistic(x, &L, &p, &pn);
        float ay = a * y, lw = 1.0f + (a - 1.0f) * y;
        *l = (1.0f - y) * xm - ay * xn + lw * L;
        *dx = (1.0f - y) * p - ay * pn;
        *dy = -xm - a * xn + (a - 1.0f) * L;
        return;
    }
    case LE_OP_SIGMOID_FOCAL: { /* q = 1 - p_t = (1-y)p + y(1-p), as sigmoids */
        float L, p, pn;
        le_logistic(x, &L, &p, &pn);
        float ce = (1.0f - y) * fmax(x, 0.0f) - y * fmin(x, 0.0f) + L;
        float q = (1.0f - y) * p + y * pn;
        float qg = pow(q, p1);
        float dqg = q > 0.0f ? p1 * pow(q, p1 - 1.0f) : (p1 == 1.0f ? 1.0f : 0.0f);
        float l0 = ce * qg;
        float gx = ((1.0f - y) * p - y * pn) * qg + ce * dqg * (1.0f - 2.0f * y) * (p * pn);
        float gy = -x * qg + ce * dqg * (pn - p);
        if (p0 >= 0.0f) {
            float at = p0 * y + (1.0f - p0) * (1.0f - y);
            *l = at * l0;
            *dx = at * gx;
            *dy = at * gy + (2.0f * p0 - 1.0f) * l0;
        } else {
            *l = l0;
            *dx = gx;
            *dy = gy;
        }
        return;
    }
    case LE_OP_HINGE_EMBEDDING: {
        float h = p0 - x;
        *l = y == 1.0f ? x : le_clamp_min(h, 0.0f);
        *dx = y == 1.0f ? 1.0f : (h > 0.0f ? -1.0f : 0.0f);
        *dy = 0.0f;
        return;
    }
    case LE_OP_SOFT_MARGIN:
        *l = le_softplus(-y * x);
        *dx = -y * le_sigmoid(-y * x);
        *dy = 0.0f;
        return;
    case LE_OP_HINGE: {
        float h = 1.0f - y * x;
        *l = le_clamp_min(h, 0.0f);
        *dx = h > 0.0f ? -y : 0.0f;
        *dy = 0.0f;
        return;
    }
    case LE_OP_SQUARED_HINGE: {
        float h = le_clamp_min(1.0f - y * x, 0.0f);
        *l = h * h;
        *dx = -2.0f * y * h;
        *dy = 0.0f;
        return;
    }
    case LE_OP_KL_DIV:
        if (p0 != 0.0f) {
            float ey = exp(y);
            *l = ey * (y - x);
            *dx = -ey;
            *dy = ey * (y - x + 1.0f);
        } else {
            *l = (y == 0.0f ? 0.0f : y * log(y)) - y * x;
            *dx = -y;
            *dy = log(y) + 1.0f - x;
        }
        return;
    case LE_OP_POISSON_NLL: {
        if (p0 != 0.0f) {
            float ex = exp(x);
            *l = ex - y * x;
            *dx = ex - y;
            *dy = -x;
        } else {
            float lx = log(x + p2);
            *l = x - y * lx;
            *dx = 1.0f - y / (x + p2);
            *dy = -lx;
        }
        if (p1 != 0.0f && y > 1.0f) {
            float ly = log(y);
            *l += y * ly - y + 0.5f * (LE_LOG_2PI + ly);
            *dy += ly + 0.5f / y;
        }
        return;
    }
    case LE_OP_GAUSSIAN_NLL: {
        float v = le_clamp_min(a, p1), q = d / v;
        *l = 0.5f * (log(v) + d * q) + (p0 != 0.0f ? 0.5f * LE_LOG_2PI : 0.0f);
        *dx = q;
        *dy = -q;
        *da = 0.5f * (1.0f - d * q) / v;
        return;
    }
    default:
        *l = LE_NAN;
        *dx = LE_NAN;
        *dy = LE_NAN;
        *da = LE_NAN;
    }
}

/* pointwise_loss flag bits (kernelspec.Flag* in Go). */
#define LE_FLAG_GRAD_INPUT 1
#define LE_FLAG_GRAD_TARGET 2
#define LE_FLAG_REDUCE 4
#define LE_FLAG_WEIGHT 8
#define LE_FLAG_MASK 16
#define LE_FLAG_AUX 32
#define LE_FLAG_GRAD_AUX 64
#define LE_FLAG_DENOM 128

/*
 * le_bcast(i, len, stride): the index into a buffer of len elements that
 * element i of a larger tensor reads, (i / stride) mod len. len = n,
 * stride = 1 is the same shape; len = 1 a scalar.
 */
LE_FN LE_INDEX le_bcast(LE_INDEX i, int len, int stride) {
    return (i / stride) % len;
}

/* scale_rows flag bits (kernelspec.Rows* in Go). */
#define LE_ROWS_WEIGHT 1
#define LE_ROWS_MASK 2
#define LE_ROWS_GRAD 4
#define LE_ROWS_GRAD_TARGET 8
#define LE_ROWS_DENOM 16

/* Reduction codes (kernelspec.Reduction* in Go). */
#define LE_REDUCTION_MEAN 0
#define LE_REDUCTION_SUM 1
#define LE_REDUCTION_NONE 2

/* ctc_beta_grad gradient modes (kernelspec.CTCGrad* in Go). */
#define LE_CTC_GRAD_EXACT 0
#define LE_CTC_GRAD_SOFTMAX 1

#endif
