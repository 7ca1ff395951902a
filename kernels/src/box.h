/*
 * src/box.h: box IoU losses over pairs of boxes (x1, y1, x2, y2), with
 * their gradients w.r.t. both box sets, as torchvision.ops defines them.
 * Host mirror (the specification): host/box.go. The one body of the
 * family: kernels/cuda/box.cu and kernels/opencl/box.cl include it after
 * lemath.h.
 *
 * Grid of box_iou_loss: min(ceil(n / LE_BLOCK), kernelspec.MaxReduceBlocks)
 * blocks of LE_BLOCK threads, grid-stride in chunks of LE_BLOCK: box i is
 * handled by thread i mod LE_BLOCK of block (i / LE_BLOCK) mod LE_NBLOCKS,
 * the partition the host mirror sums over.
 */
#ifndef LOSSENGINE_SRC_BOX_H
#define LOSSENGINE_SRC_BOX_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/box.h"
#endif

/* Box loss ops (kernelspec.Box* in Go). */
#define LE_BOX_IOU 0
#define LE_BOX_GIOU 1
#define LE_BOX_DIOU 2
#define LE_BOX_CIOU 3

/* box_iou_loss flag bits (kernelspec.BoxFlag* in Go). */
#define LE_BOX_GRAD1 1
#define LE_BOX_GRAD2 2
#define LE_BOX_REDUCE 4

/* 4 / pi^2, the factor of CIoU's aspect term. */
#define LE_BOX_CIOU_K 0.40528473456935109f

/*
 * le_sel_min(a, b): d min(a, b) / da, with a tie split evenly (PyTorch's
 * minimum backward); d min(a, b) / db = 1 - le_sel_min(a, b). le_sel_max
 * likewise for the maximum.
 */
LE_FN float le_sel_min(float a, float b) { return a < b ? 1.0f : (a == b ? 0.5f : 0.0f); }
LE_FN float le_sel_max(float a, float b) { return a > b ? 1.0f : (a == b ? 0.5f : 0.0f); }

/*
 * le_box_loss: the loss of one pair of boxes p = boxes1[i], g = boxes2[i]
 * for op, and its gradient w.r.t. the 4 coordinates of each (dp, dg),
 * with the formulas of torchvision.ops (see boxLoss in host/box.go). The
 * gradient is assembled per coordinate q from the derivatives of the
 * intersection, the areas and the enclosing box, each term in the form
 * (dX - dY) - value * dY that is exact where the boxes coincide.
 */
LE_FN float le_box_loss(int op, const float *p, const float *g, float eps, float *dp, float *dg) {
    float x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
    float u1 = g[0], v1 = g[1], u2 = g[2], v2 = g[3];
    /* intersection */
    float ix1 = fmax(x1, u1), iy1 = fmax(y1, v1), ix2 = fmin(x2, u2), iy2 = fmin(y2, v2);
    float iw = ix2 - ix1, ih = iy2 - iy1;
    int hit = iw > 0.0f && ih > 0.0f;
    float inter = hit ? iw * ih : 0.0f;
    float w1 = x2 - x1, h1 = y2 - y1, w2 = u2 - u1, h2 = v2 - v1;
    float uni = w1 * h1 + w2 * h2 - inter;
    float ue = uni + eps;
    float iou = inter / ue;
    /* 1 - iou, as ((union - inter) + eps) / (union + eps): exact for identical boxes */
    float liou = ((uni - inter) + eps) / ue;
    float loss = liou;
    float cx1 = fmin(x1, u1), cy1 = fmin(y1, v1), cx2 = fmax(x2, u2), cy2 = fmax(y2, v2);
    float cw = cx2 - cx1, ch = cy2 - cy1;
    float sx1 = le_sel_max(x1, u1), sy1 = le_sel_max(y1, v1), sx2 = le_sel_min(x2, u2), sy2 = le_sel_min(y2, v2);
    float tx1 = le_sel_min(x1, u1), ty1 = le_sel_min(y1, v1), tx2 = le_sel_max(x2, u2), ty2 = le_sel_max(y2, v2);
    /* derivatives w.r.t. q = (x1, y1, x2, y2, u1, v1, u2, v2) */
    float dI[8], dA[8], dW[8], dH[8], dX[8], dY[8], dT[8];
    float hi = hit ? 1.0f : 0.0f;
    dI[0] = -hi * ih * sx1; dI[4] = -hi * ih * (1.0f - sx1);
    dI[2] = hi * ih * sx2;  dI[6] = hi * ih * (1.0f - sx2);
    dI[1] = -hi * iw * sy1; dI[5] = -hi * iw * (1.0f - sy1);
    dI[3] = hi * iw * sy2;  dI[7] = hi * iw * (1.0f - sy2);
    /* area1 + area2 */
    dA[0] = -h1; dA[2] = h1; dA[1] = -w1; dA[3] = w1;
    dA[4] = -h2; dA[6] = h2; dA[5] = -w2; dA[7] = w2;
    /* enclosing width and height */
    dW[0] = -tx1; dW[4] = -(1.0f - tx1); dW[2] = tx2; dW[6] = 1.0f - tx2;
    dW[1] = 0.0f; dW[3] = 0.0f; dW[5] = 0.0f; dW[7] = 0.0f;
    dH[1] = -ty1; dH[5] = -(1.0f - ty1); dH[3] = ty2; dH[7] = 1.0f - ty2;
    dH[0] = 0.0f; dH[2] = 0.0f; dH[4] = 0.0f; dH[6] = 0.0f;
    /* centre offsets dx, dy, and the aspect angles atan(w/h) (T: a2 - a1) */
    for (int q = 0; q < 8; q++) {
        dX[q] = 0.0f;
        dY[q] = 0.0f;
        dT[q] = 0.0f;
    }
    dX[0] = 0.5f; dX[2] = 0.5f; dX[4] = -0.5f; dX[6] = -0.5f;
    dY[1] = 0.5f; dY[3] = 0.5f; dY[5] = -0.5f; dY[7] = -0.5f;
    float egi = 0.0f, ce = 1.0f, ed = 0.0f, diag = 1.0f, dx = 0.0f, dy = 0.0f, gv = 0.0f;
    if (op == LE_BOX_GIOU) {
        float area = cw * ch;
        ce = area + eps;
        egi = (area - uni) / ce;
        loss += egi;
    } else if (op == LE_BOX_DIOU || op == LE_BOX_CIOU) {
        diag = cw * cw + ch * ch + eps;
        dx = 0.5f * (x1 + x2) - 0.5f * (u1 + u2);
        dy = 0.5f * (y1 + y2) - 0.5f * (v1 + v2);
        ed = (dx * dx + dy * dy) / diag;
        loss += ed;
        if (op == LE_BOX_CIOU) {
            float a1 = atan(w1 / h1), a2 = atan(w2 / h2), da = a2 - a1;
            float v = LE_BOX_CIOU_K * da * da;
            float alpha = v / (1.0f - iou + v + eps); /* a constant for the gradient */
            loss += alpha * v;
            gv = alpha * 2.0f * LE_BOX_CIOU_K * da;
            /* d atan(w/h) / dw = h / (w^2 + h^2), / dh = -w / (w^2 + h^2) */
            float r1 = w1 * w1 + h1 * h1, r2 = w2 * w2 + h2 * h2;
            dT[0] = h1 / r1; dT[2] = -h1 / r1; dT[1] = -w1 / r1; dT[3] = w1 / r1;
            dT[4] = -h2 / r2; dT[6] = h2 / r2; dT[5] = w2 / r2; dT[7] = -w2 / r2;
        }
    }
    for (int q = 0; q < 8; q++) {
        float dU = dA[q] - dI[q];
        float d = ((dU - dI[q]) - liou * dU) / ue;
        if (op == LE_BOX_GIOU) {
            float dC = ch * dW[q] + cw * dH[q];
            d += ((dC - dU) - egi * dC) / ce;
        } else if (op == LE_BOX_DIOU || op == LE_BOX_CIOU) {
            float drho = 2.0f * (dx * dX[q] + dy * dY[q]), ddiag = 2.0f * (cw * dW[q] + ch * dH[q]);
            d += (drho - ed * ddiag) / diag + gv * dT[q];
        }
        if (q < 4) dp[q] = d;
        else dg[q - 4] = d;
    }
    return loss;
}

/*
 * box_iou_loss (boxIoULoss): for i < n, with
 *   (l, dp, dg) = le_box_loss(op, boxes1[4i..4i+3], boxes2[4i..4i+3], eps):
 *   grad1[4i+k] = grad_scale * dp[k]     if flags & LE_BOX_GRAD1
 *   grad2[4i+k] = grad_scale * dg[k]     if flags & LE_BOX_GRAD2
 *   out[i]      = l                      unless flags & LE_BOX_REDUCE
 *   out[b]      = sum of l over block b's boxes, added by each thread in
 *                 order and then in a fixed tree, if flags & LE_BOX_REDUCE
 * Each box is read and then written by one thread, so grad1 may be boxes1
 * and grad2 may be boxes2.
 */
LE_KERNEL box_iou_loss(int op, const LE_GLOBAL float *boxes1, const LE_GLOBAL float *boxes2, int n, float eps,
                       float grad_scale, int flags, LE_GLOBAL float *grad1, LE_GLOBAL float *grad2,
                       LE_GLOBAL float *out) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX i = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; i < n; i += stride) {
        float p[4], g[4], dp[4], dg[4];
        for (int k = 0; k < 4; k++) {
            p[k] = boxes1[4 * i + k];
            g[k] = boxes2[4 * i + k];
        }
        float l = le_box_loss(op, p, g, eps, dp, dg);
        if (flags & LE_BOX_GRAD1)
            for (int k = 0; k < 4; k++) grad1[4 * i + k] = grad_scale * dp[k];
        if (flags & LE_BOX_GRAD2)
            for (int k = 0; k < 4; k++) grad2[4 * i + k] = grad_scale * dg[k];
        if (flags & LE_BOX_REDUCE) acc += l;
        else out[i] = l;
    }
    if (flags & LE_BOX_REDUCE) {
        float s = le_block_sum(sh, acc);
        if (LE_TID == 0) out[LE_BID] = s;
    }
}

#endif /* LOSSENGINE_SRC_BOX_H */
