/*
 * src/softmetric.h: metric-aligned losses over probabilities (or logits
 * through a sigmoid): the soft F1 loss and the soft Matthews correlation
 * loss, with their gradients w.r.t. the input. Host mirror (the
 * specification): host/softmetric.go. The one body of the family:
 * kernels/cuda/softmetric.cu and kernels/opencl/softmetric.cl include it
 * after lemath.h.
 *
 * The input x and the target y are row-major [n, c]: element (r, j) at
 * r*c + j, j the class. Three launches:
 *   sm_partials  nb blocks: block b sums rows [b*rpb, min(n, (b+1)*rpb)),
 *                per class, tp = sum p y, fp = sum p (1 - y),
 *                fn = sum (1 - p) y, tn = sum (1 - p)(1 - y) -> part
 *   sm_finish    one block: each class's sums over the blocks, the loss
 *                and the coefficients of the gradient -> coef, loss
 *   sm_grad      grid-stride over the n*c elements: the gradient w.r.t.
 *                x, through the activation
 * p is x, or sigmoid(x) with SM_SIGMOID.
 */
#ifndef LOSSENGINE_SRC_SOFTMETRIC_H
#define LOSSENGINE_SRC_SOFTMETRIC_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/softmetric.h"
#endif

/* Ops of sm_finish (kernelspec.SM* in Go). */
#define SM_F1 0
#define SM_MCC 1

/* Flag bits (kernelspec.SMFlag* in Go). */
#define SM_SIGMOID 1
#define SM_MICRO 2

/*
 * sm_act: the probability p of input v, and *q = 1 - p. With SM_SIGMOID,
 * from e = exp(-|v|): p = 1/(1 + e) and q = e/(1 + e) for v >= 0 (the
 * other way round for v < 0), so that q keeps its digits where p is near
 * 1; otherwise p = v, q = 1 - v.
 */
LE_FN float sm_act(int flags, float v, float *q) {
    if (flags & SM_SIGMOID) {
        float e = exp(-fabs(v));
        float r = 1.0f / (1.0f + e), s = e / (1.0f + e);
        *q = v >= 0.0f ? s : r;
        return v >= 0.0f ? r : s;
    }
    *q = 1.0f - v;
    return v;
}

/*
 * sm_partials (smPartials): for block b < nb and class j < c, with rows
 * r in [b*rpb, min(n, (b+1)*rpb)):
 *   part[(b*c + j)*4 + 0] = sum_r p y          (tp)
 *   part[(b*c + j)*4 + 1] = sum_r p (1 - y)    (fp)
 *   part[(b*c + j)*4 + 2] = sum_r (1 - p) y    (fn)
 *   part[(b*c + j)*4 + 3] = sum_r (1 - p)(1 - y) (tn)
 * (p, 1 - p) = sm_act(x[r*c + j]), y = y[r*c + j]. Thread t adds rows lo + t,
 * lo + t + LE_BLOCK, ... in order, then the block adds the threads' sums
 * in a fixed tree. Blocks b >= nb write nothing.
 */
LE_KERNEL sm_partials(const LE_GLOBAL float *x, const LE_GLOBAL float *y, int n, int c, int nb, int rpb, int flags,
                      LE_GLOBAL float *part) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int b = LE_BID;
    LE_INDEX lo = (LE_INDEX)b * rpb;
    LE_INDEX hi = lo + rpb;
    if (hi > n) hi = n;
    int cc = b < nb ? c : 0; /* no return before a barrier */
    for (int j = 0; j < cc; j++) {
        float tp = 0.0f, fp = 0.0f, fn = 0.0f, tn = 0.0f;
        for (LE_INDEX r = lo + LE_TID; r < hi; r += LE_BLOCK) {
            LE_INDEX e = r * c + j;
            float q;
            float p = sm_act(flags, x[e], &q), t = y[e];
            float u = 1.0f - t;
            tp += p * t;
            fp += p * u;
            fn += q * t;
            tn += q * u;
        }
        le_block_sum2(sha, shb, &tp, &fp);
        le_block_sum2(sha, shb, &fn, &tn);
        if (LE_TID == 0) {
            LE_INDEX o = ((LE_INDEX)b * c + j) * 4;
            part[o] = tp;
            part[o + 1] = fp;
            part[o + 2] = fn;
            part[o + 3] = tn;
        }
    }
}

/*
 * sm_loss_coef: from the sums (tp, fp, fn, tn) of one class (or of all,
 * micro), the loss term v and the coefficients (k0, k1, k2) of
 * d(1 - v)/dp = k0 (1 - y) + k1 y + k2, each divided by div; k0 is the
 * derivative at y = 0 and k1 at y = 1, so that a 0/1 target takes one
 * coefficient as it is, and k2 = 0:
 *   SM_F1:  D = 2 tp + fp + fn + eps, v = 2 tp / D,
 *           d/dp = (v - 2 y) / D: k0 = v/D, k1 = (v - 2)/D
 *   SM_MCC: every sum + eps; A = tp + fp, B = tp + fn, C = tn + fp,
 *           E = tn + fn, den = sqrt(A B) sqrt(C E),
 *           v = (tp tn - fp fn) / den, h = v (1/A - 1/E) / 2,
 *           d/dp = -(y C - (1 - y) B) / den + h:
 *           k0 = B/den + h, k1 = h - C/den
 */
LE_FN float sm_loss_coef(int op, float tp, float fp, float fn, float tn, float eps, float div, float *k0, float *k1,
                         float *k2) {
    if (op == SM_MCC) {
        tp += eps;
        fp += eps;
        fn += eps;
        tn += eps;
        float A = tp + fp, B = tp + fn, C = tn + fp, E = tn + fn;
        float den = sqrt(A * B) * sqrt(C * E);
        float v = (tp * tn - fp * fn) / den;
        float h = 0.5f * v * (1.0f / A - 1.0f / E);
        *k0 = (B / den + h) / div;
        *k1 = (h - C / den) / div;
        *k2 = 0.0f;
        return v;
    }
    float D = 2.0f * tp + fp + fn + eps;
    float v = 2.0f * tp / D;
    *k0 = v / D / div;
    *k1 = (v - 2.0f) / D / div;
    *k2 = 0.0f;
    return v;
}

/*
 * sm_finish (smFinish): one block. Class j's sums are s_j = the sum over
 * b < nb, in order, of part[(b*c + j)*4 + q]. Then
 *   SM_MICRO: S = the sum of the s_j (each thread adds its classes j = t,
 *     t + LE_BLOCK, ... in order, then a fixed tree); (v, k) =
 *     sm_loss_coef(op, S, eps, 1); loss[0] = 1 - v; every class gets k.
 *   otherwise (macro): (v_j, k_j) = sm_loss_coef(op, s_j, eps, c);
 *     loss[0] = 1 - (sum_j v_j)/c (the sum in the same fixed tree; NaN
 *     for c = 0).
 * coef[3j + q] = grad_scale * k_q of class j.
 */
LE_KERNEL sm_finish(const LE_GLOBAL float *part, int nb, int c, int op, int flags, float eps, float grad_scale,
                    LE_GLOBAL float *coef, LE_GLOBAL float *loss) {
    LE_LOCAL float sha[LE_BLOCK];
    LE_LOCAL float shb[LE_BLOCK];
    int micro = (flags & SM_MICRO) != 0;
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, vs = 0.0f;
    for (int j = LE_TID; j < c; j += LE_BLOCK) {
        float s[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int b = 0; b < nb; b++) {
            LE_INDEX o = ((LE_INDEX)b * c + j) * 4;
            for (int q = 0; q < 4; q++) s[q] += part[o + q];
        }
        if (micro) {
            a0 += s[0];
            a1 += s[1];
            a2 += s[2];
            a3 += s[3];
        } else {
            float k0, k1, k2;
            vs += sm_loss_coef(op, s[0], s[1], s[2], s[3], eps, (float)c, &k0, &k1, &k2);
            coef[3 * (LE_INDEX)j] = grad_scale * k0;
            coef[3 * (LE_INDEX)j + 1] = grad_scale * k1;
            coef[3 * (LE_INDEX)j + 2] = grad_scale * k2;
        }
    }
    if (micro) {
        le_block_sum2(sha, shb, &a0, &a1);
        le_block_sum2(sha, shb, &a2, &a3);
        float k0, k1, k2;
        float v = sm_loss_coef(op, a0, a1, a2, a3, eps, 1.0f, &k0, &k1, &k2);
        for (int j = LE_TID; j < c; j += LE_BLOCK) {
            coef[3 * (LE_INDEX)j] = grad_scale * k0;
            coef[3 * (LE_INDEX)j + 1] = grad_scale * k1;
            coef[3 * (LE_INDEX)j + 2] = grad_scale * k2;
        }
        if (LE_TID == 0) loss[0] = 1.0f - v;
    } else {
        float t = le_block_sum(sha, vs);
        if (LE_TID == 0) loss[0] = 1.0f - t / (float)c;
    }
}

/*
 * sm_grad (smGrad): for e < n*c, j = e mod c, (p, q) = sm_act(x[e]),
 *   grad[e] = coef[3j] (1 - y[e]) + coef[3j + 1] y[e] + coef[3j + 2],
 * times p q with SM_SIGMOID (q = 1 - p). Grid-stride; grad may be x.
 */
LE_KERNEL sm_grad(const LE_GLOBAL float *x, const LE_GLOBAL float *y, int n, int c, int flags,
                  const LE_GLOBAL float *coef, LE_GLOBAL float *grad) {
    LE_INDEX total = (LE_INDEX)n * c;
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX e = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; e < total; e += stride) {
        LE_INDEX j = e % c;
        float t = y[e];
        float g = coef[3 * j] * (1.0f - t) + coef[3 * j + 1] * t + coef[3 * j + 2];
        if (flags & SM_SIGMOID) {
            float q;
            float p = sm_act(flags, x[e], &q);
            g *= p * q;
        }
        grad[e] = g;
    }
}

#endif /* LOSSENGINE_SRC_SOFTMETRIC_H */
