/*
 * src/lovasz.h: the Lovász losses of Berman et al. (CVPR 2018), the
 * Lovász-softmax and the Lovász hinge. Host mirrors (the specification):
 * host/lovasz.go. The one body of the family: kernels/cuda/lovasz.cu and
 * kernels/opencl/lovasz.cl include it after lemath.h.
 *
 * Layout. The pixels of input [n, c, hw] fall into groups (one per image
 * with per_image, else one for the batch) of len pixels (hw, or n*hw);
 * segment s = g*c + k holds the errors of class k over group g's pixels,
 * one 64-bit pair per pixel q of the group at pair s*len + q (global
 * pixel P = g*len + q, element ((P/hw)*c + k)*hw + P%hw of the input).
 * The pairs are int32 buffers of 2*nseg*len elements read as 64-bit
 * words (little-endian, as every device and the host are): int32 2j is
 * the low half of pair j, 2j + 1 the high half.
 *
 * Pairs. An error e is keyed by lv_key: an unsigned 32-bit key whose
 * ascending order is e's descending order (NaN first, as torch.sort puts
 * it; -0 as +0), and LV_SENT (0xffffffff, after every error) for an
 * ignored pixel. A pair is key << 32 | q << 1 | f, f the pixel's
 * foreground bit (label == class, never for an ignored pixel). Sorting a
 * segment's pairs ascending, all distinct, gives the errors in descending
 * order with ties by pixel index ascending and the ignored pixels last:
 * the order is unique, so the result does not depend on how the sort runs
 * (bitonic within a block, then merges of sorted runs).
 *
 * Jaccard gradient. With the sorted foreground bits f_0, f_1, ..., gts
 * their sum over the segment and cf_i = f_0 + ... + f_i (integers, from a
 * per-tile count, a per-segment scan of the tile counts and a block scan
 * within the tile), the Lovász extension's gradient is
 * g_i = J_i - J_{i-1}, J_i = 1 - (gts - cf_i) / (gts + i + 1 - cf_i),
 * J_{-1} = 0. With u_i = gts + i + 1 - cf_i it is computed without the
 * cancellation of that difference as
 *   g_i = 1 / u_i                              if f_i or i == 0
 *   g_i = (gts - cf_i) / (u_i (u_i - 1))       otherwise.
 * The errors themselves are kept apart, in err, at the unsorted
 * positions. The loss of a segment is sum_i max(e_i, 0) g_i over its kept pixels
 * (e_i >= 0 for the softmax errors; the hinge's relu), added per tile in
 * a fixed tree and over the tiles in order. No floating-point atomics:
 * every result is bitwise reproducible.
 */
#ifndef LOSSENGINE_SRC_LOVASZ_H
#define LOSSENGINE_SRC_LOVASZ_H

#ifndef LOSSENGINE_LEMATH_H
#error "include lemath.h before src/lovasz.h"
#endif

/* The bits of a float (lemath.h has no bit cast). */
#ifdef __CUDACC__
#define LV_AS_UINT(f) __float_as_uint(f)
#else
#define LV_AS_UINT(f) as_uint(f)
#endif

#define LV_RUN 2048           /* kernelspec.LovaszRun */
#define LV_TILE 2048          /* kernelspec.LovaszTile */
#define LV_PER (LV_TILE / LE_BLOCK)
#define LV_CHUNK 8            /* outputs per thread in lovasz_merge */
#define LV_SENT 0xffffffffu   /* the key of an ignored pixel */

#ifdef __CUDACC__
typedef unsigned long long lv_u64;
#else
typedef ulong lv_u64;
#endif
#define LV_PAD (~(lv_u64)0)   /* after every pair: fills a short run */

/* lv_pair(key, q, f): the pair of pixel q (see the header). */
LE_FN lv_u64 lv_pair(unsigned int key, LE_INDEX q, int f) {
    return ((lv_u64)key << 32) | (lv_u64)(((unsigned int)q << 1) | (f ? 1u : 0u));
}

/* lv_key(e): the descending-order key of error e (see the header). */
LE_FN unsigned int lv_key(float e) {
    if (e != e) return 0u;
    unsigned int u = LV_AS_UINT(e + 0.0f); /* -0 becomes +0 */
    unsigned int o = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ~o;
}

/*
 * lovasz_softmax_errors: for each pixel P = nn*hw + h of x [n, c, hw]
 * with label t = target[P], ignored when has_ignore and t ==
 * ignore_index: p_k = softmax over k of x[nn, k, h] (from_logits: with
 * m = max_k, s = sum_k exp(x - m), p_k = exp(x - m) / s; else p_k = x),
 * and for each class k, at o = (g*c + k)*len + q (g = nn, q = h, len = hw
 * with per_image; else g = 0, q = P, len = n*hw):
 *   err[o]   = ignored ? 0 : |[t == k] - p_k|
 *   pairs[o] = lv_pair(ignored ? LV_SENT : lv_key(err[o]), q, [t == k] and not ignored)
 * where the label's error 1 - p_t is, from logits, (sum over k != t of
 * exp(x_k - m)) / s: no cancellation where p_t is near 1.
 */
LE_KERNEL lovasz_softmax_errors(const LE_GLOBAL float *x, const LE_GLOBAL int *target, int n, int c, int hw,
                                int per_image, int from_logits, int has_ignore, int ignore_index,
                                LE_GLOBAL int *pairs, LE_GLOBAL float *err) {
    LE_GLOBAL lv_u64 *pv = (LE_GLOBAL lv_u64 *)pairs;
    LE_INDEX np = (LE_INDEX)n * hw;
    LE_INDEX len = per_image ? (LE_INDEX)hw : np;
    LE_INDEX step = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX P = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; P < np; P += step) {
        LE_INDEX nn = P / hw, h = P - nn * hw;
        LE_INDEX base = nn * c * hw + h;
        LE_INDEX g = per_image ? nn : 0, q = per_image ? h : P;
        int t = target[P];
        int ign = has_ignore && t == ignore_index;
        int labelled = !ign && t >= 0 && t < c;
        float m = -LE_INF, s = 0.0f, so = 0.0f;
        if (from_logits)
            for (int k = 0; k < c; k++) le_lse_push(&m, &s, x[base + (LE_INDEX)k * hw]);
        for (int k = 0; k < c; k++) {
            float v = x[base + (LE_INDEX)k * hw];
            float ek = from_logits ? exp(v - m) : v;
            if (k == t && labelled) continue; /* the label's class: after the loop */
            so += ek;
            float e = from_logits ? ek / s : fabs(v);
            LE_INDEX o = (g * c + k) * len + q;
            pv[o] = lv_pair(ign ? LV_SENT : lv_key(e), q, 0);
            err[o] = ign ? 0.0f : e;
        }
        if (labelled) {
            float e = from_logits ? so / s : fabs(1.0f - x[base + (LE_INDEX)t * hw]);
            LE_INDEX o = (g * c + t) * len + q;
            pv[o] = lv_pair(lv_key(e), q, 1);
            err[o] = e;
        }
    }
}

/*
 * lovasz_hinge_errors: for each pixel P of x [n, hw] with label t =
 * target[P] (0 or 1), ignored when has_ignore and t == ignore_index,
 * f = (t == 1) and not ignored, sign = f ? 1 : -1:
 *   err[P]   = ignored ? 0 : 1 - x[P] * sign
 *   pairs[P] = lv_pair(ignored ? LV_SENT : lv_key(err[P]), q, f),  q = per_image ? P % hw : P
 * (segment g = per_image ? P / hw : 0 of len = per_image ? hw : n*hw
 * pixels starts at g*len, so the offset of pixel q is P).
 */
LE_KERNEL lovasz_hinge_errors(const LE_GLOBAL float *x, const LE_GLOBAL int *target, int n, int hw,
                              int per_image, int has_ignore, int ignore_index,
                              LE_GLOBAL int *pairs, LE_GLOBAL float *err) {
    LE_GLOBAL lv_u64 *pv = (LE_GLOBAL lv_u64 *)pairs;
    LE_INDEX np = (LE_INDEX)n * hw;
    LE_INDEX step = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX P = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; P < np; P += step) {
        int t = target[P];
        int ign = has_ignore && t == ignore_index;
        int fg = !ign && t == 1;
        LE_INDEX q = per_image ? P % hw : P;
        float e = 1.0f - x[P] * (fg ? 1.0f : -1.0f);
        pv[P] = lv_pair(ign ? LV_SENT : lv_key(e), q, fg);
        err[P] = ign ? 0.0f : e;
    }
}

/*
 * lovasz_sort_runs sorts each run of LV_RUN pairs of each segment of len
 * (the last run of a segment may be shorter) ascending, in place: block
 * b sorts runs b, b + blocks, ... of the nseg * ceil(len / LV_RUN) runs,
 * in work-group memory, by a bitonic network over LV_RUN slots (the slots
 * past the run hold LV_PAD and are not written back).
 */
LE_KERNEL lovasz_sort_runs(LE_GLOBAL int *pairs, int nseg, int len) {
    LE_LOCAL lv_u64 sv[LV_RUN];
    LE_GLOBAL lv_u64 *pv = (LE_GLOBAL lv_u64 *)pairs;
    LE_INDEX nr = ((LE_INDEX)len + LV_RUN - 1) / LV_RUN;
    LE_INDEX runs = (LE_INDEX)nseg * nr;
    for (LE_INDEX r = LE_BID; r < runs; r += LE_NBLOCKS) {
        LE_INDEX s = r / nr, j0 = (r - s * nr) * LV_RUN;
        LE_INDEX o = s * len + j0;
        int cnt = (int)((LE_INDEX)len - j0 < LV_RUN ? (LE_INDEX)len - j0 : LV_RUN);
        for (int j = LE_TID; j < LV_RUN; j += LE_BLOCK) sv[j] = j < cnt ? pv[o + j] : LV_PAD;
        LE_SYNC();
        for (int k = 2; k <= LV_RUN; k <<= 1) {
            for (int d = k >> 1; d > 0; d >>= 1) {
                for (int p = LE_TID; p < LV_RUN / 2; p += LE_BLOCK) {
                    int lo = (p / d) * 2 * d + p % d, hi = lo + d;
                    lv_u64 a = sv[lo], b = sv[hi];
                    if (((lo & k) == 0) == (a > b)) { /* out of this half's order */
                        sv[lo] = b;
                        sv[hi] = a;
                    }
                }
                LE_SYNC();
            }
        }
        for (int j = LE_TID; j < cnt; j += LE_BLOCK) pv[o + j] = sv[j];
        LE_SYNC();
    }
}

/*
 * lovasz_merge merges, within each segment of len, each pair of sorted
 * runs [b, b + width) and [b + width, b + 2 width) of pairs (b a multiple
 * of 2 width, both clipped to len) into one sorted run of out_pairs at
 * [b, b + 2 width). Each thread takes LV_CHUNK outputs: it finds by
 * binary search how many of the outputs before its first come from the
 * first run (the pairs are distinct, so the split is unique) and merges
 * from there, starting afresh where its outputs reach the next pair of
 * runs.
 */
LE_KERNEL lovasz_merge(const LE_GLOBAL int *pairs, int nseg, int len, int width, LE_GLOBAL int *out_pairs) {
    LE_INDEX L = len, w = width;
    LE_INDEX ncs = (L + LV_CHUNK - 1) / LV_CHUNK;
    LE_INDEX total = (LE_INDEX)nseg * ncs;
    LE_INDEX step = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX ch = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; ch < total; ch += step) {
        LE_INDEX s = ch / ncs, p0 = (ch - s * ncs) * LV_CHUNK;
        const LE_GLOBAL lv_u64 *v = (const LE_GLOBAL lv_u64 *)pairs + s * L;
        LE_GLOBAL lv_u64 *out = (LE_GLOBAL lv_u64 *)out_pairs + s * L;
        LE_INDEX base = (p0 / (2 * w)) * 2 * w;
        LE_INDEX a1 = base + w < L ? base + w : L;
        LE_INDEX b1 = base + 2 * w < L ? base + 2 * w : L;
        LE_INDEX na = a1 - base, nb = b1 - a1;
        LE_INDEX kk = p0 - base;
        /* how many of the kk outputs before p0 come from run a */
        LE_INDEX lo = kk - nb > 0 ? kk - nb : 0, hi = kk < na ? kk : na;
        while (lo < hi) {
            LE_INDEX mid = (lo + hi) / 2;
            if (v[a1 + kk - mid - 1] > v[base + mid])
                lo = mid + 1;
            else
                hi = mid;
        }
        LE_INDEX i = base + lo, j = a1 + kk - lo;
        LE_INDEX end = p0 + LV_CHUNK < L ? p0 + LV_CHUNK : L;
        for (LE_INDEX p = p0; p < end; p++) {
            if (p == b1) { /* the next pair of runs */
                base = b1;
                a1 = base + w < L ? base + w : L;
                b1 = base + 2 * w < L ? base + 2 * w : L;
                i = base;
                j = a1;
            }
            int takeA = j >= b1 || (i < a1 && v[j] > v[i]);
            out[p] = takeA ? v[i] : v[j];
            if (takeA)
                i++;
            else
                j++;
        }
    }
}

/*
 * lovasz_tile_counts: counts[s*nt + t] is the number of pairs of tile t
 * (positions [t*LV_TILE, (t+1)*LV_TILE) of segment s, clipped to len)
 * with the foreground bit. nt = ceil(len / LV_TILE).
 */
LE_KERNEL lovasz_tile_counts(const LE_GLOBAL int *pairs, int nseg, int len, int nt, LE_GLOBAL int *counts) {
    LE_LOCAL float sh[LE_BLOCK];
    LE_INDEX tiles = (LE_INDEX)nseg * nt;
    for (LE_INDEX tl = LE_BID; tl < tiles; tl += LE_NBLOCKS) {
        LE_INDEX s = tl / nt, t0 = (tl - s * nt) * LV_TILE;
        LE_INDEX end = t0 + LV_TILE < len ? t0 + LV_TILE : (LE_INDEX)len;
        int cnt = 0;
        for (LE_INDEX p = t0 + LE_TID; p < end; p += LE_BLOCK) cnt += pairs[2 * (s * len + p)] & 1;
        float tot = le_block_sum(sh, (float)cnt); /* at most LV_TILE: exact */
        if (LE_TID == 0) counts[tl] = (int)tot;
    }
}

/*
 * lovasz_segment_scan: for each segment s, offsets[s*nt + t] = sum of
 * counts[s*nt + u] over u < t (exclusive prefix sum, in integers) and
 * seg_fg[s] the sum over all its tiles. Block b scans segments b,
 * b + blocks, ...
 */
LE_KERNEL lovasz_segment_scan(const LE_GLOBAL int *counts, int nseg, int nt, LE_GLOBAL int *offsets,
                              LE_GLOBAL int *seg_fg) {
    LE_LOCAL int sh[LE_BLOCK];
    for (LE_INDEX s = LE_BID; s < nseg; s += LE_NBLOCKS) {
        int carry = 0;
        for (LE_INDEX t0 = 0; t0 < nt; t0 += LE_BLOCK) {
            LE_INDEX t = t0 + LE_TID;
            int v = t < nt ? counts[s * nt + t] : 0;
            sh[LE_TID] = v;
            LE_SYNC();
            for (int d = 1; d < LE_BLOCK; d <<= 1) { /* inclusive scan */
                int a = LE_TID >= d ? sh[LE_TID - d] : 0;
                LE_SYNC();
                sh[LE_TID] += a;
                LE_SYNC();
            }
            if (t < nt) offsets[s * nt + t] = carry + sh[LE_TID] - v;
            carry += sh[LE_BLOCK - 1];
            LE_SYNC();
        }
        if (LE_TID == 0) seg_fg[s] = carry;
    }
}

/*
 * lovasz_tile_grad: for each tile t of segment s (g = s / c, class
 * k = s % c), with gts = seg_fg[s], for each position i of the tile with
 * f_i its foreground bit, q_i its pixel and cf_i = offsets[s*nt+t]
 * + the foreground bits of the tile's positions up to i, and g_i as in
 * the header (for the kept positions, key != LV_SENT), e_i = err[s*len + q_i] (the error in the unsorted order, which the key
 * holds only to float precision: the float64 host path sorts by the
 * float32 rounding of its errors and adds their full values):
 *   tile_loss[s*nt + t] = sum over kept i of (e_i < 0 ? 0 : e_i g_i)
 *   grad[a_i] = grad_scale * (e_i > 0 ? (f_i ? -g_i : g_i) : 0)   (kept)
 *   grad[a_i] = 0                                                  (ignored)
 * with a_i = ((P/hw)*c + k)*hw + P%hw, P = g*len + q_i:
 * d loss / d p_k of the pixel (|f - p|' = -1 for f, 1 else) for the
 * softmax, d loss / d x of the pixel for the hinge (1 - x(2f - 1)).
 * Thread j takes positions j*LV_PER ... of the tile; the tile's sum is a
 * fixed tree.
 */
LE_KERNEL lovasz_tile_grad(const LE_GLOBAL int *pairs, const LE_GLOBAL float *err,
                           const LE_GLOBAL int *offsets,
                           const LE_GLOBAL int *seg_fg, int nseg, int len, int nt, int c, int hw,
                           float grad_scale, int has_grad, LE_GLOBAL float *grad, LE_GLOBAL float *tile_loss) {
    LE_LOCAL float shf[LE_BLOCK];
    LE_LOCAL int shi[LE_BLOCK];
    LE_INDEX tiles = (LE_INDEX)nseg * nt;
    for (LE_INDEX tl = LE_BID; tl < tiles; tl += LE_NBLOCKS) {
        LE_INDEX s = tl / nt, t0 = (tl - s * nt) * LV_TILE;
        LE_INDEX p0 = t0 + (LE_INDEX)LE_TID * LV_PER;
        LE_INDEX end = p0 + LV_PER < len ? p0 + LV_PER : (LE_INDEX)len;
        LE_INDEX so = s * len;
        int cnt = 0;
        for (LE_INDEX p = p0; p < end; p++) cnt += pairs[2 * (so + p)] & 1;
        /* exclusive scan of the threads' counts */
        shi[LE_TID] = cnt;
        LE_SYNC();
        for (int d = 1; d < LE_BLOCK; d <<= 1) {
            int a = LE_TID >= d ? shi[LE_TID - d] : 0;
            LE_SYNC();
            shi[LE_TID] += a;
            LE_SYNC();
        }
        LE_INDEX cf = (LE_INDEX)offsets[tl] + shi[LE_TID] - cnt;
        LE_INDEX gts = seg_fg[s];
        LE_INDEX grp = s / c, k = s - grp * c;
        float acc = 0.0f;
        for (LE_INDEX p = p0; p < end; p++) {
            unsigned int key = (unsigned int)pairs[2 * (so + p) + 1];
            unsigned int id = (unsigned int)pairs[2 * (so + p)];
            int f = id & 1u;
            LE_INDEX q = id >> 1;
            cf += f;
            float d = 0.0f;
            if (key != LV_SENT) {
                float e = err[so + q];
                LE_INDEX ui = gts + p + 1 - cf;
                float u = (float)ui;
                float gi = (f || p == 0) ? 1.0f / u : (float)(gts - cf) / (u * (float)(ui - 1));
                acc += e < 0.0f ? 0.0f : e * gi;
                d = e > 0.0f ? (f ? -gi : gi) : 0.0f;
            }
            if (has_grad) {
                LE_INDEX P = grp * len + q;
                LE_INDEX nn = P / hw;
                grad[(nn * c + k) * hw + (P - nn * hw)] = grad_scale * d;
            }
        }
        float tot = le_block_sum(shf, acc);
        if (LE_TID == 0) tile_loss[tl] = tot;
    }
}

/*
 * lovasz_finalize (one block): for each group g, with l_k = sum over t of
 * tile_loss[(g*c + k)*nt + t] (in order of t) and class k counted when
 * all_classes or seg_fg[g*c + k] > 0, m_g the number of classes counted:
 *   loss[0] = (1/groups) sum_g (m_g > 0 ? (sum of counted l_k) / m_g : 0)
 *             (0 when groups == 0)
 *   seg_weight[g*c + k] = counted ? 1 / (m_g groups) : 0
 * Thread j takes groups j, j + LE_BLOCK, ...; the groups' losses are
 * added in a fixed tree.
 */
LE_KERNEL lovasz_finalize(const LE_GLOBAL float *tile_loss, const LE_GLOBAL int *seg_fg, int groups, int c,
                          int nt, int all_classes, LE_GLOBAL float *loss, LE_GLOBAL float *seg_weight) {
    LE_LOCAL float sh[LE_BLOCK];
    float acc = 0.0f;
    int gb = LE_BID == 0 ? groups : 0;
    for (LE_INDEX g = LE_TID; g < gb; g += LE_BLOCK) {
        float sum = 0.0f;
        int m = 0;
        for (int k = 0; k < c; k++) {
            LE_INDEX s = g * c + k;
            if (all_classes || seg_fg[s] > 0) {
                float l = 0.0f;
                for (LE_INDEX t = 0; t < nt; t++) l += tile_loss[s * nt + t];
                sum += l;
                m++;
            }
        }
        float wgt = m > 0 ? 1.0f / ((float)m * (float)groups) : 0.0f;
        for (int k = 0; k < c; k++) {
            LE_INDEX s = g * c + k;
            seg_weight[s] = (all_classes || seg_fg[s] > 0) ? wgt : 0.0f;
        }
        acc += m > 0 ? sum / (float)m : 0.0f;
    }
    float tot = le_block_sum(sh, acc);
    if (LE_BID == 0 && LE_TID == 0) loss[0] = groups > 0 ? tot / (float)groups : 0.0f;
}

/*
 * lovasz_softmax_grad: for each pixel P = nn*hw + h, with
 * gp_k = grad[nn, k, h] * seg_weight[g*c + k] (g = per_image ? nn : 0),
 * in place:
 *   grad[nn, k, h] = p_k (gp_k - sum_j p_j gp_j)   (from_logits; p as in
 *                                                   lovasz_softmax_errors)
 *   grad[nn, k, h] = gp_k                           (probabilities)
 * For the class km of the largest logit, gp_km - sum_j p_j gp_j is formed
 * as gp_km (sum over j != km of p_j) - sum over j != km of p_j gp_j,
 * without the cancellation of gp_km - p_km gp_km where p_km is near 1.
 */
LE_KERNEL lovasz_softmax_grad(const LE_GLOBAL float *x, int n, int c, int hw, int per_image, int from_logits,
                              const LE_GLOBAL float *seg_weight, LE_GLOBAL float *grad) {
    LE_INDEX np = (LE_INDEX)n * hw;
    LE_INDEX step = (LE_INDEX)LE_NBLOCKS * LE_BLOCK;
    for (LE_INDEX P = (LE_INDEX)LE_BID * LE_BLOCK + LE_TID; P < np; P += step) {
        LE_INDEX nn = P / hw, h = P - nn * hw;
        LE_INDEX base = nn * c * hw + h;
        LE_INDEX wo = per_image ? nn * c : 0;
        if (!from_logits) {
            for (int k = 0; k < c; k++) grad[base + (LE_INDEX)k * hw] *= seg_weight[wo + k];
            continue;
        }
        float m = -LE_INF, s = 0.0f;
        int km = 0; /* the first largest logit's class */
        for (int k = 0; k < c; k++) {
            float v = x[base + (LE_INDEX)k * hw];
            if (v > m) km = k;
            le_lse_push(&m, &s, v);
        }
        /* over the classes but km: the sum of p_k and of p_k gp_k */
        float so = 0.0f, dot = 0.0f;
        for (int k = 0; k < c; k++) {
            LE_INDEX o = base + (LE_INDEX)k * hw;
            float pk = exp(x[o] - m) / s;
            if (k != km) {
                so += pk;
                dot += pk * (grad[o] * seg_weight[wo + k]);
            }
        }
        LE_INDEX om = base + (LE_INDEX)km * hw;
        float pm = exp(x[om] - m) / s, gpm = grad[om] * seg_weight[wo + km];
        for (int k = 0; k < c; k++) {
            LE_INDEX o = base + (LE_INDEX)k * hw;
            float gp = grad[o] * seg_weight[wo + k];
            float d = k == km ? gp * so - dot : gp - (dot + pm * gpm);
            grad[o] = exp(x[o] - m) / s * d;
        }
    }
}

#endif
