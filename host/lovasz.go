package host

import (
	"math"
	"slices"
	"unsafe"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("lovasz_softmax_errors", lovaszSoftmaxErrors[float32], lovaszSoftmaxErrors[float64])
	register("lovasz_hinge_errors", lovaszHingeErrors[float32], lovaszHingeErrors[float64])
	register("lovasz_sort_runs", lovaszSortRuns, lovaszSortRuns)
	register("lovasz_merge", lovaszMerge, lovaszMerge)
	register("lovasz_tile_counts", lovaszTileCounts, lovaszTileCounts)
	register("lovasz_segment_scan", lovaszSegmentScan, lovaszSegmentScan)
	register("lovasz_tile_grad", lovaszTileGrad[float32], lovaszTileGrad[float64])
	register("lovasz_finalize", lovaszFinalize[float32], lovaszFinalize[float64])
	register("lovasz_softmax_grad", lovaszSoftmaxGrad[float32], lovaszSoftmaxGrad[float64])
}

// The lovasz family (kernels/src/lovasz.h, whose header comment states the
// layout): the errors of each (group, class) segment are keyed, sorted per
// segment by (key, pixel index) — runs of kernelspec.LovaszRun, then
// merges — and scanned per tile of kernelspec.LovaszTile positions for
// the Jaccard gradient. A pixel's pair is the 64-bit word
// key << 32 | q << 1 | f (f its foreground bit), held in int32 buffers as
// two halves, low then high; on the host, as on the devices, the int32
// buffer is read in place as 64-bit words (lvPairs). The keys are those
// of the errors' float32 rounding (lvKey), in both precisions: the
// float64 path orders its errors by their float32 values, ties by pixel
// index, and adds their full values (err). The mirrors compute the sums
// of a tile in float64 and round once, where the kernels add in float in
// a fixed tree.

const lvSent = 0xffffffff // the key of an ignored pixel

// lvKey is lv_key: a key whose ascending order is e's descending order
// (NaN first, -0 as +0).
func lvKey(e float32) uint32 {
	if e != e {
		return 0
	}
	u := math.Float32bits(e + 0)
	if u&0x80000000 != 0 {
		u = ^u
	} else {
		u |= 0x80000000
	}
	return ^u
}

// lvPair is lv_pair: the pair of pixel q with key and foreground bit f.
func lvPair(key uint32, q int, f bool) uint64 {
	v := uint64(key)<<32 | uint64(uint32(q)<<1)
	if f {
		v |= 1
	}
	return v
}

// lvPairs views an int32 buffer of pairs as its 64-bit words (int32 2j
// the low half of word j: little-endian, as on every supported machine).
func lvPairs(b []int32) []uint64 {
	if len(b) < 2 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), len(b)/2)
}

// lovaszSoftmaxErrors mirrors lovasz_softmax_errors(x, target, n, c, hw,
// per_image, from_logits, has_ignore, ignore_index, pairs, err): for
// pixel P = nn*hw + h with label t (ignored when has_ignore and t ==
// ignore_index) and p_k the softmax over the classes of x[nn, :, h]
// (from_logits; else p_k = x[nn, k, h]), and for class k at
// o = (g*c + k)*len + q (per_image: g = nn, q = h, len = hw; else g = 0,
// q = P, len = n*hw):
//
//	err[o]   = ignored ? 0 : |[t == k] − p_k|
//	pairs[o] = lvPair(ignored ? 0xffffffff : lvKey(float32(err[o])), q, [t == k] and not ignored)
//
// where the label's error 1 − p_t is, from logits, Σ_{k≠t} p_k (no
// cancellation where p_t is near 1).
func lovaszSoftmaxErrors[T Float](a argv) error {
	x, tg := fbuf[T](a, 0), a.ints(1)
	n, c, hw := a.int(2), a.int(3), a.int(4)
	perImage, fromLogits, hasIgn, ign := a.int(5) != 0, a.int(6) != 0, a.int(7) != 0, int32(a.int(8))
	pairs, err := lvPairs(a.ints(9)), fbuf[T](a, 10)
	np := n * hw
	ln := np
	if perImage {
		ln = hw
	}
	parallelFor(np, 4096/max(c, 1)+1, func(lo, hi int) {
		p := make([]float64, c)
		for P := lo; P < hi; P++ {
			nn, h := P/hw, P%hw
			base := nn*c*hw + h
			g, q := 0, P
			if perImage {
				g, q = nn, h
			}
			t := tg[P]
			ignored := hasIgn && t == ign
			softmaxColumn(p, x, base, hw, fromLogits)
			var others float64 // Σ_{k≠t} p_k: 1 − p_t without the cancellation
			for k := range c {
				fg := !ignored && int(t) == k
				o := (g*c+k)*ln + q
				if ignored {
					pairs[o], err[o] = lvPair(lvSent, q, false), 0
					continue
				}
				if fg {
					continue
				}
				others += p[k]
				e := T(math.Abs(p[k]))
				pairs[o], err[o] = lvPair(lvKey(float32(e)), q, false), e
			}
			if !ignored && t >= 0 && int(t) < c {
				e := others
				if !fromLogits {
					e = math.Abs(1 - p[t])
				}
				o := (g*c+int(t))*ln + q
				pairs[o], err[o] = lvPair(lvKey(float32(T(e))), q, true), T(e)
			}
		}
	})
	return nil
}

// softmaxColumn sets p[k] to the softmax over k of x[base + k*hw] (NaN
// for a column holding NaN or +Inf, as le_lse_push), or to x itself when
// fromLogits is false. The exponentials are in T's precision (expT), as
// the kernels', and the sum in float64.
func softmaxColumn[T Float](p []float64, x []T, base, hw int, fromLogits bool) {
	if !fromLogits {
		for k := range p {
			p[k] = float64(x[base+k*hw])
		}
		return
	}
	m, inf, bad := T(math.Inf(-1)), T(math.Inf(1)), false
	for k := range p {
		v := x[base+k*hw]
		bad = bad || v != v || v == inf
		if v > m {
			m = v
		}
	}
	if bad {
		for k := range p {
			p[k] = math.NaN()
		}
		return
	}
	var s float64
	for k := range p {
		e := float64(expT(x[base+k*hw] - m))
		p[k] = e
		s += e
	}
	for k := range p {
		p[k] /= s
	}
}

// lovaszHingeErrors mirrors lovasz_hinge_errors(x, target, n, hw,
// per_image, has_ignore, ignore_index, pairs, err): for pixel P with
// label t (ignored when has_ignore and t == ignore_index), f = t == 1 and
// not ignored, q = per_image ? P % hw : P:
//
//	err[P]   = ignored ? 0 : 1 − x[P]·(f ? 1 : −1)
//	pairs[P] = lvPair(ignored ? 0xffffffff : lvKey(float32(err[P])), q, f)
func lovaszHingeErrors[T Float](a argv) error {
	x, tg := fbuf[T](a, 0), a.ints(1)
	n, hw := a.int(2), a.int(3)
	perImage, hasIgn, ign := a.int(4) != 0, a.int(5) != 0, int32(a.int(6))
	pairs, err := lvPairs(a.ints(7)), fbuf[T](a, 8)
	parallelFor(n*hw, 1<<14, func(lo, hi int) {
		for P := lo; P < hi; P++ {
			t := tg[P]
			ignored := hasIgn && t == ign
			fg := !ignored && t == 1
			q := P
			if perImage {
				q = P % hw
			}
			sgn := T(-1)
			if fg {
				sgn = 1
			}
			if ignored {
				pairs[P], err[P] = lvPair(lvSent, q, false), 0
				continue
			}
			e := 1 - x[P]*sgn
			pairs[P], err[P] = lvPair(lvKey(float32(e)), q, fg), e
		}
	})
	return nil
}

// lovaszSortRuns mirrors lovasz_sort_runs(pairs, nseg, len): each run of
// kernelspec.LovaszRun pairs of each segment of len (the last one of a
// segment possibly shorter) sorted ascending in place. The pairs of a
// segment are distinct, so any sort gives the kernel's result: a run
// whose pixel indices ascend (as the errors kernels leave them) is sorted
// by a stable radix sort of its keys, any other by a comparison sort.
func lovaszSortRuns(a argv) error {
	pairs := lvPairs(a.ints(0))
	nseg, ln := a.int(1), a.int(2)
	const R = kernelspec.LovaszRun
	nr := (ln + R - 1) / R
	parallelFor(nseg*nr, 4, func(lo, hi int) {
		w := lvRunPool.get()
		defer lvRunPool.put(w)
		for r := lo; r < hi; r++ {
			s, j0 := r/nr, (r%nr)*R
			o := s*ln + j0
			w.sort(pairs[o : o+min(R, ln-j0)])
		}
	})
	return nil
}

// lvRun is the scratch of one run's sort.
type lvRun struct {
	t    [kernelspec.LovaszRun]uint64
	hist [4][256]int32
}

var lvRunPool jobPool[lvRun]

func (w *lvRun) sort(v []uint64) {
	n := len(v)
	for j := 1; j < n; j++ {
		if uint32(v[j])>>1 <= uint32(v[j-1])>>1 {
			slices.Sort(v)
			return
		}
	}
	// LSD radix sort of the keys (bits 32..63), 8 bits a pass, stable:
	// equal keys keep their ascending pixel order.
	w.hist = [4][256]int32{}
	for _, x := range v {
		k := uint32(x >> 32)
		w.hist[0][k&255]++
		w.hist[1][k>>8&255]++
		w.hist[2][k>>16&255]++
		w.hist[3][k>>24]++
	}
	src, dst := v, w.t[:n]
	for d := range 4 {
		h := &w.hist[d]
		if n == 0 || h[uint32(src[0]>>(32+8*d))&255] == int32(n) {
			continue // one digit for all: the pass changes nothing
		}
		sum := int32(0)
		for b := range h {
			h[b], sum = sum, sum+h[b]
		}
		for _, x := range src {
			b := uint32(x>>(32+8*d)) & 255
			dst[h[b]] = x
			h[b]++
		}
		src, dst = dst, src
	}
	if n > 0 && &src[0] != &v[0] {
		copy(v, src)
	}
}

// lovaszMerge mirrors lovasz_merge(pairs, nseg, len, width, out_pairs):
// within each segment of len, the sorted runs [b, b + width) and
// [b + width, b + 2·width) (b a multiple of 2·width, clipped to len)
// merged into out_pairs at [b, b + 2·width).
func lovaszMerge(a argv) error {
	pairs := lvPairs(a.ints(0))
	nseg, ln, w := a.int(1), a.int(2), a.int(3)
	out := lvPairs(a.ints(4))
	if ln == 0 || nseg == 0 {
		return nil
	}
	np := (ln + 2*w - 1) / (2 * w)
	parallelFor(nseg*np, 1+(1<<15)/(2*w), func(lo, hi int) {
		for it := lo; it < hi; it++ {
			s, b := it/np, (it%np)*2*w
			so := s * ln
			a1, b1 := min(b+w, ln), min(b+2*w, ln)
			lvMergeRuns(pairs[so+b:so+a1], pairs[so+a1:so+b1], out[so+b:so+b1])
		}
	})
	return nil
}

// lvMergeRuns merges the sorted runs A and B into O, without a
// data-dependent branch until one run is used up.
func lvMergeRuns(A, B, O []uint64) {
	i, j, p := 0, 0, 0
	for i < len(A) && j < len(B) {
		va, vb := A[i], B[j]
		t := 0
		if vb < va {
			t = 1
		}
		v := va
		if t == 1 {
			v = vb
		}
		O[p] = v
		p++
		i += 1 - t
		j += t
	}
	p += copy(O[p:], A[i:])
	copy(O[p:], B[j:])
}

// lovaszTileCounts mirrors lovasz_tile_counts(pairs, nseg, len, nt,
// counts): counts[s*nt + t] is the number of foreground bits among the
// pairs [t·LovaszTile, (t+1)·LovaszTile) ∩ [0, len) of segment s.
func lovaszTileCounts(a argv) error {
	pairs := lvPairs(a.ints(0))
	nseg, ln, nt, counts := a.int(1), a.int(2), a.int(3), a.ints(4)
	const T = kernelspec.LovaszTile
	parallelFor(nseg*nt, 16, func(lo, hi int) {
		for tl := lo; tl < hi; tl++ {
			s, t0 := tl/nt, (tl%nt)*T
			cnt := int32(0)
			for p := t0; p < min(t0+T, ln); p++ {
				cnt += int32(pairs[s*ln+p] & 1)
			}
			counts[tl] = cnt
		}
	})
	return nil
}

// lovaszSegmentScan mirrors lovasz_segment_scan(counts, nseg, nt,
// offsets, seg_fg): offsets[s*nt + t] = Σ_{u<t} counts[s*nt + u] and
// seg_fg[s] = Σ_u counts[s*nt + u].
func lovaszSegmentScan(a argv) error {
	counts, nseg, nt, offsets, segFG := a.ints(0), a.int(1), a.int(2), a.ints(3), a.ints(4)
	for s := range nseg {
		carry := int32(0)
		for t := range nt {
			offsets[s*nt+t] = carry
			carry += counts[s*nt+t]
		}
		segFG[s] = carry
	}
	return nil
}

// lovaszTileGrad mirrors lovasz_tile_grad(pairs, err, offsets, seg_fg,
// nseg, len, nt, c, hw, grad_scale, has_grad, grad, tile_loss): for
// position i of segment s (group g = s/c, class k = s%c) with foreground
// bit f_i, cf_i the foreground bits of positions 0..i (offsets[tile] plus
// those of the tile up to i), gts = seg_fg[s], u_i = gts + i + 1 − cf_i,
// the Jaccard gradient
//
//	g_i = 1/u_i                        if f_i or i == 0
//	g_i = (gts − cf_i)/(u_i (u_i − 1)) otherwise
//
// and e_i = err[s*len + q_i] (q_i the pair's pixel), over the kept
// positions (key ≠ 0xffffffff):
//
//	tile_loss[s*nt + t] = Σ_{i in tile t} (e_i < 0 ? 0 : e_i g_i)
//	grad[a_i] = grad_scale·(e_i > 0 ? (f_i ? −g_i : g_i) : 0)
//
// and grad[a_i] = 0 for an ignored position, with a_i = ((P/hw)·c + k)·hw
// + P%hw, P = g·len + q_i. float32 computes g_i in float32, as the kernel.
func lovaszTileGrad[T Float](a argv) error {
	pairs, err, offsets, segFG := lvPairs(a.ints(0)), fbuf[T](a, 1), a.ints(2), a.ints(3)
	nseg, ln, nt, c, hw := a.int(4), a.int(5), a.int(6), a.int(7), a.int(8)
	gs, hasGrad, grad, tileLoss := a.real(9), a.int(10) != 0, fbuf[T](a, 11), fbuf[T](a, 12)
	const TL = kernelspec.LovaszTile
	var z T
	_, is32 := any(z).(float32)
	parallelFor(nseg*nt, 4, func(lo, hi int) {
		for tl := lo; tl < hi; tl++ {
			s, t0 := tl/nt, (tl%nt)*TL
			so, grp, k := s*ln, s/c, s%c
			cf, gts := int64(offsets[tl]), int64(segFG[s])
			var acc float64
			for p := t0; p < min(t0+TL, ln); p++ {
				v := pairs[so+p]
				f := v&1 != 0
				q := int(uint32(v) >> 1)
				if f {
					cf++
				}
				d := 0.0
				if uint32(v>>32) != lvSent {
					e := float64(err[so+q])
					ui := gts + int64(p) + 1 - cf
					var gi float64
					switch {
					case is32 && (f || p == 0):
						gi = float64(1 / float32(ui))
					case is32:
						u := float32(ui)
						gi = float64(float32(gts-cf) / (u * float32(ui-1)))
					case f || p == 0:
						gi = 1 / float64(ui)
					default:
						gi = float64(gts-cf) / (float64(ui) * float64(ui-1))
					}
					if !(e < 0) {
						acc += e * gi
					}
					if e > 0 {
						d = gi
						if f {
							d = -gi
						}
					}
				}
				if hasGrad {
					P := grp*ln + q
					nn := P / hw
					grad[(nn*c+k)*hw+P-nn*hw] = T(gs * d)
				}
			}
			tileLoss[tl] = T(acc)
		}
	})
	return nil
}

// lovaszFinalize mirrors lovasz_finalize(tile_loss, seg_fg, groups, c, nt,
// all_classes, loss, seg_weight): with l_s = Σ_t tile_loss[s*nt + t] for
// segment s = g*c + k, counted when all_classes or seg_fg[s] > 0, and m_g
// the classes counted in group g:
//
//	loss[0] = (1/groups) Σ_g (m_g > 0 ? Σ_counted l_s / m_g : 0)   (0 for no group)
//	seg_weight[s] = counted ? 1/(m_g·groups) : 0
func lovaszFinalize[T Float](a argv) error {
	tileLoss, segFG := fbuf[T](a, 0), a.ints(1)
	groups, c, nt, all := a.int(2), a.int(3), a.int(4), a.int(5) != 0
	loss, w := fbuf[T](a, 6), fbuf[T](a, 7)
	var tot float64
	for g := range groups {
		var sum float64
		m := 0
		for k := range c {
			s := g*c + k
			if all || segFG[s] > 0 {
				var l float64
				for _, v := range tileLoss[s*nt : (s+1)*nt] {
					l += float64(v)
				}
				sum += l
				m++
			}
		}
		wg := 0.0
		if m > 0 {
			wg = 1 / (float64(m) * float64(groups))
			tot += sum / float64(m)
		}
		for k := range c {
			s := g*c + k
			if all || segFG[s] > 0 {
				w[s] = T(wg)
			} else {
				w[s] = 0
			}
		}
	}
	if groups > 0 {
		tot /= float64(groups)
	}
	loss[0] = T(tot)
	return nil
}

// lovaszSoftmaxGrad mirrors lovasz_softmax_grad(x, n, c, hw, per_image,
// from_logits, seg_weight, grad): for pixel P = nn*hw + h, with
// gp_k = grad[nn, k, h]·seg_weight[g*c + k] (g = per_image ? nn : 0), in
// place: grad[nn, k, h] = p_k (gp_k − Σ_j p_j gp_j) with p the softmax of
// x[nn, :, h] (from_logits), else gp_k; for the class km of the first
// largest logit, gp_km (Σ_{j≠km} p_j) − Σ_{j≠km} p_j gp_j (no cancellation
// where p_km is near 1).
func lovaszSoftmaxGrad[T Float](a argv) error {
	x := fbuf[T](a, 0)
	n, c, hw, perImage, fromLogits := a.int(1), a.int(2), a.int(3), a.int(4) != 0, a.int(5) != 0
	w, grad := fbuf[T](a, 6), fbuf[T](a, 7)
	parallelFor(n*hw, 4096/max(c, 1)+1, func(lo, hi int) {
		p := make([]float64, c)
		for P := lo; P < hi; P++ {
			nn, h := P/hw, P%hw
			base := nn*c*hw + h
			wo := 0
			if perImage {
				wo = nn * c
			}
			if !fromLogits {
				for k := range c {
					grad[base+k*hw] *= w[wo+k]
				}
				continue
			}
			softmaxColumn(p, x, base, hw, true)
			km := 0 // the first largest logit's class
			for k := range c {
				if x[base+k*hw] > x[base+km*hw] {
					km = k
				}
			}
			var so, dot float64 // over the classes but km: Σ p_k, Σ p_k gp_k
			for k := range c {
				if k != km {
					so += p[k]
					dot += p[k] * float64(grad[base+k*hw]*w[wo+k])
				}
			}
			pm, gpm := p[km], float64(grad[base+km*hw]*w[wo+km])
			for k := range c {
				o := base + k*hw
				gp := float64(grad[o] * w[wo+k])
				d := gp - (dot + pm*gpm)
				if k == km {
					d = gp*so - dot
				}
				grad[o] = T(p[k] * d)
			}
		}
	})
	return nil
}
