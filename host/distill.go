package host

import (
	"math"
	"unsafe"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("jsd_count_valid", jsdCountValid[float32], jsdCountValid[float64])
	register("jsd_rows", jsdRows[float32], jsdRows[float64])
	register("seq_log_probs_scale", seqLogProbsScale[float32], seqLogProbsScale[float64])
	register("seq_log_probs_rows", seqLogProbsRows[float32], seqLogProbsRows[float64])
	register("seq_log_probs_sum", seqLogProbsSum[float32], seqLogProbsSum[float64])
	register("dpo_loss_elems", dpoLossElems[float32], dpoLossElems[float64])
}

// The distill family (kernels/src/distill.h). The row mirrors compute
// each row in float64 from the stored (float32: rounded) values and add in
// index order, where the kernels compute in float32, add each thread's
// columns and then the threads in a fixed tree.

// jsdCountValid mirrors jsd_count_valid(labels, n, ignore_index, out):
// out[0] = the number of i < n with labels[i] != ignore_index.
func jsdCountValid[T Float](a argv) error {
	labels, n, ign, out := a.ints(0), a.int(1), int32(a.int(2)), fbuf[T](a, 3)
	c := 0
	for _, l := range labels[:n] {
		if l != ign {
			c++
		}
	}
	out[0] = T(c)
	return nil
}

// dstLog is log in the precision a mirror of T needs: logFast (1e-14
// absolute) for float32 rows, math.Log for float64 rows.
func dstLog[T Float](v float64) float64 {
	var z T
	if unsafe.Sizeof(z) == 4 {
		return logFast(v)
	}
	return math.Log(v)
}

// jsdRows mirrors jsd_rows(x, y, labels, n, c, inv_tau, beta,
// ignore_index, grad_scale, denom, flags, grad_input, grad_target,
// loss_rows): Liger-Kernel's generalised Jensen-Shannon divergence per
// row, between the student Q = softmax(x[i,:]·inv_tau) and the teacher
// P = softmax(y[i,:]·inv_tau). With a_k = x[i,k]·inv_tau and b_k =
// y[i,k]·inv_tau (rounded to T), X_k = (a_k − max a) − log Σ_j exp(a_j −
// max a) = log Q_k, Y_k = log P_k likewise,
//
//	log M_k = X_k (β = 0), Y_k (β = 1), else log(β P_k + (1−β) Q_k):
//	          log M where M > 1e-30, else log_add_exp(log β + Y_k, log(1−β) + X_k)
//	A = Σ_k P_k (Y_k − log M_k),  B = Σ_k Q_k (X_k − log M_k)   (0·anything = 0)
//	loss_rows[i] = A (β = 0: KL(P‖Q)), B (β = 1: KL(Q‖P)), β A + (1−β) B (else)
//	grad_input[i,k]  = g (Q_k − P_k)                          β = 0
//	                   g Q_k ((X_k − Y_k) − B)                β = 1
//	                   g (1−β) Q_k ((X_k − log M_k) − B)       else
//	grad_target[i,k] = g P_k ((Y_k − X_k) − A)                β = 0
//	                   g (P_k − Q_k)                          β = 1
//	                   g β P_k ((Y_k − log M_k) − A)           else
//
// with g = grad_scale / denom[0] with DstJSDDenom, else grad_scale (the
// caller folds inv_tau and the reduction's factor into it). A row whose
// label is ignore_index (with DstJSDLabels) has loss 0 and zero gradients.
// log M is a log of a sum of two non-negative terms (no cancellation); the
// log-add-exp form keeps it finite where both probabilities underflow
// (saturated logits). grad_input may be x and grad_target may be y.
func jsdRows[T Float](a argv) error {
	x, y, labels, n, c := fbuf[T](a, 0), fbuf[T](a, 1), a.ints(2), a.int(3), a.int(4)
	inv, beta, ign, gs := T(a.real(5)), a.real(6), int32(a.int(7)), a.real(8)
	denom, flags, gi, gt, loss := fbuf[T](a, 9), int32(a.int(10)), fbuf[T](a, 11), fbuf[T](a, 12), fbuf[T](a, 13)
	g := gs
	if flags&kernelspec.DstJSDDenom != 0 {
		g = float64(T(gs) / denom[0]) // as the kernel, in T
	}
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		bx, by, eq, ep := make([]T, c), make([]T, c), make([]T, c), make([]T, c)
		for i := lo; i < hi; i++ {
			keep := flags&kernelspec.DstJSDLabels == 0 || labels[i] != ign
			var ri, rt []T
			if flags&kernelspec.DstJSDGradInput != 0 {
				ri = gi[i*c : (i+1)*c]
			}
			if flags&kernelspec.DstJSDGradTarget != 0 {
				rt = gt[i*c : (i+1)*c]
			}
			if !keep {
				clear(ri)
				clear(rt)
				loss[i] = 0
				continue
			}
			xr, yr := scaled(bx, x[i*c:(i+1)*c], inv), scaled(by, y[i*c:(i+1)*c], inv)
			loss[i] = T(jsdRow(xr, yr, eq, ep, ri, rt, beta, g))
		}
	})
	return nil
}

// jsdRow is one row of jsdRows over the scaled logits xr and yr (eq and
// ep are scratch of the row's length; ri and rt the gradient rows or
// nil): it returns the row's loss and writes the gradients. Pass 2 keeps
// Q_k and P_k in eq and ep and X_k − log M_k and Y_k − log M_k (β = 0:
// Y_k − X_k; β = 1: X_k − Y_k) in the gradient rows, which pass 3 turns
// into the gradients once A and B are known.
func jsdRow[T Float](xr, yr, eq, ep, ri, rt []T, beta, g float64) float64 {
	n := len(xr)
	yr, eq, ep = yr[:n], eq[:n], ep[:n]
	mx, my := rowMax(xr), rowMax(yr)
	sx, sy := expShiftSum(eq, xr, mx), expShiftSum(ep, yr, my)
	lsx, lsy, rx, ry := math.Log(sx), math.Log(sy), 1/sx, 1/sy
	fmx, fmy := float64(mx), float64(my)
	fwd, rev := beta == 0, beta == 1
	lb, l1b := math.Log(beta), math.Log(1-beta)
	var A, B float64
	for k := range n {
		X := (float64(xr[k]) - fmx) - lsx
		Y := (float64(yr[k]) - fmy) - lsy
		Q, P := float64(eq[k])*rx, float64(ep[k])*ry
		if X < -80 { // where float32's exp of the shifted logit may have underflowed
			Q = math.Exp(X)
		}
		if Y < -80 {
			P = math.Exp(Y)
		}
		var lm float64
		switch {
		case fwd:
			lm = X
		case rev:
			lm = Y
		default:
			if M := beta*P + (1-beta)*Q; M > 1e-30 {
				lm = dstLog[T](M)
			} else {
				lm = LogAddExp(lb+Y, l1b+X)
			}
		}
		if P != 0 {
			A += P * (Y - lm)
		}
		if Q != 0 {
			B += Q * (X - lm)
		}
		eq[k], ep[k] = T(Q), T(P)
		switch {
		case fwd:
			if rt != nil {
				rt[k] = T(Y - X)
			}
		case rev:
			if ri != nil {
				ri[k] = T(X - Y)
			}
		default:
			if ri != nil {
				ri[k] = T(X - lm)
			}
			if rt != nil {
				rt[k] = T(Y - lm)
			}
		}
	}
	switch {
	case fwd:
		if ri != nil {
			ri = ri[:n]
			for k := range ri {
				ri[k] = T(g * (float64(eq[k]) - float64(ep[k])))
			}
		}
		if rt != nil {
			rt = rt[:n]
			for k := range rt {
				rt[k] = T(g * (float64(ep[k]) * (float64(rt[k]) - A)))
			}
		}
		return A
	case rev:
		if ri != nil {
			ri = ri[:n]
			for k := range ri {
				ri[k] = T(g * (float64(eq[k]) * (float64(ri[k]) - B)))
			}
		}
		if rt != nil {
			rt = rt[:n]
			for k := range rt {
				rt[k] = T(g * (float64(ep[k]) - float64(eq[k])))
			}
		}
		return B
	}
	if ri != nil {
		ri = ri[:n]
		gq := g * (1 - beta)
		for k := range ri {
			ri[k] = T(gq * (float64(eq[k]) * (float64(ri[k]) - B)))
		}
	}
	if rt != nil {
		rt = rt[:n]
		gp := g * beta
		for k := range rt {
			rt[k] = T(gp * (float64(ep[k]) * (float64(rt[k]) - A)))
		}
	}
	return beta*A + (1-beta)*B
}

// dstKeep says whether token r counts: target[r] != ignore_index and, with
// a mask, mask[r] != 0.
func dstKeep(target, mask []int32, r int, hasMask bool, ign int32) bool {
	return target[r] != ign && (!hasMask || mask[r] != 0)
}

// seqLogProbsScale mirrors seq_log_probs_scale(target, mask, b, t,
// has_mask, ignore_index, average, has_grad_output, grad_output, scale,
// count): for each sequence s < b, with cnt the number of its t tokens
// that count (target != ignore_index and, with has_mask, mask != 0) and
// g = grad_output[s] (1 without has_grad_output):
//
//	count[s] = cnt,  scale[s] = average ? g / cnt : g   (in T)
func seqLogProbsScale[T Float](a argv) error {
	target, mask, b, t := a.ints(0), a.ints(1), a.int(2), a.int(3)
	hasMask, ign, avg, hasGO := a.int(4) != 0, int32(a.int(5)), a.int(6) != 0, a.int(7) != 0
	gout, scale, count := fbuf[T](a, 8), fbuf[T](a, 9), fbuf[T](a, 10)
	for s := range b {
		cnt := 0
		for j := range t {
			if dstKeep(target, mask, s*t+j, hasMask, ign) {
				cnt++
			}
		}
		g := T(1)
		if hasGO {
			g = gout[s]
		}
		count[s] = T(cnt)
		if avg {
			scale[s] = g / T(cnt)
		} else {
			scale[s] = g
		}
	}
	return nil
}

// seqLogProbsRows mirrors seq_log_probs_rows(x, target, mask, b, t, v,
// has_mask, ignore_index, scale, has_grad, grad, tok): for each token row
// r < b·t of x [b·t, v], sequence s = r / t, with m = max_k x[r,k],
// S = Σ_k exp(x[r,k] − m), y = target[r], lp = (x[r,y] − m) − log S:
//
//	tok[r]    = lp if the token counts, else 0
//	grad[r,k] = scale[s] (onehot_k − exp(x[r,k] − m)/S) if it counts, else 0   (has_grad)
//
// with 1 − p_y formed as −expm1(lp). grad may be x.
func seqLogProbsRows[T Float](a argv) error {
	x, target, mask, b, t, v := fbuf[T](a, 0), a.ints(1), a.ints(2), a.int(3), a.int(4), a.int(5)
	hasMask, ign, scale, hasGrad, grad, tok := a.int(6) != 0, int32(a.int(7)), fbuf[T](a, 8), a.int(9) != 0, fbuf[T](a, 10), fbuf[T](a, 11)
	parallelFor(b*t, rowsGrain(v), func(lo, hi int) {
		var es []T
		if hasGrad {
			es = make([]T, v)
		}
		for r := lo; r < hi; r++ {
			row := x[r*v : (r+1)*v]
			var gr []T
			if hasGrad {
				gr = grad[r*v : (r+1)*v]
			}
			if !dstKeep(target, mask, r, hasMask, ign) {
				tok[r] = 0
				clear(gr)
				continue
			}
			m := rowMax(row)
			S := expShiftSum(es, row, m)
			y := int(target[r])
			lp := (float64(row[y]) - float64(m)) - math.Log(S)
			tok[r] = T(lp)
			if !hasGrad {
				continue
			}
			g := float64(scale[r/t])
			rs := 1 / S
			for k := range gr {
				e := float64(es[k])
				if float64(row[k])-float64(m) < -80 { // float32's exp may have stopped at its floor
					e = math.Exp(float64(row[k]) - float64(m))
				}
				gr[k] = T(-g * (e * rs))
			}
			gr[y] = T(g * -math.Expm1(lp))
		}
	})
	return nil
}

// seqLogProbsSum mirrors seq_log_probs_sum(tok, b, t, average, count,
// out): out[s] = Σ_{j<t} tok[s·t + j], divided by count[s] with average
// (0/0 = NaN).
func seqLogProbsSum[T Float](a argv) error {
	tok, b, t, avg, count, out := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3) != 0, fbuf[T](a, 4), fbuf[T](a, 5)
	for s := range b {
		var acc float64
		for _, v := range tok[s*t : (s+1)*t] {
			acc += float64(v)
		}
		if avg {
			acc /= float64(count[s])
		}
		out[s] = T(acc)
	}
	return nil
}

// dstDPO is the DPO loss of one pair of loss type op for the margin h =
// (π_c − π_r) − (ref_c − ref_r), as TRL's DPOTrainer defines it, and its
// derivative w.r.t. h:
//
//	sigmoid: (1−ε) softplus(−β h) + ε softplus(β h)     (= −(1−ε) log σ(β h) − ε log σ(−β h))
//	hinge:   max(0, 1 − β h)                              (d/dh: −β where 1 − β h > 0, else 0)
//	ipo:     (h − 1/(2β))²
func dstDPO(op int32, h, beta, ls float64) (l, dh float64) {
	switch op {
	case kernelspec.DstDPOHinge:
		u := 1 - beta*h
		if u > 0 {
			return u, -beta
		}
		if u != u {
			return u, u
		}
		return 0, 0
	case kernelspec.DstDPOIPO:
		d := h - 1/(2*beta)
		return d * d, 2 * d
	}
	// One exponential for both softplus and both sigmoids: with
	// e = exp(−|z|), softplus(±z) = max(±z, 0) + log1p(e) and
	// σ(z) = 1/(1+e) for z ≥ 0, e/(1+e) below (σ(−z) the other one).
	z := beta * h
	e := math.Exp(-math.Abs(z))
	l1 := math.Log1p(e)
	sp, sn := math.Max(z, 0)+l1, math.Max(-z, 0)+l1 // softplus(z), softplus(−z)
	hi, lo := 1/(1+e), e/(1+e)
	sz, snz := hi, lo // σ(z), σ(−z)
	if !(z >= 0) {
		sz, snz = lo, hi
	}
	if z != z {
		sz, snz = z, z
	}
	return (1-ls)*sn + ls*sp, beta * (ls*sz - (1-ls)*snz)
}

// dpoLossElems mirrors dpo_loss_elems(op, pc, pr, rc, rr, n, beta,
// label_smoothing, grad_scale, flags, grad_chosen, grad_rejected,
// chosen_rewards, rejected_rewards, out): for each pair i < n, with
// h = (pc[i] − pr[i]) − (rc[i] − rr[i]) and (l, dh) = dstDPO(op, h, beta,
// label_smoothing) in float64:
//
//	grad_chosen[i]      = grad_scale·dh          if DstDPOGradChosen
//	grad_rejected[i]    = −grad_scale·dh         if DstDPOGradRejected
//	chosen_rewards[i]   = beta (pc[i] − rc[i])   if DstDPORewards
//	rejected_rewards[i] = beta (pr[i] − rr[i])   if DstDPORewards
//	out[i]              = l                      unless DstDPOReduce
//	out[b]              = Σ l over block b's pairs (as box_iou_loss's) with DstDPOReduce
func dpoLossElems[T Float](a argv) error {
	op, pc, pr, rc, rr, n := int32(a.int(0)), fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3), fbuf[T](a, 4), a.int(5)
	beta, ls, gs, flags := a.real(6), a.real(7), a.real(8), int32(a.int(9))
	gc, gr, cr, rjr, out := fbuf[T](a, 10), fbuf[T](a, 11), fbuf[T](a, 12), fbuf[T](a, 13), fbuf[T](a, 14)
	blocks := a.grid.Blocks
	parallelFor(blocks, 1, func(blo, bhi int) {
		dpoBlocks(op, pc, pr, rc, rr, gc, gr, cr, rjr, out, n, blo, bhi, blocks, beta, ls, gs, flags)
	})
	return nil
}

// dpoBlocks is blocks [blo, bhi) of dpoLossElems (B blocks in all).
func dpoBlocks[T Float](op int32, pc, pr, rc, rr, gc, gr, cr, rjr, out []T, n, blo, bhi, blocks int, beta, ls, gs float64, flags int32) {
	const bs = kernelspec.BlockSize
	reduce := flags&kernelspec.DstDPOReduce != 0
	for b := blo; b < bhi; b++ {
		acc := 0.0
		for start := b * bs; start < n; start += blocks * bs {
			for i := start; i < min(start+bs, n); i++ {
				va, vb, ca, cb := float64(pc[i]), float64(pr[i]), float64(rc[i]), float64(rr[i])
				l, dh := dstDPO(op, (va-vb)-(ca-cb), beta, ls)
				if flags&kernelspec.DstDPOGradChosen != 0 {
					gc[i] = T(gs * dh)
				}
				if flags&kernelspec.DstDPOGradRejected != 0 {
					gr[i] = T(-gs * dh)
				}
				if flags&kernelspec.DstDPORewards != 0 {
					cr[i] = T(beta * (va - ca))
					rjr[i] = T(beta * (vb - cb))
				}
				if reduce {
					acc += l
				} else {
					out[i] = T(l)
				}
			}
		}
		if reduce {
			out[b] = T(acc)
		}
	}
}
