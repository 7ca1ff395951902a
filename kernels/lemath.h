/*
 * lemath.h: math and block-reduction helpers shared by the CUDA (.cu) and
 * OpenCL (.cl) kernels of lossengine. Package host has Go twins with the
 * same names (host/lemath.go), so the three paths compute the same thing.
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

/*
 * Pointwise loss ops (the op argument of pointwise_loss; kernels.Op* in Go).
 * le_pointwise sets *l to the loss of element (x, y) and *dx, *dy to its
 * partial derivatives w.r.t. x (input) and y (target). p0, p1 are the
 * op's parameters. Twin: pointwiseOp in host/pointwise.go.
 */
#define LE_OP_MSE 0

LE_FN void le_pointwise(int op, float x, float y, float p0, float p1,
                        float *l, float *dx, float *dy) {
    switch (op) {
    case LE_OP_MSE: {
        float d = x - y;
        *l = d * d;
        *dx = 2.0f * d;
        *dy = -2.0f * d;
        return;
    }
    default:
        *l = LE_NAN;
        *dx = LE_NAN;
        *dy = LE_NAN;
    }
}

/* pointwise_loss flag bits (kernels.Flag* in Go). */
#define LE_FLAG_GRAD_INPUT 1
#define LE_FLAG_GRAD_TARGET 2
#define LE_FLAG_REDUCE 4

/* Reduction codes (kernels.Reduction* in Go). */
#define LE_REDUCTION_MEAN 0
#define LE_REDUCTION_SUM 1
#define LE_REDUCTION_NONE 2

/* ctc_beta_grad gradient modes (kernels.CTCGrad* in Go). */
#define LE_CTC_GRAD_EXACT 0
#define LE_CTC_GRAD_SOFTMAX 1

#endif
