/*
 * src/ssim.h: SSIM and MS-SSIM over images [planes = N*C, h, w], with a
 * separable window (the Gaussian of pytorch-msssim, passed in as win
 * weights) applied in the VALID convention: no padding, so a level of
 * h x w gives ho x wo = (h - win + 1) x (w - win + 1) outputs. Host
 * mirrors (the specification): host/ssim.go. The one body of the family:
 * kernels/cuda/ssim.cu and kernels/opencl/ssim.cl include it after
 * lemath.h.
 *
 * ssim_forward and ssim_backward work on tiles of LE_SSIM_TILE x
 * LE_SSIM_TILE pixels, one block per tile (planes * tiles_h * tiles_w
 * blocks, tile t of plane p being block p * tiles + t, row-major over the
 * tiles). The horizontal pass reads global memory and keeps its rows in
 * work-group memory; the vertical pass reads those. Every sum of a pixel
 * adds its window taps in index order, and a block's sums are added in the
 * fixed trees of lemath.h, so every result is bitwise reproducible. No
 * kernel returns before a barrier: a block past the last tile runs its
 * loops zero times and writes nothing.
 */
#ifndef LOSSENGINE_SRC_SSIM_H
#define LOSSENGINE_SRC_SSIM_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/ssim.h"
#endif

/* Tile edge and the largest window (kernelspec.SSIMTile, SSIMMaxWin). */
#define LE_SSIM_TILE 16
#define LE_SSIM_MAX_WIN 33
#define LE_SSIM_SPAN (LE_SSIM_TILE + LE_SSIM_MAX_WIN - 1)

/* ssim_backward flag bits (kernelspec.SSIM* in Go). */
#define LE_SSIM_GRAD_X 1
#define LE_SSIM_GRAD_Y 2
#define LE_SSIM_UP_X 4
#define LE_SSIM_UP_Y 8

/* ssim_tiles: the number of tiles along n pixels (0 for n <= 0). */
LE_FN int ssim_tiles(int n) { return n > 0 ? (n + LE_SSIM_TILE - 1) / LE_SSIM_TILE : 0; }

/*
 * ssim_forward (ssimForward): for each output pixel o = (oi, oj) of plane
 * p, with the window weights g_k (k < win) and the 2-D window
 * g_a g_b:
 *   mx = sum g_a g_b x[oi+a, oj+b], my alike for y,
 *   exx, eyy, exy the same sums of x*x, y*y, x*y,
 *   sxx = exx - mx^2, syy = eyy - my^2, sxy = exy - mx my (pytorch-msssim's
 *   formula; the taps are added in float, as its conv2d does),
 *   l = (2 mx my + c1) / (mx^2 + my^2 + c1), cs = (2 sxy + c2) / (sxx + syy + c2),
 *   ssim = l cs.
 * The moments are taken of x - cx and y - cy, cx and cy the tile's first
 * pixel (0 where not finite): the variances and covariance do not change,
 * mx = mx' + cx and my = my' + cy, but E[x^2] - mx^2 no longer cancels the
 * digits of a tile's common offset (pytorch-msssim's float32 loses them:
 * about 1e-4 of SSIM on a constant image at 0.75 with data_range 1).
 * partial[2b] and partial[2b+1] are the sums of ssim and cs over the
 * outputs of block b's tile. With has_grad, for the coefficients
 * (cS, cC) = (gs, gc), each multiplied by coef[2 (level*planes + p)] and
 * coef[2 (level*planes + p) + 1] with has_coef (d loss / d ssim(o) and
 * d loss / d cs(o)), gmap [planes, 4, ho, wo] receives d loss / d of mx,
 * my, exx (= d loss / d eyy) and exy at o:
 *   A = cS cs, B = cS l + cC, b1 = mx^2 + my^2 + c1, b2 = sxx + syy + c2,
 *   G2 = -B cs / b2, G3 = 2 B / b2,
 *   G0 = 2 A (my - l mx) / b1 - 2 mx G2 - my G3,
 *   G1 = 2 A (mx - l my) / b1 - 2 my G2 - mx G3.
 */
LE_KERNEL ssim_forward(const LE_GLOBAL float *x, const LE_GLOBAL float *y, const LE_GLOBAL float *window,
                       int planes, int h, int w, int win, float c1, float c2, int has_grad, float gs, float gc,
                       int has_coef, const LE_GLOBAL float *coef, int level, LE_GLOBAL float *gmap,
                       LE_GLOBAL float *partial) {
    LE_LOCAL float hs[5 * LE_SSIM_SPAN * LE_SSIM_TILE];
    LE_LOCAL float wk[LE_SSIM_MAX_WIN];
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int ho = h - win + 1, wo = w - win + 1;
    int th = ssim_tiles(ho), tw = ssim_tiles(wo);
    int nt = th * tw;
    int b = LE_BID;
    int active = b < planes * nt; /* planes * nt <= planes * ho * wo: int32 */
    int p = active ? b / nt : 0, t = active ? b % nt : 0;
    int r0 = active ? (t / tw) * LE_SSIM_TILE : 0, c0 = active ? (t % tw) * LE_SSIM_TILE : 0;
    int span = LE_SSIM_TILE + win - 1;
    if (LE_TID < win && active) wk[LE_TID] = window[LE_TID];
    LE_SYNC();
    const int S = LE_SSIM_SPAN * LE_SSIM_TILE;
    LE_INDEX base = (LE_INDEX)p * h * w;
    float cx = 0.0f, cy = 0.0f; /* the tile's shift */
    if (active) {
        cx = x[base + (LE_INDEX)r0 * w + c0];
        cy = y[base + (LE_INDEX)r0 * w + c0];
        if (!(fabs(cx) < LE_INF)) cx = 0.0f;
        if (!(fabs(cy) < LE_INF)) cy = 0.0f;
    }
    int nh = active ? span * LE_SSIM_TILE : 0;
    for (int e = LE_TID; e < nh; e += LE_BLOCK) {
        int r = e / LE_SSIM_TILE, j = e % LE_SSIM_TILE;
        int gr = r0 + r, gcol = c0 + j;
        float sx = 0.0f, sy = 0.0f, sxx = 0.0f, syy = 0.0f, sxy = 0.0f;
        if (gr < h && gcol < wo) {
            LE_INDEX o = base + (LE_INDEX)gr * w + gcol;
            for (int k = 0; k < win; k++) {
                float g = wk[k], a = x[o + k] - cx, c = y[o + k] - cy;
                sx += g * a;
                sy += g * c;
                sxx += g * (a * a);
                syy += g * (c * c);
                sxy += g * (a * c);
            }
        }
        int q = r * LE_SSIM_TILE + j;
        hs[q] = sx;
        hs[S + q] = sy;
        hs[2 * S + q] = sxx;
        hs[3 * S + q] = syy;
        hs[4 * S + q] = sxy;
    }
    LE_SYNC();
    int i = LE_TID / LE_SSIM_TILE, j = LE_TID % LE_SSIM_TILE;
    int oi = r0 + i, oj = c0 + j;
    float vs = 0.0f, vc = 0.0f;
    if (active && oi < ho && oj < wo) {
        float mx = 0.0f, my = 0.0f, exx = 0.0f, eyy = 0.0f, exy = 0.0f;
        for (int k = 0; k < win; k++) {
            float g = wk[k];
            int q = (i + k) * LE_SSIM_TILE + j;
            mx += g * hs[q];
            my += g * hs[S + q];
            exx += g * hs[2 * S + q];
            eyy += g * hs[3 * S + q];
            exy += g * hs[4 * S + q];
        }
        float sxx = exx - mx * mx, syy = eyy - my * my, sxy = exy - mx * my;
        mx += cx;
        my += cy;
        float mxx = mx * mx, myy = my * my, mxy = mx * my;
        float b1 = mxx + myy + c1, b2 = sxx + syy + c2;
        float l = (2.0f * mxy + c1) / b1, cs = (2.0f * sxy + c2) / b2;
        vs = l * cs;
        vc = cs;
        if (has_grad) {
            float cS = gs, cC = gc;
            if (has_coef) {
                LE_INDEX q = ((LE_INDEX)level * planes + p) * 2;
                cS *= coef[q];
                cC *= coef[q + 1];
            }
            float A = cS * cs, B = cS * l + cC;
            float g2 = -B * cs / b2, g3 = 2.0f * B / b2;
            float g0 = 2.0f * A * (my - l * mx) / b1 - 2.0f * mx * g2 - my * g3;
            float g1 = 2.0f * A * (mx - l * my) / b1 - 2.0f * my * g2 - mx * g3;
            LE_INDEX m = (LE_INDEX)ho * wo, o = (LE_INDEX)p * 4 * m + (LE_INDEX)oi * wo + oj;
            gmap[o] = g0;
            gmap[o + m] = g1;
            gmap[o + 2 * m] = g2;
            gmap[o + 3 * m] = g3;
        }
    }
    le_block_sum2(sha, shb, &vs, &vc);
    if (active && LE_TID == 0) {
        partial[2 * (LE_INDEX)b] = vs;
        partial[2 * (LE_INDEX)b + 1] = vc;
    }
}

/*
 * ssim_plane_stats (ssimPlaneStats): one block per plane p: with the
 * partial sums of ssim_forward over the tiles of a level of h x w,
 *   stats[2 (level*planes + p)]     = (sum_t partial[2 (p*tiles + t)]) / (ho wo)
 *   stats[2 (level*planes + p) + 1] = (sum_t partial[2 (p*tiles + t) + 1]) / (ho wo)
 * the plane's mean ssim and mean cs. Thread u adds tiles u, u + LE_BLOCK,
 * ... in order, then the block adds in a fixed tree.
 */
LE_KERNEL ssim_plane_stats(const LE_GLOBAL float *partial, int planes, int h, int w, int win, int level,
                           LE_GLOBAL float *stats) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int ho = h - win + 1, wo = w - win + 1;
    int nt = ssim_tiles(ho) * ssim_tiles(wo);
    int p = LE_BID;
    int n = p < planes ? nt : 0;
    LE_INDEX o = (LE_INDEX)p * nt;
    float s = 0.0f, c = 0.0f;
    for (int t = LE_TID; t < n; t += LE_BLOCK) {
        s += partial[2 * (o + t)];
        c += partial[2 * (o + t) + 1];
    }
    le_block_sum2(sha, shb, &s, &c);
    if (p < planes && LE_TID == 0) {
        float m = (float)ho * (float)wo;
        LE_INDEX q = ((LE_INDEX)level * planes + p) * 2;
        stats[q] = s / m;
        stats[q + 1] = c / m;
    }
}

/* ssim_relu: max(v, 0) with NaN kept (torch.relu). */
LE_FN float ssim_relu(float v) { return v > 0.0f ? v : (v != v ? v : 0.0f); }

/*
 * ssim_combine (ssimCombine): for each plane p (grid-stride), with
 * S_k = stats[2 (k*planes + p)], CS_k = stats[2 (k*planes + p) + 1], the
 * factors u_k = CS_k for k < levels - 1 and u_{levels-1} = S_{levels-1},
 * t_k = relu(u_k) with relu (else u_k) and weights w_k:
 *   v = prod_k t_k^w_k   (t^1 is t itself: a negative t is kept without relu)
 *   plane_loss[p] = loss_scale (1 - v)
 *   coef[2 (k*planes + p) + (k == levels - 1 ? 0 : 1)]
 *       = -grad_scale dv/du_k = -grad_scale w_k t_k^(w_k - 1) prod_{j != k} t_j^w_j
 *         (0 where relu cuts u_k <= 0), and the other coefficient of
 *         level k is 0.
 * MS-SSIM is relu 1 with its weights; SSIM is levels 1, weight 1.
 */
LE_KERNEL ssim_combine(const LE_GLOBAL float *stats, const LE_GLOBAL float *weights, int planes, int levels,
                       int relu, float loss_scale, float grad_scale, LE_GLOBAL float *plane_loss,
                       LE_GLOBAL float *coef) {
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX p = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; p < planes; p += stride) {
        float v = 1.0f;
        for (int k = 0; k < levels; k++) {
            float u = stats[2 * (k * (LE_INDEX)planes + p) + (k == levels - 1 ? 0 : 1)];
            float t = relu ? ssim_relu(u) : u;
            float wt = weights[k];
            v *= wt == 1.0f ? t : pow(t, wt);
        }
        plane_loss[p] = loss_scale * (1.0f - v);
        for (int k = 0; k < levels; k++) {
            float u = stats[2 * (k * (LE_INDEX)planes + p) + (k == levels - 1 ? 0 : 1)];
            float t = relu ? ssim_relu(u) : u;
            float wt = weights[k];
            float d = 0.0f;
            if (!relu || u > 0.0f || u != u) {
                d = wt == 1.0f ? 1.0f : wt * pow(t, wt - 1.0f);
                for (int j = 0; j < levels; j++) {
                    if (j == k) continue;
                    float uj = stats[2 * (j * (LE_INDEX)planes + p) + (j == levels - 1 ? 0 : 1)];
                    float tj = relu ? ssim_relu(uj) : uj;
                    float wj = weights[j];
                    d *= wj == 1.0f ? tj : pow(tj, wj);
                }
            }
            LE_INDEX q = 2 * (k * (LE_INDEX)planes + p);
            float g = -grad_scale * d;
            coef[q] = k == levels - 1 ? g : 0.0f;
            coef[q + 1] = k == levels - 1 ? 0.0f : g;
        }
    }
}

/*
 * ssim_backward (ssimBackward): the transposed window. For each pixel
 * q = (i, j) of plane p and the maps G_m = gmap[p, m] (m < 4, ho x wo, 0
 * outside), T_m(q) = sum_{a,b} g_a g_b G_m(i - a, j - b) (a, b < win), and
 *   gx[q] = T_0 + 2 x[q] T_2 + y[q] T_3 (+ up_x[p, (i + i0) / 2, (j + j0) / 2] / 4)
 *   gy[q] = T_1 + 2 y[q] T_2 + x[q] T_3 (+ up_y[...] / 4)
 * with i0 = h mod 2, j0 = w mod 2: the gradient of the 2 x 2 average pool
 * (pytorch-msssim's avg_pool2d with padding (h mod 2, w mod 2), the
 * padding counted in the divisor) from the next level, of
 * ceil(h/2) x ceil(w/2). flags: LE_SSIM_GRAD_X writes gx, LE_SSIM_GRAD_Y
 * gy, LE_SSIM_UP_X and LE_SSIM_UP_Y add the up terms. Tiles cover the
 * h x w pixels. x and y are read at q alone, by the thread that then
 * writes gx[q] and gy[q], so gx may be x and gy may be y; gmap, read
 * around q, must be neither.
 */
LE_KERNEL ssim_backward(const LE_GLOBAL float *x, const LE_GLOBAL float *y, const LE_GLOBAL float *window,
                        const LE_GLOBAL float *gmap, int planes, int h, int w, int win, int flags,
                        const LE_GLOBAL float *up_x, const LE_GLOBAL float *up_y, LE_GLOBAL float *gx,
                        LE_GLOBAL float *gy) {
    LE_LOCAL float hs[4 * LE_SSIM_SPAN * LE_SSIM_TILE];
    LE_LOCAL float wk[LE_SSIM_MAX_WIN];
    int ho = h - win + 1, wo = w - win + 1;
    int th = ssim_tiles(h), tw = ssim_tiles(w);
    int nt = th * tw;
    int b = LE_BID;
    int active = b < planes * nt;
    int p = active ? b / nt : 0, t = active ? b % nt : 0;
    int r0 = active ? (t / tw) * LE_SSIM_TILE : 0, c0 = active ? (t % tw) * LE_SSIM_TILE : 0;
    int span = LE_SSIM_TILE + win - 1;
    if (LE_TID < win && active) wk[LE_TID] = window[LE_TID];
    LE_SYNC();
    const int S = LE_SSIM_SPAN * LE_SSIM_TILE;
    LE_INDEX m = (LE_INDEX)ho * wo, gbase = (LE_INDEX)p * 4 * m;
    int nh = active ? span * LE_SSIM_TILE : 0;
    /* Horizontal: patch row r is output row r0 - (win - 1) + r. */
    for (int e = LE_TID; e < nh; e += LE_BLOCK) {
        int r = e / LE_SSIM_TILE, j = e % LE_SSIM_TILE;
        int orow = r0 - (win - 1) + r, qc = c0 + j;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        if (orow >= 0 && orow < ho && qc < w) {
            for (int k = 0; k < win; k++) {
                int oc = qc - k;
                if (oc < 0 || oc >= wo) continue;
                float g = wk[k];
                LE_INDEX o = gbase + (LE_INDEX)orow * wo + oc;
                s0 += g * gmap[o];
                s1 += g * gmap[o + m];
                s2 += g * gmap[o + 2 * m];
                s3 += g * gmap[o + 3 * m];
            }
        }
        int q = r * LE_SSIM_TILE + j;
        hs[q] = s0;
        hs[S + q] = s1;
        hs[2 * S + q] = s2;
        hs[3 * S + q] = s3;
    }
    LE_SYNC();
    int i = LE_TID / LE_SSIM_TILE, j = LE_TID % LE_SSIM_TILE;
    int qi = r0 + i, qj = c0 + j;
    if (active && qi < h && qj < w) {
        float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
        for (int k = 0; k < win; k++) {
            float g = wk[k];
            int q = (i + win - 1 - k) * LE_SSIM_TILE + j;
            t0 += g * hs[q];
            t1 += g * hs[S + q];
            t2 += g * hs[2 * S + q];
            t3 += g * hs[3 * S + q];
        }
        LE_INDEX o = ((LE_INDEX)p * h + qi) * w + qj;
        float xv = x[o], yv = y[o];
        int hu = (h + 1) / 2, wu = (w + 1) / 2;
        LE_INDEX ou = ((LE_INDEX)p * hu + (qi + h % 2) / 2) * wu + (qj + w % 2) / 2;
        if (flags & LE_SSIM_GRAD_X) {
            float g = t0 + 2.0f * xv * t2 + yv * t3;
            if (flags & LE_SSIM_UP_X) g += 0.25f * up_x[ou];
            gx[o] = g;
        }
        if (flags & LE_SSIM_GRAD_Y) {
            float g = t1 + 2.0f * yv * t2 + xv * t3;
            if (flags & LE_SSIM_UP_Y) g += 0.25f * up_y[ou];
            gy[o] = g;
        }
    }
}

/*
 * ssim_pool (ssimPool): pytorch-msssim's down-sampling between MS-SSIM
 * levels, avg_pool2d(kernel 2, padding (h mod 2, w mod 2)) with the
 * padding counted: for r < ceil(h/2), c < ceil(w/2) (grid-stride),
 *   out[p, r, c] = (sum of x[p, 2r - i0 + a, 2c - j0 + b] over a, b in
 *                  {0, 1} inside the image) / 4,   i0 = h mod 2, j0 = w mod 2.
 */
LE_KERNEL ssim_pool(const LE_GLOBAL float *x, int planes, int h, int w, LE_GLOBAL float *out) {
    int hu = (h + 1) / 2, wu = (w + 1) / 2;
    LE_INDEX n = (LE_INDEX)planes * hu * wu;
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX e = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; e < n; e += stride) {
        int c = (int)(e % wu);
        int r = (int)((e / wu) % hu);
        LE_INDEX p = e / ((LE_INDEX)wu * hu);
        int i = 2 * r - h % 2, j = 2 * c - w % 2;
        LE_INDEX o = p * h * w;
        float s = 0.0f;
        if (i >= 0) {
            if (j >= 0) s += x[o + (LE_INDEX)i * w + j];
            s += x[o + (LE_INDEX)i * w + j + 1];
        }
        if (j >= 0) s += x[o + (LE_INDEX)(i + 1) * w + j];
        s += x[o + (LE_INDEX)(i + 1) * w + j + 1];
        out[e] = 0.25f * s;
    }
}

#endif /* LOSSENGINE_SRC_SSIM_H */
