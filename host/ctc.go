package host

import (
	"math"

	"github.com/lossengine/lossengine/kernels"
)

func init() {
	register("ctc_alpha", ctcAlpha[float32], ctcAlpha[float64])
	register("ctc_beta_grad", ctcBetaGrad[float32], ctcBetaGrad[float64])
}

// The CTC family: the forward-backward dynamic program of connectionist
// temporal classification, one sequence per block (per work item here).
//
// # Notation
//
// The input x is float, element (t, n, c) at index t·stride_t + n·stride_n + c
// (time-major [T, N, C]: stride_t = N·C, stride_n = C; batch-major
// [N, T, C]: stride_t = C, stride_n = T·C); rows of C are contiguous in both
// layouts.
//
//	lp(t, n, c) = x[t·stride_t + n·stride_n + c] − (has_lse ? lse[(t·stride_t + n·stride_n)/C] : 0)
//
// With has_lse, x holds raw logits and lse each row's log-sum-exp (from
// logsumexp_rows over the [T·N, C] matrix in memory order, inv_tau 1);
// without, x holds log-probabilities (lse is not read).
//
// Sequence n has Tn = input_lengths[n] (0 <= Tn <= T) frames and
// Ln = target_lengths[n] labels l_j = targets[target_offsets[n] + j],
// j < Ln, each in [0, C) and != blank (checked by package losses). Its
// extended labels are l'_s for s < Sn = 2·Ln + 1: blank for even s,
// l_{(s−1)/2} for odd s. s_max >= max_n Sn is the row stride of alpha.
// target_next[target_offsets[n] + j] is the smallest k > j with l_k = l_j,
// or −1 (computed by package losses; the device kernels use it to add each
// label's occurrences in a fixed order, the mirror does not need it).
//
// alpha is a float workspace [N, T, s_max], cell (n, t, s) at
// ((n·T) + t)·s_max + s; class_ws [N, C] and state_ws [N, s_max] are float
// workspaces of the device kernels (the mirror leaves them untouched);
// loglik, loss_rows and loglik_beta are [N]. Everything is in log space
// (log 0 = −Inf). LSE(...) below is log Σ exp(...) over the listed terms;
// a term whose state index is out of range is −Inf.

// ctcAlpha mirrors ctc_alpha(x, lse, T, N, C, stride_t, stride_n, has_lse,
// targets, target_offsets, target_lengths, input_lengths, blank, s_max,
// alpha, loglik): the forward variables of every sequence n,
//
//	a(0, s) = lp(0, l'_s)                          for s in {0, 1}, s < Sn; −Inf for other s
//	a(t, s) = lp(t, l'_s) + LSE( a(t−1, s), a(t−1, s−1), a(t−1, s−2) if s is odd, s >= 3 and l'_s != l'_{s−2} )
//	                                               for 1 <= t < Tn
//	loglik[n] = LSE( a(Tn−1, Sn−1), a(Tn−1, Sn−2) if Sn >= 2 )
//	loglik[n] = 0 if Ln == 0, else −Inf           when Tn == 0
//
// a(t, s) is written to alpha cell (n, t, s) for t < Tn and s < Sn; other
// cells are untouched. loglik[n] = log P(target | input) is −Inf when no
// alignment exists (Ln + repeats > Tn). (The kernels separate time steps by
// a block barrier; the mirror runs sequences in parallel across cores.)
//
// Arithmetic. The float64 mirror computes each cell with math.Exp and
// math.Log (lse2, lse3). The float32 mirror keeps the rows of the
// recursion in float64 and rounds each value to float32 only when it
// stores it in alpha, so float32 rounding does not accumulate over the
// time steps (float32 kernels that recurse on their stored values lose
// about 2^-24·|log alpha| per step); it computes a time step in blocks of
// states with one exp per value and one log per cell (ctcfast.go), exact
// to about 1e-11 per step. A sequence whose lengths, offset or labels are
// out of range (unreachable through package losses) gets loglik NaN and
// no alpha.
func ctcAlpha[T Float](a argv) error {
	j := ctcJobs[T]().get()
	j.load(a, false)
	runPar(&j.p, j, j.nn)
	j.release()
	return nil
}

// ctcBetaGrad mirrors ctc_beta_grad(x, lse, T, N, C, stride_t, stride_n,
// has_lse, targets, target_offsets, target_lengths, input_lengths,
// target_next, blank, s_max, alpha, loglik, reduction, zero_infinity,
// grad_mode, has_grad, grad, class_ws, state_ws, loss_rows, loglik_beta).
// It reads alpha (as left by ctc_alpha) and loglik, and overwrites alpha
// with the backward variables
//
//	b(Tn−1, s) = lp(Tn−1, l'_s)                    for s in {Sn−1, Sn−2}, s >= 0; −Inf for other s
//	b(t, s)    = lp(t, l'_s) + LSE( b(t+1, s), b(t+1, s+1), b(t+1, s+2) if s is odd, s+2 < Sn and l'_{s+2} != l'_s )
//	                                               for t < Tn−1
//	loglik_beta[n] = LSE( b(0, 0), b(0, 1) if Sn >= 2 )   (Tn == 0: 0 if Ln == 0, else −Inf)
//
// (b includes lp(t, l'_s), like a, so a(t,s) + b(t,s) − lp(t, l'_s) is the
// log of the total probability of the alignments through (t, s);
// loglik_beta equals loglik up to rounding.) With nll = −loglik[n] and
// impossible = (nll == +Inf):
//
//	loss_rows[n] = 0                                  if impossible and zero_infinity
//	loss_rows[n] = nll / (reduction == mean ? max(Ln, 1) : 1)   otherwise
//
// Gradient, only if has_grad: written for every t < T and every c of
// sequence n, in the layout of x. With scale = 1/(N·max(Ln, 1)) for
// reduction mean, else 1:
//
//	grad(t, n, c) = 0                                 if t >= Tn, or impossible (zero_infinity or not)
//
// otherwise, with lcab(t, c) = LSE over the s < Sn with l'_s = c of
// a(t, s) + b(t, s) (−Inf if there is none),
//
//	occ(t, c) = exp(lcab(t, c) − lp(t, c) + nll)      (posterior occupation of class c at t; Σ_c occ = 1)
//	grad_mode == CTCGradExact:   grad(t, n, c) = scale · (−occ(t, c))
//	grad_mode == CTCGradSoftmax: grad(t, n, c) = scale · (exp(lp(t, c)) − occ(t, c))
//
// CTCGradExact is scale times the exact partial derivative of the
// sequence's loss w.r.t. each lp(t, n, c) taken as an independent
// variable: the loss is −log Σ_alignments Π_t exp(lp(t, π_t)), and its
// derivative w.r.t. lp(t, c) is minus the posterior probability that an
// alignment emits c at t.
// CTCGradSoftmax is that gradient pushed through lp = x − logsumexp(x): the
// exact gradient w.r.t. the logits when has_lse, and PyTorch's convention
// for log-probability input (exact only if the rows of exp(lp) sum to 1).
//
// Taken literally, as here: where lp(t, c) = −Inf (or NaN) at some t < Tn
// of a possible sequence, lcab − lp is NaN and so is grad(t, n, c); a NaN
// loglik (NaN input) makes every grad(t, n, c) with t < Tn NaN.
//
// The mirror computes occ(t, c) as Σ_{s: l'_s = c} γ(t, s) with
// γ(t, s) = exp(a(t,s) + b(t,s) − lp(t, l'_s) + nll), the same quantity as
// exp(lcab − lp + nll) up to rounding, and divides the γ(t, ·) of each
// frame by their sum, which is exactly 1 in the formulas: the float32
// rounding of the stored alpha values and of loglik then cannot scale a
// whole frame's gradient. The float32 mirror takes γ as 0 below e^−60 (an
// absolute error under 1e-26) and computes as ctcAlpha (float64 rows,
// float32 stores). The kernels reduce lcab in log space in a fixed order,
// using target_next, class_ws and state_ws; the mirror leaves those
// workspaces alone.
func ctcBetaGrad[T Float](a argv) error {
	j := ctcJobs[T]().get()
	j.load(a, true)
	runPar(&j.p, j, j.nn)
	j.release()
	return nil
}

// ctcJob holds one launch's arguments; item(n) runs sequence n.
type ctcJob[T Float] struct {
	p par
	ctcArgs[T]
}

// ctcArgs are the arguments of one launch.
type ctcArgs[T Float] struct {
	beta     bool
	fast     bool // float32: fast float64 exp/log (see fastlog.go)
	x, lse   []T
	tt, nn   int
	cc       int
	strideT  int
	strideN  int
	hasLSE   bool
	targets  []int32
	offsets  []int32
	tlens    []int32
	ilens    []int32
	blank    int
	sMax     int
	alpha    []T
	loglik   []T
	rowT     int // stride_t / C and stride_n / C: the lse row of (t, n) is t·rowT + n·rowN
	rowN     int
	red      int32
	zeroInf  bool
	gradMode int32
	hasGrad  bool
	grad     []T
	lossRows []T
	llBeta   []T
}

var (
	ctcJobs32 jobPool[ctcJob[float32]]
	ctcJobs64 jobPool[ctcJob[float64]]
)

func ctcJobs[T Float]() *jobPool[ctcJob[T]] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&ctcJobs32).(*jobPool[ctcJob[T]])
	}
	return any(&ctcJobs64).(*jobPool[ctcJob[T]])
}

func (j *ctcJob[T]) load(a argv, beta bool) {
	var z T
	_, j.fast = any(z).(float32)
	j.beta = beta
	j.x, j.lse = fbuf[T](a, 0), fbuf[T](a, 1)
	j.tt, j.nn, j.cc, j.strideT, j.strideN = a.int(2), a.int(3), a.int(4), a.int(5), a.int(6)
	j.hasLSE = a.int(7) != 0
	j.rowT, j.rowN = -1, -1
	if j.cc > 0 && j.strideT%j.cc == 0 && j.strideN%j.cc == 0 {
		j.rowT, j.rowN = j.strideT/j.cc, j.strideN/j.cc
	}
	j.targets, j.offsets, j.tlens, j.ilens = a.ints(8), a.ints(9), a.ints(10), a.ints(11)
	k := 12
	if beta {
		k++ // target_next: not needed by the mirror
	}
	j.blank, j.sMax, j.alpha, j.loglik = a.int(k), a.int(k+1), fbuf[T](a, k+2), fbuf[T](a, k+3)
	if beta {
		j.red, j.zeroInf, j.gradMode, j.hasGrad = int32(a.int(17)), a.int(18) != 0, int32(a.int(19)), a.int(20) != 0
		j.grad, j.lossRows, j.llBeta = fbuf[T](a, 21), fbuf[T](a, 24), fbuf[T](a, 25)
	}
}

func (j *ctcJob[T]) release() {
	j.ctcArgs = ctcArgs[T]{} // drop the references to the buffers
	ctcJobs[T]().put(j)
}

func (j *ctcJob[T]) item(n int) {
	switch {
	case j.beta && j.fast:
		j.betaSeqFast(n)
	case j.beta:
		j.betaSeq(n)
	case j.fast:
		j.alphaSeqFast(n)
	default:
		j.alphaSeq(n)
	}
}

var negInf = math.Inf(-1)

// seq returns sequence n's lengths and labels, ok false if any is out of
// range.
func (j *ctcJob[T]) seq(n int) (tn, ln int, lab []int32, ok bool) {
	tn, ln = int(j.ilens[n]), int(j.tlens[n])
	off := int(j.offsets[n])
	if tn < 0 || tn > j.tt || ln < 0 || 2*ln+1 > j.sMax || off < 0 || off+ln > len(j.targets) ||
		j.blank < 0 || j.blank >= j.cc {
		return 0, 0, nil, false
	}
	lab = j.targets[off : off+ln]
	for _, l := range lab {
		if l < 0 || int(l) >= j.cc {
			return 0, 0, nil, false
		}
	}
	return tn, ln, lab, true
}

// row returns the x row of (t, n) and the log-sum-exp to subtract from it.
func (j *ctcJob[T]) row(t, n int) ([]T, float64) {
	o := t*j.strideT + n*j.strideN
	xr := j.x[o : o+j.cc : o+j.cc]
	if j.hasLSE {
		return xr, float64(j.lse[o/j.cc])
	}
	return xr, 0
}

// lse2 is log(exp(a) + exp(b)): −Inf if both are, NaN if either is.
func lse2(a, b float64, fast bool) float64 {
	m, d := a, b
	if b > a {
		m, d = b, a
	}
	if m == negInf {
		return m
	}
	if fast {
		return m + logFast(1+expFast(d-m))
	}
	return m + math.Log1p(math.Exp(d-m))
}

// lse3 is log(exp(a) + exp(b) + exp(c)).
func lse3(a, b, c float64, fast bool) float64 {
	m := a
	if b > m {
		m = b
	}
	if c > m {
		m = c
	}
	if m == negInf {
		return m
	}
	if fast {
		return m + logFast(expFast(a-m)+expFast(b-m)+expFast(c-m))
	}
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m)+math.Exp(c-m))
}

// f64Rows recycles the float64 rows the mirror keeps a sequence's time
// steps in (up to 7·(Sn+2) float64s per running sequence).
var f64Rows jobPool[[]float64]

func getRows(n int) *[]float64 {
	p := f64Rows.get()
	if cap(*p) < n {
		*p = make([]float64, n)
	}
	*p = (*p)[:n]
	return p
}

func (j *ctcJob[T]) alphaSeq(n int) {
	tn, ln, lab, ok := j.seq(n)
	if !ok {
		j.loglik[n] = T(math.NaN())
		return
	}
	if tn == 0 {
		if ln == 0 {
			j.loglik[n] = 0
		} else {
			j.loglik[n] = T(negInf)
		}
		return
	}
	fast, blank := j.fast, j.blank
	S := 2*ln + 1
	rows := getRows(2 * S)
	defer f64Rows.put(rows)
	// The recursion runs on float64 rows; alpha gets each value rounded
	// once, so float32 rounding does not accumulate over time.
	prev, cur := (*rows)[:S:S], (*rows)[S:2*S:2*S]
	base := n * j.tt * j.sMax
	xr, sh := j.row(0, n)
	out := j.alpha[base : base+S : base+S]
	for s := range cur {
		cur[s] = negInf
	}
	cur[0] = float64(xr[blank]) - sh
	if S > 1 {
		cur[1] = float64(xr[lab[0]]) - sh
	}
	for s, v := range cur {
		out[s] = T(v)
	}
	for t := 1; t < tn; t++ {
		prev, cur = cur, prev
		o := base + t*j.sMax
		out = j.alpha[o : o+S : o+S]
		xr, sh = j.row(t, n)
		lpb := float64(xr[blank]) - sh
		hi := min(S-1, 2*t+1) // a(t, s) = −Inf beyond: not reachable yet
		pb := prev[0]         // a(t−1, 2k), the blank before label k
		pl2 := negInf         // a(t−1, 2k−1), the previous label
		cur[0] = lpb + pb
		out[0] = T(cur[0])
		for k := 0; 2*k+1 <= hi; k++ {
			s := 2*k + 1
			pl := prev[s]
			var v float64
			if k > 0 && lab[k] != lab[k-1] {
				v = lse3(pl, pb, pl2, fast)
			} else {
				v = lse2(pl, pb, fast)
			}
			v += float64(xr[lab[k]]) - sh
			cur[s] = v
			out[s] = T(v)
			if s+1 <= hi {
				pbn := prev[s+1]
				v = lpb + lse2(pbn, pl, fast)
				cur[s+1] = v
				out[s+1] = T(v)
				pb = pbn
			}
			pl2 = pl
		}
		for s := hi + 1; s < S; s++ {
			cur[s] = negInf
			out[s] = T(negInf)
		}
	}
	v := cur[S-1]
	if S >= 2 {
		v = lse2(v, cur[S-2], fast)
	}
	j.loglik[n] = T(v)
}

func (j *ctcJob[T]) betaSeq(n int) {
	TT := j.tt
	tn, ln, lab, ok := j.seq(n)
	if !ok {
		j.lossRows[n], j.llBeta[n] = T(math.NaN()), T(math.NaN())
		if j.hasGrad {
			for t := 0; t < TT; t++ {
				g := j.gradRow(t, n)
				for c := range g {
					g[c] = T(math.NaN())
				}
			}
		}
		return
	}
	nll := -float64(j.loglik[n])
	impossible := math.IsInf(nll, 1)
	mean := j.red == kernels.ReductionMean
	den := 1.0
	if mean {
		den = float64(max(ln, 1))
	}
	if impossible && j.zeroInf {
		j.lossRows[n] = 0
	} else {
		j.lossRows[n] = T(nll / den)
	}
	scale := 1.0
	if mean {
		scale = 1 / (float64(j.nn) * den)
	}
	gradOn := j.hasGrad && !impossible
	if j.hasGrad {
		from := tn
		if !gradOn {
			from = 0
		}
		for t := from; t < TT; t++ {
			clear(j.gradRow(t, n))
		}
		if gradOn && nll != nll {
			for t := 0; t < tn; t++ {
				g := j.gradRow(t, n)
				for c := range g {
					g[c] = T(math.NaN())
				}
			}
			gradOn = false
		}
	}
	if tn == 0 {
		if ln == 0 {
			j.llBeta[n] = 0
		} else {
			j.llBeta[n] = T(negInf)
		}
		return
	}
	fast, blank := j.fast, j.blank
	S := 2*ln + 1
	rows := getRows(3 * S)
	defer f64Rows.put(rows)
	// float64 rows: b(t+1, ·), b(t, ·), and the occupations of the states.
	next, cur, gam := (*rows)[:S:S], (*rows)[S:2*S:2*S], (*rows)[2*S:3*S:3*S]
	base := n * TT * j.sMax
	var g []T
	for t := tn - 1; t >= 0; t-- {
		next, cur = cur, next
		o := base + t*j.sMax
		out := j.alpha[o : o+S : o+S] // a(t, ·) on entry, b(t, ·) on exit
		xr, sh := j.row(t, n)
		lpb := float64(xr[blank]) - sh
		hiA := min(S-1, 2*t+1) // a(t, s) = −Inf for s > hiA
		lo := 0                // b(t, s) = −Inf for s < lo: the end is out of reach
		if t == tn-1 {
			lo = max(0, S-2)
			for s := lo; s < S; s++ {
				lp := lpb
				if s&1 == 1 {
					lp = float64(xr[lab[s>>1]]) - sh
				}
				if gradOn && s <= hiA {
					gam[s] = float64(out[s]) // a(t, s) + (b(t, s) − lp)
				}
				cur[s] = lp
			}
		} else {
			lo = max(0, S-2*(tn-t))
			nb1, nb2 := negInf, negInf // b(t+1, s+1), b(t+1, s+2)
			for s := S - 1; s >= lo; s-- {
				nb0 := next[s]
				var rest, lp float64
				if s&1 == 0 {
					rest = lse2(nb0, nb1, fast)
					lp = lpb
				} else {
					k := s >> 1
					if s+2 < S && lab[k+1] != lab[k] {
						rest = lse3(nb0, nb1, nb2, fast)
					} else {
						rest = lse2(nb0, nb1, fast)
					}
					lp = float64(xr[lab[k]]) - sh
				}
				if gradOn && s <= hiA {
					gam[s] = float64(out[s]) + rest
				}
				cur[s] = lp + rest
				nb2, nb1 = nb1, nb0
			}
		}
		for s := 0; s < lo; s++ {
			cur[s] = negInf
		}
		for s, v := range cur {
			out[s] = T(v)
		}
		if gradOn {
			g = j.gradRow(t, n)
			j.gradBase(g, xr, sh, scale)
			j.occupations(g, gam[lo:max(lo, hiA+1)], lo, lab, nll, scale)
		}
	}
	v := cur[0]
	if S >= 2 {
		v = lse2(v, cur[1], fast)
	}
	j.llBeta[n] = T(v)
}

// i32Rows recycles the per-sequence state→class tables of the fast mirror.
var i32Rows jobPool[[]int32]

func getI32(n int) *[]int32 {
	p := i32Rows.get()
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return p
}

// ctcStates fills cls[s] = l'_s and the skip flags of the forward
// (skipA[s]: s−2 → s allowed) and backward (skipB[s]: s+2 → s allowed)
// recursions.
func ctcStates(cls []int32, skipA, skipB []float64, lab []int32, blank int) {
	S := len(cls)
	for s := range S {
		cls[s], skipA[s], skipB[s] = int32(blank), 0, 0
		if s&1 == 1 {
			k := s >> 1
			cls[s] = lab[k]
			if k > 0 && lab[k] != lab[k-1] {
				skipA[s] = 1
			}
			if s+2 < S && lab[k+1] != lab[k] {
				skipB[s] = 1
			}
		}
	}
}

// ctcRowLP prepares the log-probabilities of the states s < n of row xr
// (lp = x − sh) for the steps, which read them as xf[tab[s]]: for a narrow
// row (C <= n) the whole row converted, with tab = cls; for a wide one the
// n values gathered, with tab = id (the identity). xf has room for
// max(C, n) values when C <= n, else n.
func ctcRowLP(xf []float64, cls, id []int32, xr []float32, sh float64, n int) []int32 {
	if len(xr) <= n {
		xf = xf[:len(xr)]
		for c, v := range xr {
			xf[c] = float64(v) - sh
		}
		return cls
	}
	cls = cls[:n]
	xf = xf[:n]
	for s, c := range cls {
		xf[s] = float64(xr[c]) - sh
	}
	return id
}

// alphaSeqFast is alphaSeq for the float32 mirror: the same recursion,
// a time step at a time through alphaStep (ctcfast.go).
func (j *ctcJob[T]) alphaSeqFast(n int) {
	tn, ln, lab, ok := j.seq(n)
	if !ok || tn == 0 {
		j.alphaSeq(n)
		return
	}
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	S := 2*ln + 1
	P := S + 2
	rows := getRows(6 * P)
	defer f64Rows.put(rows)
	ci := getI32(2 * S)
	defer i32Rows.put(ci)
	cls, id := (*ci)[:S:S], (*ci)[S:]
	r := *rows
	prev, cur := r[:P:P], r[P:2*P:2*P] // padded on the left: state s at s+2
	e, lp, skip, skipB := r[2*P:3*P:3*P], r[3*P:4*P:4*P], r[4*P:5*P:5*P], r[5*P:6*P:6*P]
	ctcStates(cls, skip, skipB, lab, j.blank)
	for s := range id {
		id[s] = int32(s)
	}
	prev[0], prev[1], cur[0], cur[1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	o, sh := j.rowOff(0, n)
	out := alpha[base : base+S : base+S]
	for s := range S {
		cur[s+2] = negInf
	}
	tab := ctcRowLP(lp, cls, id, x32[o:o+j.cc], sh, S)
	cur[2] = lp[tab[0]]
	if S > 1 {
		cur[3] = lp[tab[1]]
	}
	for s := range out {
		out[s] = float32(cur[s+2])
	}
	for t := 1; t < tn; t++ {
		prev, cur = cur, prev
		ob := base + t*j.sMax
		out = alpha[ob : ob+S : ob+S]
		o, sh = j.rowOff(t, n)
		hi := min(S-1, 2*t+1) // a(t, s) = −Inf beyond: not reachable yet
		tab := ctcRowLP(lp, cls, id, x32[o:o+j.cc], sh, hi+1)
		alphaStep(cur, prev, lp, tab, skip, out, hi, e)
		for s := hi + 1; s < S; s++ {
			cur[s+2] = negInf
			out[s] = float32(negInf)
		}
	}
	v := cur[S+1]
	if S >= 2 {
		v = lse2(v, cur[S], true)
	}
	j.loglik[n] = T(v)
}

// rowOff returns the offset of the x row of (t, n) and the log-sum-exp to
// subtract from it.
func (j *ctcJob[T]) rowOff(t, n int) (int, float64) {
	o := t*j.strideT + n*j.strideN
	if j.hasLSE {
		if j.rowT < 0 { // strides that are not multiples of C
			return o, float64(j.lse[o/j.cc])
		}
		return o, float64(j.lse[t*j.rowT+n*j.rowN])
	}
	return o, 0
}

// betaSeqFast is betaSeq for the float32 mirror: the backward recursion a
// time step at a time through betaStep (ctcfast.go), which also collects
// a(t,s) + b(t,s) − lp(t, l'_s) for the occupations.
func (j *ctcJob[T]) betaSeqFast(n int) {
	tn, ln, lab, ok := j.seq(n)
	if !ok || tn == 0 || !j.ctcLossRow(n, tn, ln) {
		j.betaSeq(n)
		return
	}
	x32, alpha := any(j.x).([]float32), any(j.alpha).([]float32)
	gradOn := j.hasGrad && !math.IsInf(-float64(j.loglik[n]), 1)
	nll := -float64(j.loglik[n])
	scale := 1.0
	if j.red == kernels.ReductionMean {
		scale = 1 / (float64(j.nn) * float64(max(ln, 1)))
	}
	S := 2*ln + 1
	P := S + 2
	rows := getRows(7 * P)
	defer f64Rows.put(rows)
	ci := getI32(2 * S)
	defer i32Rows.put(ci)
	cls, id := (*ci)[:S:S], (*ci)[S:]
	r := *rows
	next, cur := r[:P:P], r[P:2*P:2*P] // padded on the right: state s at s
	e, lp, skipA, skip, gam := r[2*P:3*P:3*P], r[3*P:4*P:4*P], r[4*P:5*P:5*P], r[5*P:6*P:6*P], r[6*P:7*P:7*P]
	ctcStates(cls, skipA, skip, lab, j.blank)
	for s := range id {
		id[s] = int32(s)
	}
	next[S], next[S+1], cur[S], cur[S+1] = negInf, negInf, negInf, negInf
	base := n * j.tt * j.sMax
	for t := tn - 1; t >= 0; t-- {
		next, cur = cur, next
		ob := base + t*j.sMax
		out := alpha[ob : ob+S : ob+S] // a(t, ·) on entry, b(t, ·) on exit
		o, sh := j.rowOff(t, n)
		xr := x32[o : o+j.cc]
		hiA := min(S-1, 2*t+1)   // a(t, s) = −Inf for s > hiA
		lo := max(0, S-2*(tn-t)) // b(t, s) = −Inf for s < lo
		var g []T
		if gradOn { // first: it streams the x row, which the gather then finds in cache
			g = j.gradRow(t, n)
			j.gradBase(g, any(xr).([]T), sh, scale)
		}
		tab := ctcRowLP(lp, cls, id, xr, sh, S)
		if t == tn-1 {
			for s := lo; s < S; s++ {
				if s <= hiA {
					gam[s] = float64(out[s]) // rest = 0
				}
				v := lp[tab[s]]
				cur[s] = v
				out[s] = float32(v)
			}
		} else {
			betaStep(cur, next, lp, tab, skip, out, gam, lo, hiA, e)
		}
		for s := 0; s < lo; s++ {
			cur[s] = negInf
			out[s] = float32(negInf)
		}
		if gradOn {
			j.occupations(g, gam[lo:max(lo, hiA+1)], lo, lab, nll, scale)
		}
	}
	v := cur[0] // b(0, 0)
	if S >= 2 {
		v = lse2(v, cur[1], true)
	}
	j.llBeta[n] = T(v)
}

// ctcLossRow writes loss_rows[n] and the gradient rows that do not depend
// on the recursion (t >= Tn, or all rows when the sequence is impossible),
// as betaSeq does, and reports whether betaSeqFast may go on (false: a
// NaN log-likelihood, left to betaSeq).
func (j *ctcJob[T]) ctcLossRow(n, tn, ln int) bool {
	nll := -float64(j.loglik[n])
	if nll != nll {
		return false
	}
	impossible := math.IsInf(nll, 1)
	den := 1.0
	if j.red == kernels.ReductionMean {
		den = float64(max(ln, 1))
	}
	if impossible && j.zeroInf {
		j.lossRows[n] = 0
	} else {
		j.lossRows[n] = T(nll / den)
	}
	if j.hasGrad {
		from := tn
		if impossible {
			from = 0
		}
		for t := from; t < j.tt; t++ {
			clear(j.gradRow(t, n))
		}
	}
	return true
}

// occupations subtracts scale·occ(t, c) from the gradient row g, given
// la[i] = a(t, s) + b(t, s) − lp(t, l'_s) for the states s = lo + i that
// can carry alignments at t. occ sums exp(la + nll) over the states of
// each class; the state terms are then divided by their sum, which is 1
// up to rounding: the float32 rounding of the stored alpha values and of
// loglik then cannot bias the gradient by a common factor. The float32
// mirror takes exp below −60 as 0 (these are probabilities of order 1 at
// most: an absolute error under 1e-26; on peaked posteriors it skips most
// states).
func (j *ctcJob[T]) occupations(g []T, la []float64, lo int, lab []int32, nll, scale float64) {
	var sum float64
	if j.fast {
		for i, v := range la {
			v += nll
			e := 0.0
			if v >= -60 { // below: γ < 1e-26, taken as 0 (see expRow)
				e = expSmall(min(v, 709))
			} else if v != v {
				e = v
			}
			la[i] = e
			sum += e
		}
	} else {
		for i, v := range la {
			e := math.Exp(v + nll)
			la[i] = e
			sum += e
		}
	}
	if sum > 0 && !math.IsInf(sum, 1) {
		scale /= sum
	}
	var occB float64
	for i, e := range la {
		s := lo + i
		if s&1 == 0 {
			occB += e
		} else {
			c := lab[s>>1]
			g[c] = T(float64(g[c]) - scale*e)
		}
	}
	g[j.blank] = T(float64(g[j.blank]) - scale*occB)
}

func (j *ctcJob[T]) gradRow(t, n int) []T {
	o := t*j.strideT + n*j.strideN
	return j.grad[o : o+j.cc : o+j.cc]
}

// gradBase writes the part of a gradient row that does not depend on the
// alignment: scale·exp(lp(t, c)) (CTCGradSoftmax) or 0 (CTCGradExact), and
// NaN where lp(t, c) is −Inf or NaN (see ctcBetaGrad). The occupations are
// subtracted afterwards.
func (j *ctcJob[T]) gradBase(g, xr []T, sh, scale float64) {
	if j.gradMode != kernels.CTCGradSoftmax {
		bad := false
		for _, v := range xr {
			if !(float64(v)-sh > negInf) {
				bad = true
				break
			}
		}
		clear(g)
		if bad {
			markBad(g, xr, sh)
		}
		return
	}
	if g32, ok := any(g).([]float32); ok {
		x32 := any(xr).([]float32)
		if softmaxRow32(g32, x32, float32(sh), float32(scale)) {
			markBad(g, xr, sh)
		}
		return
	}
	for c, v := range xr {
		lp := float64(v) - sh
		if lp > negInf {
			g[c] = T(scale * math.Exp(lp))
		} else {
			g[c] = T(math.NaN())
		}
	}
}

// markBad sets g[c] = NaN where lp = x[c] − sh is −Inf or NaN.
func markBad[T Float](g, xr []T, sh float64) {
	for c, v := range xr {
		if !(float64(v)-sh > negInf) {
			g[c] = T(math.NaN())
		}
	}
}

// softmaxRow32 writes g[c] = scale·exp(x[c] − sh) in float32, four
// branch-free exps at a time, and reports whether some x[c] − sh is −Inf
// or NaN (left for markBad). A positive argument (unnormalised
// log-probabilities) sends the row through expf, which handles any sign.
func softmaxRow32(g, x []float32, sh, scale float32) (bad bool) {
	g = g[:len(x)]
	pos := false
	const lim = -3.4e38
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d := g[i : i+4 : i+4]
		v0, v1, v2, v3 := v[0]-sh, v[1]-sh, v[2]-sh, v[3]-sh
		if v0 > 0 || v1 > 0 || v2 > 0 || v3 > 0 {
			pos = true
		}
		if !(v0 > lim && v1 > lim && v2 > lim && v3 > lim) {
			bad = true
		}
		d[0], d[1], d[2], d[3] = expNeg(v0)*scale, expNeg(v1)*scale, expNeg(v2)*scale, expNeg(v3)*scale
	}
	for ; i < len(x); i++ {
		v := x[i] - sh
		if v > 0 {
			pos = true
		}
		if !(v > lim) {
			bad = true
		}
		g[i] = expNeg(v) * scale
	}
	if pos {
		for i, v := range x {
			g[i] = expf(v-sh) * scale
		}
	}
	return bad
}
