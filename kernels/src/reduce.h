/*
 * src/reduce.h: deterministic sums and checks. Host mirrors (the
 * specification): host/reduce.go. The one body of the family:
 * kernels/cuda/reduce.cu and kernels/opencl/reduce.cl include it after
 * lemath.h.
 */
#ifndef LOSSENGINE_SRC_REDUCE_H
#define LOSSENGINE_SRC_REDUCE_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/reduce.h"
#endif

/*
 * rd_block_sum_int: as le_block_sum, for int values (exact). sh must hold
 * LE_BLOCK ints; all threads must call it.
 */
LE_FN int rd_block_sum_int(LE_LOCAL_PTR int *sh, int v) {
    int t = LE_TID;
    sh[t] = v;
    LE_SYNC();
    for (int d = LE_BLOCK / 2; d > 0; d >>= 1) {
        if (t < d) sh[t] += sh[t + d];
        LE_SYNC();
    }
    int r = sh[0];
    LE_SYNC();
    return r;
}

/*
 * reduce_sum (reduceSum): out[0] = scale * sum_{i<n} x[i] /
 * (has_divisor ? divisor[0] : 1), except that a zero divisor gives NaN
 * whatever the sum (a weighted mean over no weight is undefined; dividing
 * would give +-inf for a nonzero sum). One block: thread t adds x[t],
 * x[t + LE_BLOCK], ... in order, then the block adds the partials in a
 * fixed tree. Blocks other than block 0 write nothing.
 */
LE_KERNEL reduce_sum(const LE_GLOBAL float *x, int n, float scale, int has_divisor,
                     const LE_GLOBAL float *divisor, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0; /* no return before a barrier */
    float acc = 0.0f;
    for (LE_INDEX i = LE_TID; i < nn; i += LE_BLOCK) acc += x[i];
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0 && LE_BID == 0) {
        float r = s * scale;
        if (has_divisor) {
            float dv = divisor[0];
            r = dv == 0.0f ? LE_NAN : r / dv;
        }
        out[0] = r;
    }
}

/*
 * count_nan (countNaN): counts[b] = the number of NaNs among the x[i],
 * i < n, that block b visits in a grid-stride loop in chunks of LE_BLOCK,
 * i.e. with (i / LE_BLOCK) mod LE_NBLOCKS == b (the partition of
 * pointwise_loss).
 */
LE_KERNEL count_nan(const LE_GLOBAL float *x, int n, LE_GLOBAL int *counts) {
    LE_LOCAL int sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    int cnt = 0;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float v = x[i];
        if (v != v) cnt++;
    }
    int total = rd_block_sum_int(sh, cnt);
    if (LE_TID == 0) counts[LE_BID] = total;
}

/*
 * count_invalid (countInvalid): counts[b] = the number of x[i], i < n, in
 * block b's part (as in count_nan) that are invalid for mode:
 *   mode 0: x < lo or x > hi (a NaN is not counted; see count_nan)
 *   mode 1: x is neither -1 nor 1 (a NaN is counted)
 */
LE_KERNEL count_invalid(const LE_GLOBAL float *x, int n, int mode, float lo, float hi, LE_GLOBAL int *counts) {
    LE_LOCAL int sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    int cnt = 0;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float v = x[i];
        if (mode == 0 ? (v < lo || v > hi) : (v != -1.0f && v != 1.0f)) cnt++;
    }
    int total = rd_block_sum_int(sh, cnt);
    if (LE_TID == 0) counts[LE_BID] = total;
}

#endif /* LOSSENGINE_SRC_REDUCE_H */
