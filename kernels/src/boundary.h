/*
 * src/boundary.h: the boundary loss of Kervadec et al. (MIDL 2019) over
 * logits [n, c, s] (s: the product of the spatial sizes) and signed
 * distance maps of the same shape, with its gradient w.r.t. the logits.
 * Host mirror (the specification): host/boundary.go. The one body of the
 * family: kernels/cuda/boundary.cu and kernels/opencl/boundary.cl include
 * it after lemath.h.
 *
 * Grid of boundary_loss: min(ceil(n*s / LE_BLOCK), kernelspec.MaxReduceBlocks)
 * blocks of LE_BLOCK threads, grid-stride over the n*s pixels in chunks of
 * LE_BLOCK: pixel q = i*s + j (sample i, position j) is handled by thread
 * q mod LE_BLOCK of block (q / LE_BLOCK) mod LE_NBLOCKS, the partition the
 * host mirror sums over. A pixel's classes lie s apart.
 */
#ifndef LOSSENGINE_SRC_BOUNDARY_H
#define LOSSENGINE_SRC_BOUNDARY_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/boundary.h"
#endif

/* Activations (kernelspec.Activation* in Go). */
#define LE_ACT_SOFTMAX 0
#define LE_ACT_SIGMOID 1
#define LE_ACT_NONE 2

/* boundary_loss flag bits (kernelspec.BoundaryFlag* in Go). */
#define LE_BND_GRAD 1
#define LE_BND_REDUCE 2

/*
 * boundary_loss (boundaryLoss): for pixel (i, j), with x_k = x[(i*c + k)*s + j],
 * e_k = dist[(i*c + k)*s + j] if use[k] != 0, else 0, and
 *   act softmax: p_k = exp(x_k - m) / sum_l exp(x_l - m), m = max_l x_l,
 *                grad_k = p_k (e_k - L)
 *   act sigmoid: p_k = 1 / (1 + exp(-x_k)), grad_k = e_k p_k (1 - p_k)
 *   act none:    p_k = x_k,                  grad_k = e_k
 * where L = sum_k p_k e_k, the pixel's loss:
 *   grad[(i*c + k)*s + j] = grad_scale * grad_k        if flags & LE_BND_GRAD
 *   out[(i*c + k)*s + j]  = p_k e_k                    unless flags & LE_BND_REDUCE
 *   out[b] = sum of L over block b's pixels, added by each thread in order
 *            and then in a fixed tree,                 if flags & LE_BND_REDUCE
 * A class whose use[k] is 0 contributes exact zeros (p_k e_k = 0 even for
 * an infinite or NaN distance), though its logit enters the softmax. Each
 * pixel's elements are read and then written by one thread, so grad may be x.
 */
LE_KERNEL boundary_loss(const LE_GLOBAL float *x, const LE_GLOBAL float *dist, const LE_GLOBAL int *use, int n, int c,
                        int s, int act, float grad_scale, int flags, LE_GLOBAL float *grad, LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    LE_INDEX npix = (LE_INDEX)n * s;
    float acc = 0.0f;
    for (LE_INDEX q = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; q < npix; q += stride) {
        LE_INDEX i = q / s, j = q - i * s;
        LE_INDEX base = i * c * (LE_INDEX)s + j;
        float m = -LE_INF, z = 0.0f;
        if (act == LE_ACT_SOFTMAX) {
            for (int k = 0; k < c; k++) {
                float v = x[base + k * (LE_INDEX)s];
                m = (v != v || m != m) ? v + m : fmax(m, v);
            }
            for (int k = 0; k < c; k++) z += exp(x[base + k * (LE_INDEX)s] - m);
        }
        float L = 0.0f;
        for (int k = 0; k < c; k++) {
            LE_INDEX o = base + k * (LE_INDEX)s;
            float v = x[o], p;
            if (act == LE_ACT_SOFTMAX) p = exp(v - m) / z;
            else if (act == LE_ACT_SIGMOID) p = le_sigmoid(v);
            else p = v;
            float pe = use[k] != 0 ? p * dist[o] : 0.0f;
            L += pe;
            if (!(flags & LE_BND_REDUCE)) out[o] = pe;
        }
        if (flags & LE_BND_GRAD) {
            for (int k = 0; k < c; k++) {
                LE_INDEX o = base + k * (LE_INDEX)s;
                float v = x[o], e = use[k] != 0 ? dist[o] : 0.0f, gk;
                if (act == LE_ACT_SOFTMAX) gk = exp(v - m) / z * (e - L);
                else if (act == LE_ACT_SIGMOID) {
                    float L1, p, pn;
                    le_logistic(v, &L1, &p, &pn);
                    gk = e * (p * pn);
                } else gk = e;
                grad[o] = grad_scale * gk;
            }
        }
        acc += L;
    }
    if (flags & LE_BND_REDUCE) {
        float r = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = r;
    }
}

#endif /* LOSSENGINE_SRC_BOUNDARY_H */
