/*
 * src/matmul.h: the matmul family, a general matrix product with a bias,
 *   c = alpha * op(a) op(b) + beta * c + bias,
 * the building block of the fused linear layers (a logits tile
 * hidden * W^T + bias, and the two gradient products of such a layer).
 * Host mirror (the specification): host/matmul.go. The one body of the
 * family: kernels/cuda/matmul.cu and kernels/opencl/matmul.cl include it
 * after lemath.h.
 *
 * Register tiling: a block of LE_BLOCK = 256 threads computes a 64 x 64
 * tile of c, each thread 4 x 4 outputs; the k range is walked in tiles of
 * MM_TK = 16, each staged in work-group memory (a 64 x 16 slice of op(a)
 * and a 16 x 64 slice of op(b), 8 KiB together), so that each value read
 * from global memory serves 64 products and each value read from
 * work-group memory serves 4. 16 keeps the staging at 4 loads per thread
 * and operand, and the work-group memory well under the 48 KiB of a CUDA
 * block with room for several blocks per multiprocessor; on PoCL (CPU)
 * k tiles of 8 and 32 measured the same within the noise (docs/matmul.md).
 * The k tile also sets the two-level sum below: results depend on it.
 *
 * Thread t = (ty, tx) = (t / 16, t % 16) owns the outputs
 * (i0 + ty + 16 r, j0 + tx + 16 s) for r, s < 4: the 16 threads of a row
 * of the block read 16 consecutive columns of the staged b slice and one
 * value of the staged a slice (a broadcast), and write 16 consecutive
 * elements of c.
 *
 * The sum is taken in a fixed order: each output adds the 16 products of
 * a k tile in q order into a partial, then the partial to its sum, tile
 * by tile in k order (two levels: rounding grows with 16 + k/16 terms
 * rather than k). No split of k across blocks, no atomics: every result
 * is bitwise reproducible. No kernel returns before a barrier: a block
 * past the last tile runs its loops zero times and writes nothing.
 */
#ifndef LOSSENGINE_SRC_MATMUL_H
#define LOSSENGINE_SRC_MATMUL_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/matmul.h"
#endif

#define MM_TILE 64 /* outputs per block, each way */
#define MM_TK 16   /* k per staged tile */
#define MM_THR 16  /* threads per block, each way */
#define MM_PER 4   /* outputs per thread, each way: MM_TILE / MM_THR */
#if MM_THR * MM_THR != LE_BLOCK || MM_THR * MM_PER != MM_TILE
#error "matmul needs a 16 x 16 block of threads with 4 x 4 outputs each"
#endif
/* The staged elements per operand, per thread. */
#define MM_LOADS (MM_TILE * MM_TK / LE_BLOCK)
/* The staged slices are kept k-major: sa[q][i] = A(i0 + i, q0 + q),
 * sb[q][j] = B(q0 + q, j0 + j); one float of padding per row spreads the
 * transposing stores over the banks. */
#define MM_PAD (MM_TILE + 1)
/* MM_UNROLL unrolls the k-tile loop by 8 on CUDA (nvcc unrolled it by 2
 * alone), so that most work-group memory reads have constant offsets:
 * sm_70 then needs 94 registers a thread, two blocks per multiprocessor
 * (a full unroll took 151, one block). The order of the sums is the same
 * either way. PoCL keeps its own choice. */
#ifdef __CUDACC__
#define MM_UNROLL _Pragma("unroll 8")
#else
#define MM_UNROLL
#endif

/*
 * matmul (matmul): for i < m, j < n,
 *   c[i*n + j] = alpha * sum_{q<k} A(i,q) * B(q,j)
 *                + (beta != 0 ? beta * c[i*n + j] : 0)
 *                + (has_bias ? bias[j] : 0)
 *   A(i,q) = trans_a ? a[q*m + i] : a[i*k + q]
 *   B(q,j) = trans_b ? b[j*k + q] : b[q*n + j]
 * added left to right in that order. With beta = 0, c is not read (a NaN
 * there does not propagate), as in BLAS. With k = 0 the sum is 0, so
 * c = beta * c + bias. Block bid computes the 64 x 64 tile bid / tn,
 * bid % tn with tm = ceil(m/64), tn = ceil(n/64): the grid has tm*tn
 * blocks (none where m or n is 0); a block past the last writes nothing.
 * c must not overlap a, b or bias.
 *
 * a_row0, b_row0 and c_row0 are the first stored rows of the operands in
 * their buffers: a, b and c above start at a + a_row0 * (trans_a ? m : k),
 * b + b_row0 * (trans_b ? k : n) and c + c_row0 * n (a tile of rows of a
 * larger matrix, as the fused linear layers take them; 64-bit offsets).
 */
LE_KERNEL matmul(const LE_GLOBAL float *a, const LE_GLOBAL float *b, LE_GLOBAL float *c, int m, int n, int k,
                 int trans_a, int trans_b, float alpha, float beta, int has_bias, const LE_GLOBAL float *bias,
                 int a_row0, int b_row0, int c_row0) {
    LE_LOCAL float sa[MM_TK][MM_PAD], sb[MM_TK][MM_PAD];
    a += (LE_INDEX)a_row0 * (trans_a ? m : k);
    b += (LE_INDEX)b_row0 * (trans_b ? k : n);
    c += (LE_INDEX)c_row0 * n;
    LE_INDEX tm = ((LE_INDEX)m + MM_TILE - 1) / MM_TILE, tn = ((LE_INDEX)n + MM_TILE - 1) / MM_TILE;
    LE_INDEX bid = LE_BID;
    int active = bid < tm * tn;
    LE_INDEX i0 = active ? bid / tn * MM_TILE : 0, j0 = active ? bid % tn * MM_TILE : 0;
    int tid = LE_TID, ty = tid / MM_THR, tx = tid % MM_THR;
    /* The same for the whole block. */
    LE_INDEX nt = active ? ((LE_INDEX)k + MM_TK - 1) / MM_TK : 0;
    float acc[MM_PER][MM_PER];
    for (int r = 0; r < MM_PER; r++)
        for (int s = 0; s < MM_PER; s++) acc[r][s] = 0.0f;
    for (LE_INDEX t = 0; t < nt; t++) {
        LE_INDEX q0 = t * MM_TK;
        /* Stage A(i0.., q0..) and B(q0.., j0..): element e of a slice is
         * read by thread e % 256, neighbouring threads reading neighbouring
         * addresses in either layout. */
        for (int l = 0; l < MM_LOADS; l++) {
            int e = tid + l * LE_BLOCK;
            if (trans_a) { /* a[q*m + i]: i fastest */
                int ii = e % MM_TILE, qq = e / MM_TILE;
                LE_INDEX i = i0 + ii, q = q0 + qq;
                sa[qq][ii] = (i < m && q < k) ? a[q * m + i] : 0.0f;
            } else { /* a[i*k + q]: q fastest */
                int qq = e % MM_TK, ii = e / MM_TK;
                LE_INDEX i = i0 + ii, q = q0 + qq;
                sa[qq][ii] = (i < m && q < k) ? a[i * k + q] : 0.0f;
            }
            if (trans_b) { /* b[j*k + q]: q fastest */
                int qq = e % MM_TK, jj = e / MM_TK;
                LE_INDEX j = j0 + jj, q = q0 + qq;
                sb[qq][jj] = (j < n && q < k) ? b[j * k + q] : 0.0f;
            } else { /* b[q*n + j]: j fastest */
                int jj = e % MM_TILE, qq = e / MM_TILE;
                LE_INDEX j = j0 + jj, q = q0 + qq;
                sb[qq][jj] = (j < n && q < k) ? b[q * n + j] : 0.0f;
            }
        }
        LE_SYNC();
        float part[MM_PER][MM_PER];
        for (int r = 0; r < MM_PER; r++)
            for (int s = 0; s < MM_PER; s++) part[r][s] = 0.0f;
        MM_UNROLL
        for (int qq = 0; qq < MM_TK; qq++) {
            float av[MM_PER], bv[MM_PER];
            for (int r = 0; r < MM_PER; r++) av[r] = sa[qq][ty + MM_THR * r];
            for (int s = 0; s < MM_PER; s++) bv[s] = sb[qq][tx + MM_THR * s];
            for (int r = 0; r < MM_PER; r++)
                for (int s = 0; s < MM_PER; s++) part[r][s] += av[r] * bv[s];
        }
        for (int r = 0; r < MM_PER; r++)
            for (int s = 0; s < MM_PER; s++) acc[r][s] += part[r][s];
        LE_SYNC();
    }
    if (active) {
        for (int r = 0; r < MM_PER; r++) {
            LE_INDEX i = i0 + ty + MM_THR * r;
            for (int s = 0; s < MM_PER; s++) {
                LE_INDEX j = j0 + tx + MM_THR * s;
                if (i < m && j < n) {
                    LE_INDEX o = i * n + j;
                    float v = alpha * acc[r][s];
                    if (beta != 0.0f) v += beta * c[o];
                    if (has_bias) v += bias[j];
                    c[o] = v;
                }
            }
        }
    }
}

#endif
