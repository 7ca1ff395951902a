/*
 * src/contrastive.h: the contrastive family, in-batch contrastive losses
 * over L2-normalised embeddings (NT-Xent, InfoNCE, SupCon). The similarity
 * matrix S = A C^T / tau of anchors A [r, d] and a contrast set C [k, d]
 * is never stored: it is formed CON_TILE x CON_TILE at a time in
 * work-group memory (a GEMM tile, as gram_gemm's) and consumed at once,
 * by an online (max, sum of exp) state per row in contrastive_rows, and
 * by the gradient tile products in contrastive_grad, which recomputes
 * each tile. Host mirrors (the specification): host/contrastive.go. The
 * one body of the family: kernels/cuda/contrastive.cu and
 * kernels/opencl/contrastive.cl include it after lemath.h.
 *
 * Columns of row i (anchor i against contrast row j), with flags:
 *   self(i, j)  = (flags & CON_EXCL_SELF) && i == j  (A is the first r rows of C)
 *   paired      = (flags & CON_PAIRED) && j < kpos
 *   pos(i, j)   = !self && (paired ? j == i : j < kpos && label(i) == label(j))
 *   valid(i, j) = j < k && !self && (!paired || j == i)
 *   label(x)    = has_labels ? labels[x % lmod] : x % lmod
 * Columns j >= kpos are negatives of every row.
 *
 * Every sum is taken in a fixed order (tile by tile, then across the 16
 * threads of a row in thread order); no atomics: a block owns the rows
 * (or columns) it writes. No kernel returns before a barrier.
 */
#ifndef LOSSENGINE_SRC_CONTRASTIVE_H
#define LOSSENGINE_SRC_CONTRASTIVE_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/contrastive.h"
#endif

#define CON_TILE 16
#if CON_TILE * CON_TILE != LE_BLOCK
#error "the contrastive kernels need CON_TILE * CON_TILE == LE_BLOCK"
#endif

/* flags (kernelspec.Con* in Go) */
#define CON_EXCL_SELF 1
#define CON_PAIRED 2
#define CON_OPTAX 4
#define CON_PASS2 8
#define CON_ACCUMULATE 16

/* the per-row state of contrastive_rows: CON_STATS floats per row */
#define CON_STATS 5

/*
 * contrastive_normalize (conNormalize): for r < rows, with source row
 * x_r = x[((r % bmod) * views + r / bmod) * d ..] (views = 1, bmod = rows:
 * row r itself; [B, V, D] features to view-major rows v*B + b otherwise):
 *   norms[off + r]       = ||x_r||  (sqrt of the sum of squares, added by
 *                          each thread in order, then in a fixed tree)
 *   y[(off + r) * d + q] = x_r[q] / max(||x_r||, eps)
 * Block b handles rows b, b + nblocks, ...
 */
LE_KERNEL contrastive_normalize(const LE_GLOBAL float *x, int rows, int d, int bmod, int views, float eps, int off,
                                LE_GLOBAL float *y, LE_GLOBAL float *norms) {
    LE_LOCAL float sh[LE_BLOCK];
    for (int r = LE_BID; r < rows; r += LE_NBLOCKS) {
        const LE_GLOBAL float *xr = x + ((LE_INDEX)(r % bmod) * views + r / bmod) * d;
        float acc = 0.0f;
        for (int q = LE_TID; q < d; q += LE_BLOCK) acc += xr[q] * xr[q];
        float n = sqrt(le_block_sum(sh, acc));
        float inv = 1.0f / fmax(n, eps);
        LE_GLOBAL float *yr = y + (LE_INDEX)(off + r) * d;
        for (int q = LE_TID; q < d; q += LE_BLOCK) yr[q] = xr[q] * inv;
        if (LE_TID == 0) norms[off + r] = n;
    }
}

/*
 * contrastive_backnorm (conBacknorm): the gradient through
 * contrastive_normalize's rows. For r < rows, with x_r's row index src as
 * there, n = norms[off + r], y_r = y[(off + r) * d ..], g_r = g[(off + r) * d ..]:
 *   gx[src * d + q] = (g_r[q] - y_r[q] * (y_r . g_r)) / n   if n > eps
 *   gx[src * d + q] = g_r[q] / eps                          otherwise
 * (d(z / max(||z||, eps)) / dz; the clamp passes no gradient to the norm),
 * y_r . g_r added by each thread in order, then in a fixed tree.
 */
LE_KERNEL contrastive_backnorm(const LE_GLOBAL float *y, const LE_GLOBAL float *g, const LE_GLOBAL float *norms,
                               int rows, int d, int bmod, int views, float eps, int off, LE_GLOBAL float *gx) {
    LE_LOCAL float sh[LE_BLOCK];
    for (int r = LE_BID; r < rows; r += LE_NBLOCKS) {
        const LE_GLOBAL float *yr = y + (LE_INDEX)(off + r) * d;
        const LE_GLOBAL float *gr = g + (LE_INDEX)(off + r) * d;
        float acc = 0.0f;
        for (int q = LE_TID; q < d; q += LE_BLOCK) acc += yr[q] * gr[q];
        float dot = le_block_sum(sh, acc);
        float n = norms[off + r];
        int clamped = !(n > eps);
        float inv = 1.0f / (clamped ? eps : n);
        LE_GLOBAL float *xr = gx + ((LE_INDEX)(r % bmod) * views + r / bmod) * d;
        for (int q = LE_TID; q < d; q += LE_BLOCK) xr[q] = clamped ? gr[q] * inv : (gr[q] - yr[q] * dot) * inv;
    }
}

LE_FN int con_label(int has_labels, const LE_GLOBAL int *labels, int lmod, int x) {
    return has_labels ? labels[x % lmod] : x % lmod;
}

/*
 * con_tile_dot: thread (ty, tx) of the block gets a[i] . c[j] for
 * i = i0 + ty, j = j0 + tx (0 outside i < r, j < jend), summed over d in
 * chunks of CON_TILE staged in work-group memory: the CON_TILE products of
 * a chunk in q order into a partial, the partials in chunk order. All
 * threads must call it.
 */
LE_FN float con_tile_dot(LE_LOCAL_PTR float (*sa)[CON_TILE + 1], LE_LOCAL_PTR float (*sc)[CON_TILE + 1],
                         const LE_GLOBAL float *a, const LE_GLOBAL float *c, int r, int jend, int d, int i0, int j0) {
    int ty = LE_TID / CON_TILE, tx = LE_TID % CON_TILE;
    float acc = 0.0f;
    for (int q0 = 0; q0 < d; q0 += CON_TILE) {
        int ia = i0 + ty, jc = j0 + ty, q = q0 + tx;
        sa[ty][tx] = (ia < r && q < d) ? a[(LE_INDEX)ia * d + q] : 0.0f;
        sc[ty][tx] = (jc < jend && q < d) ? c[(LE_INDEX)jc * d + q] : 0.0f;
        LE_SYNC();
        float part = 0.0f;
        for (int qq = 0; qq < CON_TILE; qq++) part += sa[ty][qq] * sc[tx][qq];
        acc += part;
        LE_SYNC();
    }
    return acc;
}

/* con_push adds w * exp(x) to the state (m, s) standing for s * exp(m). */
LE_FN void con_push(float *m, float *s, float x, float w) {
    if (x > *m) {
        *s = *s * exp(*m - x) + w;
        *m = x;
    } else {
        *s += w * exp(x - *m);
    }
}

/* con_merge adds the state (m2, s2) to (m, s); an empty state (-inf, 0) adds nothing. */
LE_FN void con_merge(float *m, float *s, float m2, float s2) {
    if (m2 == -LE_INF) return;
    if (m2 > *m) {
        *s = *s * exp(*m - m2) + s2;
        *m = m2;
    } else {
        *s += s2 * exp(m2 - *m);
    }
}

/*
 * Column tiles of a row tile starting at i0: with CON_PAIRED, tile 0 is
 * columns [i0, min(i0 + CON_TILE, kpos)) (the paired positives) and tile
 * t >= 1 starts at kpos + (t - 1) * CON_TILE; otherwise tile t starts at
 * t * CON_TILE. con_col_tiles is their number, con_col0 and con_col_end
 * their extent.
 */
LE_FN int con_col_tiles(int flags, int k, int kpos) {
    return (flags & CON_PAIRED) ? 1 + (k - kpos + CON_TILE - 1) / CON_TILE : (k + CON_TILE - 1) / CON_TILE;
}
LE_FN int con_col0(int flags, int kpos, int i0, int t) {
    return (flags & CON_PAIRED) ? (t == 0 ? i0 : kpos + (t - 1) * CON_TILE) : t * CON_TILE;
}
LE_FN int con_col_end(int flags, int k, int kpos, int t) {
    return ((flags & CON_PAIRED) && t == 0) ? kpos : k;
}

/* con_class: 0 invalid, 1 negative, 2 positive (see the header). */
LE_FN int con_class(int flags, int has_labels, const LE_GLOBAL int *labels, int lmod, int kpos, int i, int j) {
    if ((flags & CON_EXCL_SELF) && i == j) return 0;
    if ((flags & CON_PAIRED) && j < kpos) return j == i ? 2 : 0;
    if (j < kpos && con_label(has_labels, labels, lmod, i) == con_label(has_labels, labels, lmod, j)) return 2;
    return 1;
}

/*
 * contrastive_rows (conRows): the per-row state of S = A C^T * inv_tau.
 * Block b owns rows i0 = b * CON_TILE .. i0 + 15 (the grid has
 * ceil(r / CON_TILE) blocks) and walks the column tiles in order. For row
 * i < r, with s_ij = inv_tau * a_i . c_j over the columns of the header,
 * P_i the number of positives, c = cscale:
 *  pass 1 (no CON_PASS2), general form:
 *   m = max over valid s_ij, e = sum over valid exp(s_ij - m),
 *   stats[5i..] = (m, e, P_i, L_i, 0),
 *   L_i = c * (P_i * log(e) - sum_pos (s_ij - m)) / P_i   (0 if P_i = 0)
 *  pass 1, CON_OPTAX: m, e over the negatives only (m = -inf, e = 0 for
 *   none); stats[5i..] = (m, e, P_i, 0, 0)
 *  pass 2 (CON_OPTAX | CON_PASS2), reading m, e from stats:
 *   stats[5i + 3] = sum_pos softplus(log(e) + m - s_ij)
 *                 = sum_pos -log(exp(s_ij) / (exp(s_ij) + sum_neg exp(s_ik)))
 *   stats[5i + 4] = W_i = sum_pos 1 / (exp(s_ij - m) + e)
 * Thread (ty, tx) keeps the state of row i0 + ty over the columns
 * j0 + tx of every tile; the 16 states of a row are merged in tx order.
 * tile is the host mirror's column-tile width; it does not change what
 * the kernel computes.
 */
LE_KERNEL contrastive_rows(const LE_GLOBAL float *a, const LE_GLOBAL float *c, int r, int k, int d, float inv_tau,
                           int has_labels, const LE_GLOBAL int *labels, int lmod, int kpos, int flags, float cscale,
                           int tile, LE_GLOBAL float *stats) {
    LE_LOCAL float sa[CON_TILE][CON_TILE + 1], sc[CON_TILE][CON_TILE + 1];
    LE_LOCAL float s0[CON_TILE][CON_TILE + 1], s1[CON_TILE][CON_TILE + 1];
    LE_LOCAL float s2[CON_TILE][CON_TILE + 1], s3[CON_TILE][CON_TILE + 1];
    int ty = LE_TID / CON_TILE, tx = LE_TID % CON_TILE;
    int i0 = LE_BID * CON_TILE, i = i0 + ty;
    int pass2 = (flags & CON_PASS2) != 0, optax = (flags & CON_OPTAX) != 0;
    float rm = 0.0f, re = 0.0f;
    if (pass2 && i < r) {
        rm = stats[(LE_INDEX)i * CON_STATS];
        re = stats[(LE_INDEX)i * CON_STATS + 1];
    }
    float lre = log(re);
    float m = -LE_INF, e = 0.0f, sp = 0.0f, np = 0.0f; /* pass 2: e, sp are the sums of the terms and of W */
    int nt = i0 < r ? con_col_tiles(flags, k, kpos) : 0;
    for (int t = 0; t < nt; t++) {
        int j0 = con_col0(flags, kpos, i0, t), jend = con_col_end(flags, k, kpos, t);
        float s = inv_tau * con_tile_dot(sa, sc, a, c, r, jend, d, i0, j0);
        int j = j0 + tx;
        int cl = (i < r && j < jend) ? con_class(flags, has_labels, labels, lmod, kpos, i, j) : 0;
        if (pass2) {
            if (cl == 2) {
                e += le_softplus(lre + rm - s);
                sp += 1.0f / (exp(s - rm) + re);
            }
        } else {
            if (cl == 2) {
                np += 1.0f;
                sp += s;
            }
            if (cl == 1 || (cl == 2 && !optax)) con_push(&m, &e, s, 1.0f);
        }
    }
    s0[ty][tx] = m;
    s1[ty][tx] = e;
    s2[ty][tx] = sp;
    s3[ty][tx] = np;
    LE_SYNC();
    if (tx == 0 && i < r) {
        LE_GLOBAL float *st = stats + (LE_INDEX)i * CON_STATS;
        if (pass2) {
            float lt = 0.0f, w = 0.0f;
            for (int u = 0; u < CON_TILE; u++) {
                lt += s1[ty][u];
                w += s2[ty][u];
            }
            st[3] = lt;
            st[4] = w;
        } else {
            float mm = -LE_INF, ee = 0.0f, ss = 0.0f, pp = 0.0f;
            for (int u = 0; u < CON_TILE; u++) {
                float mu = s0[ty][u], eu = s1[ty][u];
                if (mu != mu || eu != eu) { /* NaN sticks */
                    mm = LE_NAN;
                    ee = LE_NAN;
                } else if (mm == mm) {
                    con_merge(&mm, &ee, mu, eu);
                }
                ss += s2[ty][u];
                pp += s3[ty][u];
            }
            float l = 0.0f;
            if (!optax && pp > 0.0f) l = cscale * (pp * log(ee) - (ss - pp * mm)) / pp;
            st[0] = mm;
            st[1] = ee;
            st[2] = pp;
            st[3] = l;
            st[4] = 0.0f;
        }
    }
}

/*
 * con_coef: d loss_i / d s_ij for the class cl of (i, j), from row i's
 * state st (see contrastive_rows); cscale = c:
 *   general: valid: alpha_i * exp(s - m) / e - [pos] * c / max(P_i, 1),
 *            alpha_i = c * P_i / max(P_i, 1)
 *   CON_OPTAX: positive: -sigmoid(log(e) + m - s); negative: exp(s - m) * W_i
 *   invalid: 0.
 */
LE_FN float con_coef(int optax, int cl, float s, const LE_GLOBAL float *st, float cscale) {
    if (cl == 0) return 0.0f;
    float m = st[0], e = st[1];
    if (optax) {
        if (cl == 2) return -le_sigmoid(log(e) + m - s);
        return exp(s - m) * st[4];
    }
    float p = st[2], pd = fmax(p, 1.0f);
    float g = cscale * p / pd * (exp(s - m) / e);
    return cl == 2 ? g - cscale / pd : g;
}

/*
 * contrastive_grad (conGrad): the gradient w.r.t. A's or C's rows through
 * S, with coef_ij = con_coef(...) of row i's state stats[5i..] and the
 * device scalar gs = gscale[0]:
 *   side 0: g[i * d + q] (+)= gs * inv_tau * sum_j coef_ij * c[j * d + q], i < r
 *   side 1: g[j * d + q] (+)= gs * inv_tau * sum_i coef_ij * a[i * d + q], j < k
 *   side 2 (A is C, r <= k, no CON_PAIRED): both at once, for j < k,
 *           g[j * d + q] (+)= gs * inv_tau * sum_i (coef_ji [j < r] + coef_ij [i < r]) * c[i * d + q]
 *           (S is symmetric: row j's block forms both coefficients from
 *           the same S tile, each with its own row's state)
 * with += under CON_ACCUMULATE, = otherwise. Side 0 and 2: block b owns rows
 * b * 16 .. b * 16 + 15 and walks the column tiles of contrastive_rows in
 * order; side 1: block b owns columns j0 = b * 16 .. j0 + 15 and walks the
 * row tiles in order (with CON_PAIRED and j0 + 16 <= kpos only the row
 * tile at j0, the others having no valid entry in those columns). Each
 * tile recomputes its S tile, forms the coefficient tile in work-group
 * memory and adds its product with the tile's rows of c (or a) to the
 * output, a thread owning the output columns q = tid, tid + 256, ...: the
 * 16 products of a tile in order into a partial, the partials in tile
 * order. Grid: ceil(r / 16) blocks for side 0, ceil(k / 16) for sides 1 and 2.
 * g must not overlap a, c or stats.
 */
LE_KERNEL contrastive_grad(const LE_GLOBAL float *a, const LE_GLOBAL float *c, int r, int k, int d, float inv_tau,
                           int has_labels, const LE_GLOBAL int *labels, int lmod, int kpos, int flags, float cscale,
                           int tile, const LE_GLOBAL float *stats, const LE_GLOBAL float *gscale, int side,
                           LE_GLOBAL float *g) {
    LE_LOCAL float sa[CON_TILE][CON_TILE + 1], sc[CON_TILE][CON_TILE + 1];
    LE_LOCAL float cf[CON_TILE][CON_TILE + 1];
    int ty = LE_TID / CON_TILE, tx = LE_TID % CON_TILE;
    int optax = (flags & CON_OPTAX) != 0;
    int b0 = LE_BID * CON_TILE;
    int own = side ? k : r;        /* rows of g */
    int rb = side == 2 ? k : r;    /* rows of a the tiles read */
    float sc_all = gscale[0] * inv_tau;
    int nt;
    if (b0 >= own) nt = 0;
    else if (side != 1) nt = con_col_tiles(flags, k, kpos);
    else if ((flags & CON_PAIRED) && b0 + CON_TILE <= kpos) nt = 1;
    else nt = (r + CON_TILE - 1) / CON_TILE;
    if (!(flags & CON_ACCUMULATE) && b0 < own)
        for (int u = 0; u < CON_TILE && b0 + u < own; u++)
            for (int q = LE_TID; q < d; q += LE_BLOCK) g[(LE_INDEX)(b0 + u) * d + q] = 0.0f;
    for (int t = 0; t < nt; t++) {
        int i0, j0, jend;
        if (side != 1) {
            i0 = b0;
            j0 = con_col0(flags, kpos, i0, t);
            jend = con_col_end(flags, k, kpos, t);
        } else {
            i0 = ((flags & CON_PAIRED) && b0 + CON_TILE <= kpos) ? b0 : t * CON_TILE;
            j0 = b0;
            jend = k;
        }
        float s = inv_tau * con_tile_dot(sa, sc, a, c, rb, jend, d, i0, j0);
        int i = i0 + ty, j = j0 + tx;
        float cv = 0.0f;
        if (i < r && j < jend) {
            int cl = con_class(flags, has_labels, labels, lmod, kpos, i, j);
            cv = con_coef(optax, cl, s, stats + (LE_INDEX)i * CON_STATS, cscale);
        }
        if (side == 2 && i < k && j < r) {
            int cl = con_class(flags, has_labels, labels, lmod, kpos, j, i);
            cv += con_coef(optax, cl, s, stats + (LE_INDEX)j * CON_STATS, cscale);
        }
        cf[ty][tx] = cv;
        LE_SYNC();
        for (int q = LE_TID; q < d; q += LE_BLOCK) {
            for (int u = 0; u < CON_TILE; u++) {
                float part = 0.0f;
                if (side != 1) {
                    if (i0 + u >= own) continue;
                    for (int v = 0; v < CON_TILE && j0 + v < jend; v++) part += cf[u][v] * c[(LE_INDEX)(j0 + v) * d + q];
                    g[(LE_INDEX)(i0 + u) * d + q] += sc_all * part;
                } else {
                    if (j0 + u >= k) continue;
                    for (int v = 0; v < CON_TILE && i0 + v < r; v++) part += cf[v][u] * a[(LE_INDEX)(i0 + v) * d + q];
                    g[(LE_INDEX)(j0 + u) * d + q] += sc_all * part;
                }
            }
        }
        LE_SYNC();
    }
}

/*
 * contrastive_finish (conFinish): one block. With L = sum_{i<r} stats[5i + 3]
 * and P = sum_{i<r} stats[5i + 2] (each thread adding rows tid,
 * tid + 256, ... in order, then a fixed tree):
 *   optax: value = L / P, gscale[0] = 1 / P   (NaN for P = 0: no pair)
 *   else:  value = scale * L, gscale[0] = scale
 *   loss[0] = value if has_loss
 */
LE_KERNEL contrastive_finish(const LE_GLOBAL float *stats, int r, int optax, float scale, int has_loss,
                             LE_GLOBAL float *loss, LE_GLOBAL float *gscale) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int n = LE_BID == 0 ? r : 0;
    float l = 0.0f, p = 0.0f;
    for (int i = LE_TID; i < n; i += LE_BLOCK) {
        l += stats[(LE_INDEX)i * CON_STATS + 3];
        p += stats[(LE_INDEX)i * CON_STATS + 2];
    }
    le_block_sum2(sha, shb, &l, &p);
    if (LE_TID == 0 && LE_BID == 0) {
        float v = optax ? l / p : scale * l;
        gscale[0] = optax ? 1.0f / p : scale;
        if (has_loss) loss[0] = v;
    }
}

#endif /* LOSSENGINE_SRC_CONTRASTIVE_H */
