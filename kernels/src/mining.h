/*
 * src/mining.h: the mining family, metric-learning losses over a batch of
 * embeddings [B, D] with int32 labels [B]: batch_triplet_loss (triplets
 * mined in the batch: all, batch-hard, semi-hard) and circle_loss, with
 * the gradient w.r.t. the embeddings; and barlow_twins_loss over two
 * views [N, D] (bt_norm, the gram family's gram_gemm, bt_terms, bt_norm_back), with the
 * gradient w.r.t. both. Host mirrors (the specification): host/mining.go.
 * The one body of the family: kernels/cuda/mining.cu and
 * kernels/opencl/mining.cl include it after lemath.h.
 *
 * The pipeline of batch_triplet_loss: mine_prep (cosine only: the rows
 * normalised), mine_pdist (the B x B distance matrix, in 16 x 16 tiles),
 * mine_triplet_rows (one block per anchor: its triplets, its loss and the
 * derivative of its loss w.r.t. each distance of its row), mine_finish
 * (the loss and the gradient's scale) and mine_grad (one block per row:
 * the gradient back through the distances). circle_loss runs mine_prep,
 * mine_pdist (cosine), circle_rows, mine_finish and mine_grad. Every sum is taken in a fixed
 * order and no kernel uses atomics, so results are bitwise reproducible.
 * No kernel returns before a barrier.
 */
#ifndef LOSSENGINE_SRC_MINING_H
#define LOSSENGINE_SRC_MINING_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/mining.h"
#endif

/* Distances (kernelspec.MineDist* in Go). */
#define LE_MINE_L2 0
#define LE_MINE_SQL2 1
#define LE_MINE_COSINE 2

/* Mining strategies (kernelspec.Mine* in Go). */
#define LE_MINE_ALL 0
#define LE_MINE_HARD 1
#define LE_MINE_SEMI 2

/* The floor of a row's norm in the cosine distance (F.normalize's eps). */
#define LE_MINE_NORM_EPS 1e-12f

#define MINE_TILE 16
#if MINE_TILE * MINE_TILE != LE_BLOCK
#error "mine_pdist needs MINE_TILE * MINE_TILE == LE_BLOCK"
#endif

/*
 * mine_prep (minePrep): block i < b: norms[i] = sqrt(sum_k x[i,k]^2) (the
 * block's fixed tree) and u[i,k] = x[i,k] / max(norms[i], 1e-12), the
 * rows F.normalize gives. Block i >= b reads and writes nothing.
 */
LE_KERNEL mine_prep(const LE_GLOBAL float *x, int b, int d, LE_GLOBAL float *u, LE_GLOBAL float *norms) {
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int dd = i < b ? d : 0;
    const LE_GLOBAL float *xi = x + (LE_INDEX)(i < b ? i : 0) * d;
    float acc = 0.0f;
    for (int k = LE_TID; k < dd; k += LE_BLOCK) acc += xi[k] * xi[k];
    float n = sqrt(le_block_sum(sh, acc));
    float nn = fmax(n, LE_MINE_NORM_EPS);
    for (int k = LE_TID; k < dd; k += LE_BLOCK) u[(LE_INDEX)i * d + k] = xi[k] / nn;
    if (LE_TID == 0 && i < b) norms[i] = n;
}

/*
 * mine_pdist (minePdist): for i, j < b, with v the rows (x, or u for the
 * cosine distance):
 *   LE_MINE_L2:     pd[i*b+j] = sqrt(sum_k (v[i,k] - v[j,k])^2)
 *   LE_MINE_SQL2:   pd[i*b+j] = sum_k (v[i,k] - v[j,k])^2
 *   LE_MINE_COSINE: pd[i*b+j] = 1 - sum_k v[i,k] v[j,k]
 * The difference form keeps the digits of close rows (no |a|^2 + |b|^2 -
 * 2ab cancellation). Block bid computes the 16 x 16 tile (bid / t, bid %
 * t), t = ceil(b/16); k is walked in tiles of 16 staged in work-group
 * memory, each tile's 16 terms added in k order into a partial that is
 * added to the sum, so pd is bitwise symmetric and its diagonal is 0 for
 * the l2 distances.
 */
LE_KERNEL mine_pdist(const LE_GLOBAL float *v, int b, int d, int dist, LE_GLOBAL float *pd) {
    LE_LOCAL float sa[MINE_TILE][MINE_TILE + 1], sb[MINE_TILE][MINE_TILE + 1];
    int t = (b + MINE_TILE - 1) / MINE_TILE;
    LE_INDEX tiles = (LE_INDEX)t * t;
    LE_INDEX bid = LE_BID;
    int active = bid < tiles;
    int i0 = active ? (int)(bid / t) * MINE_TILE : 0, j0 = active ? (int)(bid % t) * MINE_TILE : 0;
    int ty = LE_TID / MINE_TILE, tx = LE_TID % MINE_TILE;
    int nt = active ? (d + MINE_TILE - 1) / MINE_TILE : 0;
    float acc = 0.0f;
    for (int q = 0; q < nt; q++) {
        int k0 = q * MINE_TILE;
        int ia = i0 + ty, jb = j0 + ty, k = k0 + tx;
        sa[ty][tx] = (ia < b && k < d) ? v[(LE_INDEX)ia * d + k] : 0.0f;
        sb[ty][tx] = (jb < b && k < d) ? v[(LE_INDEX)jb * d + k] : 0.0f;
        LE_SYNC();
        float part = 0.0f;
        if (dist == LE_MINE_COSINE) {
            for (int kk = 0; kk < MINE_TILE; kk++) part += sa[ty][kk] * sb[tx][kk];
        } else {
            for (int kk = 0; kk < MINE_TILE; kk++) {
                float e = sa[ty][kk] - sb[tx][kk];
                part += e * e;
            }
        }
        acc += part;
        LE_SYNC();
    }
    int i = i0 + ty, j = j0 + tx;
    if (active && i < b && j < b) {
        float r = dist == LE_MINE_L2 ? sqrt(acc) : (dist == LE_MINE_COSINE ? 1.0f - acc : acc);
        pd[(LE_INDEX)i * b + j] = r;
    }
}

/*
 * mine_best: the block's best candidate over every thread's (v, idx),
 * idx -1 for a thread without one: the largest v (want_max) or the
 * smallest, ties to the lowest index; *idx = -1 if no thread has one.
 * Each thread's own candidate must be its best, ties to its lowest index.
 * Three fixed-tree maxima (le_block_max), so that every thread gets the
 * result. Indices must be below 2^24 (exact in float).
 */
LE_FN void mine_best(LE_LOCAL_PTR float *sh, float *v, int *idx, int want_max) {
    int has = *idx >= 0;
    float any = le_block_max(sh, has ? 1.0f : 0.0f);
    float key = has ? (want_max ? *v : -*v) : -LE_INF;
    float best = le_block_max(sh, key);
    float mine = has && key == best ? -(float)*idx : -LE_INF;
    float low = le_block_max(sh, mine);
    *v = want_max ? best : -best;
    *idx = any > 0.0f && low > -LE_INF ? (int)(-low) : -1; /* -1 too where best is NaN */
}

/*
 * mine_hinge: the loss of one triplet from x = d_ap - d_an, with its
 * derivative w.r.t. x: soft: softplus(x), sigmoid(x); else relu(margin +
 * x), and 1 where margin + x > 0, else 0 (relu's derivative at 0 is 0,
 * as PyTorch's).
 */
LE_FN float mine_hinge(float x, float margin, int soft, float *g) {
    if (soft) {
        *g = le_sigmoid(x);
        return le_softplus(x);
    }
    float v = margin + x;
    *g = v > 0.0f ? 1.0f : 0.0f;
    return v > 0.0f ? v : 0.0f;
}

/*
 * mine_triplet_rows (mineTripletRows): block a < b is anchor a; row a of
 * pd holds its distances, P its positives (j != a, labels[j] ==
 * labels[a]) and N its negatives (labels[j] != labels[a]). With
 * (l, g) = mine_hinge(d_ap - d_an, margin, soft), it writes coef[a*b+j] =
 * the derivative of the anchor's summed loss w.r.t. pd[a*b+j] (0 for j
 * neither a chosen positive nor a chosen negative), rowloss[a] = its
 * summed loss (plus NaN if a distance of its row other than d_aa is NaN or
 * infinite) and rowcount[a] = the number of terms its loss counts in the
 * mean:
 *   LE_MINE_HARD: p = argmax_P d_ap, n = argmin_N d_an (ties to the lower
 *     index); an anchor with P or N empty has loss 0 and count 0, else
 *     one triplet: count 1.
 *   LE_MINE_SEMI: for each p in P, n = argmin d_an over the n in N with
 *     d_an > d_ap, else argmax_N d_an, else (N empty) d_an = 0 with no
 *     derivative; count |P|. sel[a*b+p] = n (-1 without one).
 *   LE_MINE_ALL: every (p, n) in P x N; count the triplets with l > 0
 *     (every triplet with soft).
 * Each thread adds its positives' terms in index order, the block its
 * threads in a fixed tree. sel is read and written only by LE_MINE_SEMI.
 */
LE_KERNEL mine_triplet_rows(const LE_GLOBAL float *pd, const LE_GLOBAL int *labels, int b, int mining,
                            float margin, int soft, LE_GLOBAL float *coef, LE_GLOBAL int *sel,
                            LE_GLOBAL float *rowloss, LE_GLOBAL float *rowcount) {
    LE_LOCAL float shv[LE_BLOCK];
    LE_LOCAL float shc[LE_BLOCK];
    int a = LE_BID;
    int bb = a < b ? b : 0;
    int la = a < b ? labels[a] : 0;
    const LE_GLOBAL float *row = pd + (LE_INDEX)(a < b ? a : 0) * b;
    LE_GLOBAL float *crow = coef + (LE_INDEX)(a < b ? a : 0) * b;
    float bad = 0.0f, loss = 0.0f, cnt = 0.0f;
    for (int j = LE_TID; j < bb; j += LE_BLOCK)
        if (j != a) bad += row[j] - row[j];
    /* Every barrier is outside the branches on mining (PoCL). */
    int hard = mining == LE_MINE_HARD, semi = mining == LE_MINE_SEMI;
    LE_GLOBAL int *srow = sel + (LE_INDEX)(a < b ? a : 0) * b;
    float pv = 0.0f, nv = 0.0f;
    int pi = -1, ni = -1;
    if (hard) {
        for (int j = LE_TID; j < bb; j += LE_BLOCK) {
            float dj = row[j];
            int lj = labels[j];
            crow[j] = 0.0f;
            int tp = j != a && lj == la && (pi < 0 || dj > pv);
            int tn = lj != la && (ni < 0 || dj < nv);
            pv = tp ? dj : pv;
            pi = tp ? j : pi;
            nv = tn ? dj : nv;
            ni = tn ? j : ni;
        }
    } else {
        /* pass 1: the positives' own terms */
        for (int p = LE_TID; p < bb; p += LE_BLOCK) {
            if (p == a || labels[p] != la) continue;
            float dp = row[p], gp = 0.0f;
            if (semi) {
                float ov = 0.0f, iv = 0.0f;
                int oi = -1, ii = -1;
                for (int n = 0; n < bb; n++) {
                    if (labels[n] == la) continue;
                    float dn = row[n];
                    if (dn > dp && (oi < 0 || dn < ov)) {
                        ov = dn;
                        oi = n;
                    }
                    if (ii < 0 || dn > iv) {
                        iv = dn;
                        ii = n;
                    }
                }
                int n = oi >= 0 ? oi : ii;
                float dn = oi >= 0 ? ov : (ii >= 0 ? iv : 0.0f);
                loss += mine_hinge(dp - dn, margin, soft, &gp);
                cnt += 1.0f;
                srow[p] = n;
            } else {
                for (int n = 0; n < bb; n++) {
                    if (labels[n] == la) continue;
                    float g;
                    float l = mine_hinge(dp - row[n], margin, soft, &g);
                    loss += l;
                    gp += g;
                    if (soft || l > 0.0f) cnt += 1.0f;
                }
            }
            crow[p] = gp;
        }
    }
    mine_best(shv, &pv, &pi, 1);
    mine_best(shv, &nv, &ni, 0);
    LE_SYNC_GLOBAL();
    if (hard) {
        if (LE_TID == 0 && pi >= 0 && ni >= 0) {
            float g;
            loss = mine_hinge(pv - nv, margin, soft, &g);
            cnt = 1.0f;
            crow[pi] = g;
            crow[ni] = -g;
        }
    } else {
        /* pass 2: the negatives, from the positives' choices */
        for (int n = LE_TID; n < bb; n += LE_BLOCK) {
            if (n == a) {
                crow[n] = 0.0f;
                continue;
            }
            if (labels[n] == la) continue;
            float dn = row[n], gn = 0.0f;
            for (int p = 0; p < bb; p++) {
                if (p == a || labels[p] != la) continue;
                if (semi) {
                    if (srow[p] == n) gn -= crow[p];
                } else {
                    float g;
                    mine_hinge(row[p] - dn, margin, soft, &g);
                    gn -= g;
                }
            }
            crow[n] = gn;
        }
    }
    float s = loss, c = cnt;
    le_block_sum2(shv, shc, &s, &c);
    float nb = le_block_sum(shv, bad);
    if (LE_TID == 0 && a < b) {
        rowloss[a] = s + nb;
        rowcount[a] = c;
    }
}

/*
 * mine_finish (mineFinish): one block: with S = sum_{i<n} rowloss[i] and
 * C = sum_{i<n} rowcount[i] (each thread adding i = t, t + LE_BLOCK, ...
 * in order, then the block's fixed tree):
 *   loss[0]  = C > 0 ? S / C : empty + 0 * S
 *   scale[0] = C > 0 ? 1 / C : 0
 * Blocks other than block 0 write nothing.
 */
LE_KERNEL mine_finish(const LE_GLOBAL float *rowloss, const LE_GLOBAL float *rowcount, int n, float empty,
                      LE_GLOBAL float *loss, LE_GLOBAL float *scale) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int nn = LE_BID == 0 ? n : 0;
    float s = 0.0f, c = 0.0f;
    for (int i = LE_TID; i < nn; i += LE_BLOCK) {
        s += rowloss[i];
        c += rowcount[i];
    }
    le_block_sum2(sha, shb, &s, &c);
    if (LE_TID == 0 && LE_BID == 0) {
        loss[0] = c > 0.0f ? s / c : empty + 0.0f * s;
        scale[0] = c > 0.0f ? 1.0f / c : 0.0f;
    }
}

/*
 * mine_weight: the weight of pair (i, j) in the gradient of row i, from
 * c = coef[i*b+j] + coef[j*b+i] (pd is symmetric) and dij = pd[i*b+j]:
 * LE_MINE_SQL2: 2c; LE_MINE_L2: c / dij, 0 where dij is not > 0 (the
 * gradient of the distance at 0 is taken as 0); LE_MINE_COSINE: c.
 */
LE_FN float mine_weight(int dist, float c, float dij) {
    if (dist == LE_MINE_SQL2) return 2.0f * c;
    if (dist == LE_MINE_L2) return dij > 0.0f ? c / dij : 0.0f;
    return c;
}

/*
 * mine_grad (mineGrad): block i < b writes row i of grad, with w_j =
 * mine_weight(dist, coef[i*b+j] + coef[j*b+i], pd[i*b+j]) and s =
 * scale[0]:
 *   l2, squared l2: grad[i,k] = s * sum_j w_j (v[i,k] - v[j,k])
 *   cosine: gu_k = -sum_j w_j v[j,k] (v the normalised rows u), and
 *     grad[i,k] = s * (gu_k - (u_i . gu) u[i,k]) / norms[i] where
 *     norms[i] >= 1e-12, else s * gu_k / 1e-12 (F.normalize's gradient)
 * The j sum runs in index order, the weights staged LE_BLOCK at a time in
 * work-group memory; u_i . gu is added in the block's fixed tree. grad
 * must not overlap v. Block i >= b reads and writes nothing.
 */
LE_KERNEL mine_grad(const LE_GLOBAL float *v, const LE_GLOBAL float *pd, const LE_GLOBAL float *coef,
                    const LE_GLOBAL float *scale, int b, int d, int dist, const LE_GLOBAL float *norms,
                    LE_GLOBAL float *grad) {
    LE_LOCAL float sw[LE_BLOCK];
    LE_LOCAL float sh[LE_BLOCK];
    int i = LE_BID;
    int bb = i < b ? b : 0;
    int ir = i < b ? i : 0;
    float s = bb > 0 ? scale[0] : 0.0f;
    const LE_GLOBAL float *vi = v + (LE_INDEX)ir * d;
    LE_GLOBAL float *gi = grad + (LE_INDEX)ir * d;
    int isc = dist == LE_MINE_COSINE;
    int dd = bb > 0 ? d : 0;
    for (int k0 = 0; k0 < dd; k0 += LE_BLOCK) {
        int k = k0 + LE_TID;
        int kk = k < d ? k : 0;
        float xk = vi[kk], acc = 0.0f;
        for (int j0 = 0; j0 < bb; j0 += LE_BLOCK) {
            int j = j0 + LE_TID;
            sw[LE_TID] = j < bb ? mine_weight(dist, coef[(LE_INDEX)ir * b + j] + coef[(LE_INDEX)j * b + ir],
                                              pd[(LE_INDEX)ir * b + j])
                                : 0.0f;
            LE_SYNC();
            int jn = bb - j0 < LE_BLOCK ? bb - j0 : LE_BLOCK;
            for (int q = 0; q < jn; q++) {
                float vj = v[(LE_INDEX)(j0 + q) * d + kk];
                acc += isc ? sw[q] * vj : sw[q] * (xk - vj);
            }
            LE_SYNC();
        }
        if (k < d) gi[k] = isc ? -acc : s * acc;
    }
    /* the barrier of le_block_sum outside the branch (PoCL) */
    float dot = 0.0f;
    if (isc)
        for (int k = LE_TID; k < dd; k += LE_BLOCK) dot += vi[k] * gi[k];
    dot = le_block_sum(sh, dot);
    if (isc) {
        float n = bb > 0 ? norms[ir] : 0.0f;
        for (int k = LE_TID; k < dd; k += LE_BLOCK) {
            float gu = gi[k];
            gi[k] = n >= LE_MINE_NORM_EPS ? s * ((gu - dot * vi[k]) / n) : s * (gu / LE_MINE_NORM_EPS);
        }
    }
}


/*
 * circle_logit: the logit of pair (i, j) of circle_rows from the distance
 * d = max(pd, 0) and its derivative w.r.t. pd with the weight held
 * constant: positive pairs: w = max(m + d, 0), logit -gamma w (m - d);
 * negative pairs: w = max(1 + m - d, 0), logit gamma w (1 - m - d).
 */
LE_FN float circle_logit(float pd, int positive, float gamma, float m, float *dl) {
    float d = pd >= 0.0f ? pd : 0.0f;
    float cl = pd >= 0.0f ? 1.0f : 0.0f;
    if (positive) {
        float w = fmax(m + d, 0.0f);
        *dl = gamma * w * cl;
        return -gamma * w * (m - d);
    }
    float w = fmax(1.0f + m - d, 0.0f);
    *dl = -gamma * w * cl;
    return gamma * w * ((1.0f - m) - d);
}

/*
 * circle_rows (circleRows): block i < b is row i of Keras' circle loss on
 * the cosine distances pd (1 - u_i.u_j of the normalised rows), d =
 * max(pd, 0): its positives (labels[j] == labels[i], j != i when
 * remove_diag) and negatives (labels[j] != labels[i]), their logits
 * (circle_logit), P and N the log-sum-exp of each set with its maximum
 * (-inf for an empty set), and
 *   rowloss[i]  = softplus(P + N)        (0 where P or N is -inf)
 *   rowcount[i] = 1 where P and N are finite (Keras counts the rows whose
 *                 loss is > 0: the same rows, except where the loss
 *                 underflows to 0)
 *   coef[i*b+j] = sigmoid(P + N) * softmax_j * dlogit_j / dpd
 * with the weights held constant (the paper's and pytorch-metric-learning's
 * stop-gradient); 0 for the other j. The maxima and sums are the block's
 * fixed trees of each thread's in-order values.
 */
LE_KERNEL circle_rows(const LE_GLOBAL float *pd, const LE_GLOBAL int *labels, int b, float gamma, float margin,
                      int remove_diag, LE_GLOBAL float *coef, LE_GLOBAL float *rowloss, LE_GLOBAL float *rowcount) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int i = LE_BID;
    int bb = i < b ? b : 0;
    int li = i < b ? labels[i] : 0;
    const LE_GLOBAL float *row = pd + (LE_INDEX)(i < b ? i : 0) * b;
    LE_GLOBAL float *crow = coef + (LE_INDEX)(i < b ? i : 0) * b;
    float mp = -LE_INF, mn = -LE_INF;
    for (int j = LE_TID; j < bb; j += LE_BLOCK) {
        int lj = labels[j];
        float dl;
        if (lj == li && !(remove_diag && j == i)) mp = fmax(mp, circle_logit(row[j], 1, gamma, margin, &dl));
        if (lj != li) mn = fmax(mn, circle_logit(row[j], 0, gamma, margin, &dl));
    }
    mp = le_block_max(sha, mp);
    mn = le_block_max(sha, mn);
    float sp = 0.0f, sn = 0.0f;
    int has = mp > -LE_INF && mn > -LE_INF;
    for (int j = LE_TID; j < bb; j += LE_BLOCK) {
        int lj = labels[j];
        float dl;
        if (has && lj == li && !(remove_diag && j == i)) sp += exp(circle_logit(row[j], 1, gamma, margin, &dl) - mp);
        if (has && lj != li) sn += exp(circle_logit(row[j], 0, gamma, margin, &dl) - mn);
    }
    le_block_sum2(sha, shb, &sp, &sn);
    float x = has ? (mp + log(sp)) + (mn + log(sn)) : 0.0f;
    float l = has ? le_softplus(x) : 0.0f;
    float sg = has ? le_sigmoid(x) : 0.0f;
    for (int j = LE_TID; j < bb; j += LE_BLOCK) {
        int lj = labels[j];
        float dl, c = 0.0f;
        if (has && lj == li && !(remove_diag && j == i)) {
            float z = circle_logit(row[j], 1, gamma, margin, &dl);
            c = sg * (exp(z - mp) / sp) * dl;
        } else if (has && lj != li) {
            float z = circle_logit(row[j], 0, gamma, margin, &dl);
            c = sg * (exp(z - mn) / sn) * dl;
        }
        crow[j] = c;
    }
    if (LE_TID == 0 && i < b) {
        rowloss[i] = l;
        rowcount[i] = has ? 1.0f : 0.0f;
    }
}

/* Barlow Twins normalisations (kernelspec.BTNorm* in Go). */
#define LE_BT_BATCH_NORM 0
#define LE_BT_UNBIASED_STD 1

/*
 * bt_norm (btNorm): block j < d normalises column j of z [n, d]: with
 * mu = sum_i z[i,j] / n and ss = sum_i (z[i,j] - mu)^2 (each thread its
 * rows i = t, t + LE_BLOCK, ... in order, then the block's fixed tree),
 *   LE_BT_BATCH_NORM:   inv_std[j] = 1 / sqrt(ss / n + 1e-5)
 *   LE_BT_UNBIASED_STD: inv_std[j] = 1 / sqrt(ss / (n - 1))
 * and zn[i,j] = (z[i,j] - mu) * inv_std[j]. Block j >= d reads and writes
 * nothing.
 */
LE_KERNEL bt_norm(const LE_GLOBAL float *z, int n, int d, int mode, LE_GLOBAL float *zn, LE_GLOBAL float *inv_std) {
    LE_LOCAL float sh[LE_BLOCK];
    int j = LE_BID;
    int nn = j < d ? n : 0;
    float s = 0.0f;
    for (int i = LE_TID; i < nn; i += LE_BLOCK) s += z[(LE_INDEX)i * d + j];
    float mu = le_block_sum(sh, s) / (float)n;
    float q = 0.0f;
    for (int i = LE_TID; i < nn; i += LE_BLOCK) {
        float e = z[(LE_INDEX)i * d + j] - mu;
        q += e * e;
    }
    float ss = le_block_sum(sh, q);
    float is = mode == LE_BT_BATCH_NORM ? 1.0f / sqrt(ss / (float)n + 1e-5f) : 1.0f / sqrt(ss / (float)(n - 1));
    for (int i = LE_TID; i < nn; i += LE_BLOCK) zn[(LE_INDEX)i * d + j] = (z[(LE_INDEX)i * d + j] - mu) * is;
    if (LE_TID == 0 && j < d) inv_std[j] = is;
}

/*
 * bt_terms (btTerms): for e < d*d, with v = c[e] and e on the diagonal
 * (e % (d + 1) == 0) or not:
 *   diagonal: l = (1 - v)^2,   c[e] = -2 (1 - v)
 *   else:     l = lambd v^2,   c[e] = 2 lambd v
 * (c is overwritten by dL/dc), and partials[b] = sum of l over block b's
 * elements in the grid-stride partition of gram_diff (element e belongs to
 * block (e / LE_BLOCK) mod LE_NBLOCKS), each thread in order, the block in
 * a fixed tree.
 */
LE_KERNEL bt_terms(LE_GLOBAL float *c, int d, float lambd, LE_GLOBAL float *partials) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX total = (LE_INDEX)d * d;
    LE_INDEX stride = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    float acc = 0.0f;
    for (LE_INDEX e = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; e < total; e += stride) {
        float v = c[e];
        if (e % (d + 1) == 0) {
            float r = 1.0f - v;
            acc += r * r;
            c[e] = -2.0f * r;
        } else {
            acc += lambd * (v * v);
            c[e] = 2.0f * lambd * v;
        }
    }
    float s = le_block_sum(sh, acc);
    if (LE_TID == 0) partials[LE_BID] = s;
}

/*
 * bt_norm_back (btNormBack): block j < d: column j of grad [n, d] holds g =
 * dL/dzn on entry and gets dL/dz:
 *   grad[i,j] = inv_std[j] * (g_i - G / n - zn[i,j] * H / r)
 * with G = sum_i g_i, H = sum_i g_i zn[i,j] (each thread in order, the
 * block's fixed tree), r = n (LE_BT_BATCH_NORM) or n - 1
 * (LE_BT_UNBIASED_STD): the gradient through the mean and the standard
 * deviation. Each element is read and then written by one thread.
 */
LE_KERNEL bt_norm_back(const LE_GLOBAL float *zn, const LE_GLOBAL float *inv_std, int n, int d, int mode,
                       LE_GLOBAL float *grad) {
    LE_LOCAL float sha[LE_BLOCK], shb[LE_BLOCK];
    int j = LE_BID;
    int nn = j < d ? n : 0;
    float g = 0.0f, h = 0.0f;
    for (int i = LE_TID; i < nn; i += LE_BLOCK) {
        LE_INDEX e = (LE_INDEX)i * d + j;
        g += grad[e];
        h += grad[e] * zn[e];
    }
    le_block_sum2(sha, shb, &g, &h);
    float r = mode == LE_BT_BATCH_NORM ? (float)n : (float)(n - 1);
    float is = j < d ? inv_std[j] : 0.0f;
    for (int i = LE_TID; i < nn; i += LE_BLOCK) {
        LE_INDEX e = (LE_INDEX)i * d + j;
        grad[e] = is * ((grad[e] - g / (float)n) - zn[e] * (h / r));
    }
}

#endif /* LOSSENGINE_SRC_MINING_H */
