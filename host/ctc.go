package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
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
// ((n·T) + t)·s_max + s; class_ws [N, C] and state_ws [N, 3·s_max] are float
// workspaces of the device kernels (the mirror leaves them untouched);
// loglik, loss_rows and loglik_beta are [N]. Everything is in log space
// (log 0 = −Inf). LSE(...) below is log Σ exp(...) over the listed terms;
// a term whose state index is out of range is −Inf. maxnum(...) is the
// largest of the listed values that are not NaN (−Inf if there is none),
// and off(v) = v if v is finite, else 0.
//
// # Per-frame offsets
//
// The log-probability of a prefix of an alignment grows like −t·(a few
// nats), so a float32 log-value of frame t carries an absolute rounding
// error of 2^−24·|log value|: 2e-3 at T = 10 000. Both recursions
// therefore store each frame relative to the running sum of the earlier
// frames' maxima (the offsets, summed in float64 in the mirror and in
// le_real in the kernels, in a register: no workspace): stored values stay
// within a few nats of 0 where the probability mass is, and the recursion
// reads them back relative to the previous frame's maximum. The gradient
// needs no offset at all: each frame's occupations are normalised by
// their own sum.

// ctcAlpha mirrors ctc_alpha(x, lse, T, N, C, stride_t, stride_n, has_lse,
// targets, target_offsets, target_lengths, input_lengths, blank, s_max,
// alpha, loglik): the forward variables of every sequence n, stored
// relative to the per-frame offsets,
//
//	w(0, s) = lp(0, l'_s)                          for s in {0, 1}, s < Sn; −Inf for other s
//	w(t, s) = lp(t, l'_s) + ( LSE( w(t−1, s), w(t−1, s−1), w(t−1, s−2) if s is odd, s >= 3 and l'_s != l'_{s−2} ) − m(t−1) )
//	                                               for 1 <= t < Tn and s <= 2t+1; −Inf for s > 2t+1
//	m(t)      = off( maxnum_s w(t, s) )
//	loglik[n] = Σ_{τ < Tn−1} m(τ) + LSE( w(Tn−1, Sn−1), w(Tn−1, Sn−2) if Sn >= 2 )
//	loglik[n] = 0 if Ln == 0, else −Inf           when Tn == 0
//
// so that w(t, s) = a(t, s) − Σ_{τ<t} m(τ), a being the usual forward
// variable (the log-probability of the alignment prefixes that end in
// state s at frame t). w(t, s) is written to alpha cell (n, t, s) for
// t < Tn and s < Sn; other cells are untouched. States s > 2t+1, which no
// path reaches by frame t, are −Inf without a look at x. loglik[n] =
// log P(target | input) is −Inf when no alignment exists (Ln + repeats >
// Tn). (The kernels separate time steps by a block barrier and find m(t)
// with a block reduction; the mirror runs sequences in parallel across
// cores.)
//
// Arithmetic. The float64 mirror computes each cell as written, in
// float64, with math.Exp and math.Log. The float32 mirror keeps the rows
// of the recursion in float64 as well and rounds each value to float32
// only when it stores it in alpha, so float32 rounding is never carried
// from one time step to the next; it computes a time step in blocks of
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
// with the backward variables, stored relative to their own offsets:
//
//	r(t, s)   = 0                                  for t = Tn−1, s in {Sn−1, Sn−2}
//	r(t, s)   = LSE( v(t+1, s), v(t+1, s+1), v(t+1, s+2) if s is odd, s+2 < Sn and l'_{s+2} != l'_s ) − mb(t+1)
//	                                               for t < Tn−1
//	v(t, s)   = lp(t, l'_s) + r(t, s)              for lo(t) <= s < Sn, lo(t) = max(0, Sn − 2·(Tn−t)); −Inf for s < lo(t)
//	mb(t)     = off( maxnum_s v(t, s) )
//	loglik_beta[n] = Σ_{τ > 0} mb(τ) + LSE( v(0, 0), v(0, 1) if Sn >= 2 )   (Tn == 0: 0 if Ln == 0, else −Inf)
//
// (v(t, s) = b(t, s) − Σ_{τ>t} mb(τ), b being the usual backward variable,
// which includes lp(t, l'_s) like a; states s < lo(t), from which the end
// cannot be reached, are −Inf without a look at x; loglik_beta equals
// loglik up to rounding.) With nll = −loglik[n] and impossible =
// (nll == +Inf):
//
//	loss_rows[n] = 0                                  if impossible and zero_infinity
//	loss_rows[n] = nll / (reduction == mean ? max(Ln, 1) : 1)   otherwise
//
// Gradient, only if has_grad: written for every t < T and every c of
// sequence n, in the layout of x. With scale = 1/(N·max(Ln, 1)) for
// reduction mean, else 1:
//
//	grad(t, n, c) = 0                                 if t >= Tn, or impossible (zero_infinity or not)
//	grad(t, n, c) = NaN                               if nll is NaN (t < Tn), or lp(t, c) is NaN
//
// otherwise, with the log-occupations of the states at frame t
//
//	g(t, s) = w(t, s) + r(t, s)                       for lo(t) <= s <= min(Sn−1, 2t+1); −Inf for other s
//
// (a(t, s) + b(t, s) − lp(t, l'_s) less an offset common to the frame:
// the log of the total probability of the alignments through (t, s)),
// Z(t) = LSE_s g(t, s) and lcab(t, c) = LSE over the s with l'_s = c of
// g(t, s) (−Inf if there is none),
//
//	occ(t, c) = 0                                     if lcab(t, c) = −Inf
//	occ(t, c) = exp(lcab(t, c) − Z(t))                otherwise (posterior occupation of class c at t; Σ_c occ = 1)
//	grad_mode == CTCGradExact:   grad(t, n, c) = scale · (−occ(t, c))
//	grad_mode == CTCGradSoftmax: grad(t, n, c) = scale · (exp(lp(t, c)) − occ(t, c))
//
// A log-probability of −Inf therefore gets occupation 0 and a finite
// gradient: the alignments through it have probability 0. (Z(t) is the
// same for every frame up to the offsets, log P(target | input); the
// division by its own frame's sum keeps float32 rounding of the stored
// values and of loglik from scaling a whole frame's gradient.)
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
// NaN: a NaN lp(t, c) on some path of a possible sequence makes loglik
// NaN and with it every gradient entry of the sequence's frames. If some
// g(t, s) is NaN or +Inf, Z(t) is NaN and so is occ(t, c) for every class
// with lcab(t, c) != −Inf.
//
// The float64 mirror computes as written. The float32 mirror computes as
// ctcAlpha's (float64 rows, float32 stores; ctcfast.go), and takes an
// occupation term exp(g − max g) below e^−88 as 0 (it would be below the
// smallest normal float32). The kernels reduce lcab and Z in log space in
// a fixed order, using target_next, class_ws and state_ws; the mirror
// leaves those workspaces alone (the kernels also keep there the float
// rounding residuals of their last two rows: see kernels/src/ctc.h).
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
	f32      bool // float32: the fast steps of ctcfast.go
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
	_, j.f32 = any(z).(float32)
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
	if j.beta {
		j.betaSeq(n)
	} else {
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

// row returns the x row of (t, n) and the log-sum-exp to subtract from it.
func (j *ctcJob[T]) row(t, n int) ([]T, float64) {
	o, sh := j.rowOff(t, n)
	return j.x[o : o+j.cc : o+j.cc], sh
}

func (j *ctcJob[T]) gradRow(t, n int) []T {
	o := t*j.strideT + n*j.strideN
	return j.grad[o : o+j.cc : o+j.cc]
}

// lse2 is log(exp(a) + exp(b)): −Inf if both are, NaN if either is.
func lse2(a, b float64) float64 {
	m, d := a, b
	if b > a {
		m, d = b, a
	}
	if m == negInf {
		return a + b // −Inf, or NaN if either is
	}
	return m + math.Log1p(math.Exp(d-m))
}

// lse3 is log(exp(a) + exp(b) + exp(c)).
func lse3(a, b, c float64) float64 {
	m := a
	if b > m {
		m = b
	}
	if c > m {
		m = c
	}
	if m == negInf {
		return a + b + c // −Inf, or NaN if any is
	}
	return m + math.Log(math.Exp(a-m)+math.Exp(b-m)+math.Exp(c-m))
}

// maxNum is maxnum over v: the largest value that is not NaN, −Inf if none.
func maxNum(v []float64) float64 {
	m := negInf
	for _, x := range v {
		if x > m {
			m = x
		}
	}
	return m
}

// offset is off(m): m if finite, else 0.
func offset(m float64) float64 {
	if m > negInf && m < math.Inf(1) {
		return m
	}
	return 0
}

// f64Rows recycles the float64 rows the mirror keeps a sequence's time
// steps in.
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
	switch {
	case !ok:
		j.loglik[n] = T(math.NaN())
	case tn == 0 && ln == 0:
		j.loglik[n] = 0
	case tn == 0:
		j.loglik[n] = T(negInf)
	case j.f32:
		j.loglik[n] = T(j.alphaFast(n, tn, lab))
	default:
		j.loglik[n] = T(j.alphaLog(n, tn, lab))
	}
}

// alphaLog is ctc_alpha for sequence n (tn > 0) as written: it writes the
// alpha cells and returns loglik.
func (j *ctcJob[T]) alphaLog(n, tn int, lab []int32) float64 {
	blank := j.blank
	S := 2*len(lab) + 1
	rows := getRows(2 * S)
	defer f64Rows.put(rows)
	prev, cur := (*rows)[:S:S], (*rows)[S:2*S:2*S]
	base := n * j.tt * j.sMax
	var off, m float64 // Σ_{τ<t} m(τ), m(t−1)
	for t := range tn {
		xr, sh := j.row(t, n)
		lpb := float64(xr[blank]) - sh
		hi := min(S-1, 2*t+1) // w(t, s) = −Inf beyond: not reachable yet
		if t == 0 {
			cur[0] = lpb
			if S > 1 {
				cur[1] = float64(xr[lab[0]]) - sh
			}
		} else {
			prev, cur = cur, prev
			off += m
			pb := prev[0] // w(t−1, 2k), the blank before label k
			pl2 := negInf // w(t−1, 2k−1), the previous label
			cur[0] = lpb + (pb - m)
			for k := 0; 2*k+1 <= hi; k++ {
				s := 2*k + 1
				pl := prev[s]
				var r float64
				if k > 0 && lab[k] != lab[k-1] {
					r = lse3(pl, pb, pl2)
				} else {
					r = lse2(pl, pb)
				}
				cur[s] = float64(xr[lab[k]]) - sh + (r - m)
				if s+1 <= hi {
					pbn := prev[s+1]
					cur[s+1] = lpb + (lse2(pbn, pl) - m)
					pb = pbn
				}
				pl2 = pl
			}
		}
		for s := hi + 1; s < S; s++ {
			cur[s] = negInf
		}
		m = offset(maxNum(cur[:hi+1]))
		o := base + t*j.sMax
		out := j.alpha[o : o+S : o+S]
		for s, v := range cur {
			out[s] = T(v)
		}
	}
	v := cur[S-1]
	if S >= 2 {
		v = lse2(v, cur[S-2])
	}
	return off + v
}

// ctcHead writes loss_rows[n] and the gradient rows that do not depend on
// the recursion (t >= Tn; all rows of an impossible sequence; NaN rows
// t < Tn when loglik is NaN), and returns nll, the gradient scale, and
// whether the recursion's gradient is wanted.
func (j *ctcJob[T]) ctcHead(n, tn, ln int) (nll, scale float64, gradOn bool) {
	nll = -float64(j.loglik[n])
	impossible := math.IsInf(nll, 1)
	mean := j.red == kernelspec.ReductionMean
	den := 1.0
	if mean {
		den = float64(max(ln, 1))
	}
	if impossible && j.zeroInf {
		j.lossRows[n] = 0
	} else {
		j.lossRows[n] = T(nll / den)
	}
	scale = 1.0
	if mean {
		scale = 1 / (float64(j.nn) * den)
	}
	if !j.hasGrad {
		return nll, scale, false
	}
	from := tn
	if impossible {
		from = 0
	}
	for t := from; t < j.tt; t++ {
		clear(j.gradRow(t, n))
	}
	if impossible {
		return nll, scale, false
	}
	if nll != nll {
		for t := 0; t < tn; t++ {
			g := j.gradRow(t, n)
			for c := range g {
				g[c] = T(math.NaN())
			}
		}
		return nll, scale, false
	}
	return nll, scale, true
}

func (j *ctcJob[T]) betaSeq(n int) {
	tn, ln, lab, ok := j.seq(n)
	if !ok {
		j.lossRows[n], j.llBeta[n] = T(math.NaN()), T(math.NaN())
		if j.hasGrad {
			for t := 0; t < j.tt; t++ {
				g := j.gradRow(t, n)
				for c := range g {
					g[c] = T(math.NaN())
				}
			}
		}
		return
	}
	_, scale, gradOn := j.ctcHead(n, tn, ln)
	switch {
	case tn == 0 && ln == 0:
		j.llBeta[n] = 0
	case tn == 0:
		j.llBeta[n] = T(negInf)
	case j.f32:
		j.llBeta[n] = T(j.betaFast(n, tn, lab, scale, gradOn))
	default:
		j.llBeta[n] = T(j.betaLog(n, tn, lab, scale, gradOn))
	}
}

// betaLog is ctc_beta_grad's recursion for sequence n (tn > 0) as
// written: it overwrites the alpha cells with v, writes the gradient rows
// t < tn when gradOn, and returns loglik_beta.
func (j *ctcJob[T]) betaLog(n, tn int, lab []int32, scale float64, gradOn bool) float64 {
	blank := j.blank
	S := 2*len(lab) + 1
	rows := getRows(3 * S)
	defer f64Rows.put(rows)
	// v(t+1, ·), v(t, ·), and the log-occupations g(t, ·).
	next, cur, gam := (*rows)[:S:S], (*rows)[S:2*S:2*S], (*rows)[2*S:3*S:3*S]
	base := n * j.tt * j.sMax
	var off, m float64 // Σ_{τ>t} mb(τ), mb(t+1)
	for t := tn - 1; t >= 0; t-- {
		o := base + t*j.sMax
		out := j.alpha[o : o+S : o+S] // w(t, ·) on entry, v(t, ·) on exit
		xr, sh := j.row(t, n)
		lpb := float64(xr[blank]) - sh
		hiA := min(S-1, 2*t+1)   // w(t, s) = −Inf for s > hiA
		lo := max(0, S-2*(tn-t)) // v(t, s) = −Inf for s < lo
		if t == tn-1 {
			for s := lo; s < S; s++ {
				lp := lpb
				if s&1 == 1 {
					lp = float64(xr[lab[s>>1]]) - sh
				}
				if s <= hiA {
					gam[s] = float64(out[s]) // r = 0
				}
				cur[s] = lp
			}
		} else {
			next, cur = cur, next
			off += m
			nb1, nb2 := negInf, negInf // v(t+1, s+1), v(t+1, s+2)
			for s := S - 1; s >= lo; s-- {
				nb0 := next[s]
				var r, lp float64
				if s&1 == 0 {
					r = lse2(nb0, nb1)
					lp = lpb
				} else {
					k := s >> 1
					if s+2 < S && lab[k+1] != lab[k] {
						r = lse3(nb0, nb1, nb2)
					} else {
						r = lse2(nb0, nb1)
					}
					lp = float64(xr[lab[k]]) - sh
				}
				r -= m
				if s <= hiA {
					gam[s] = float64(out[s]) + r
				}
				cur[s] = lp + r
				nb2, nb1 = nb1, nb0
			}
		}
		for s := 0; s < lo; s++ {
			cur[s] = negInf
		}
		m = offset(maxNum(cur[lo:]))
		for s, v := range cur {
			out[s] = T(v)
		}
		if gradOn {
			g := j.gradRow(t, n)
			j.gradBase(g, xr, sh, scale)
			j.occupations(g, gam[lo:max(lo, hiA+1)], lo, lab, scale)
		}
	}
	v := cur[0]
	if S >= 2 {
		v = lse2(v, cur[1])
	}
	return off + v
}

// occupations subtracts scale·occ(t, c) from the gradient row g, given
// the log-occupations la[i] = g(t, s) of the states s = lo + i that can
// carry alignments at t: occ sums exp(g − Z) over the states of each
// class, Z = LSE g. la is overwritten.
func (j *ctcJob[T]) occupations(g []T, la []float64, lo int, lab []int32, scale float64) {
	ref, bad := negInf, false
	for _, v := range la {
		if v > ref {
			ref = v
		} else if v != v {
			bad = true
		}
	}
	if bad || math.IsInf(ref, 1) { // Z is NaN: so is every occupation that is not 0
		for i, v := range la {
			if v != negInf {
				j.subOcc(g, lo+i, lab, math.NaN())
			}
		}
		return
	}
	if ref == negInf { // no state carries anything
		return
	}
	var sum float64
	for i, v := range la {
		e := math.Exp(v - ref)
		la[i] = e
		sum += e
	}
	scale /= sum // sum >= 1: the state at ref gives exp(0)
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

// subOcc subtracts v from the gradient entry of state s's class.
func (j *ctcJob[T]) subOcc(g []T, s int, lab []int32, v float64) {
	c := j.blank
	if s&1 == 1 {
		c = int(lab[s>>1])
	}
	g[c] = T(float64(g[c]) - v)
}

// gradBase writes the part of a gradient row that does not depend on the
// alignment: scale·exp(lp(t, c)) (CTCGradSoftmax) or 0 (CTCGradExact), and
// NaN where lp(t, c) is NaN (see ctcBetaGrad). The occupations are
// subtracted afterwards.
func (j *ctcJob[T]) gradBase(g, xr []T, sh, scale float64) {
	if j.gradMode != kernelspec.CTCGradSoftmax {
		clear(g)
		if sh != sh {
			markBad(g, xr, sh)
			return
		}
		for _, v := range xr {
			if v != v {
				markBad(g, xr, sh)
				return
			}
		}
		return
	}
	if g32, ok := any(g).([]float32); ok {
		x32 := any(xr).([]float32)
		if j.hasLSE && sh > negInf && sh < math.Inf(1) {
			// x − lse of the row: <= 0, and neither NaN nor +Inf (lse
			// would be NaN); −Inf gives 0.
			softmaxRowLSE32(g32, x32, float32(sh), float32(scale))
			return
		}
		if softmaxRow32(g32, x32, float32(sh), float32(scale)) {
			markBad(g, xr, sh)
		}
		return
	}
	for c, v := range xr {
		g[c] = T(scale * math.Exp(float64(v)-sh))
	}
}

// markBad sets g[c] = NaN where lp = x[c] − sh is NaN and g[c] = 0 where it
// is −Inf.
func markBad[T Float](g, xr []T, sh float64) {
	for c, v := range xr {
		switch lp := float64(v) - sh; {
		case lp != lp:
			g[c] = T(math.NaN())
		case lp == negInf:
			g[c] = 0
		}
	}
}

// softmaxRowLSE32 is softmaxRow32 for a row whose lse is sh (finite):
// every x[c] − sh is <= 0 or −Inf, so it needs no checks; an argument
// below −87.33 (−Inf included) gives 0, the rest expNeg's value, computed
// inline with its constants in variables (which the compiler keeps in
// registers instead of reloading them for every element).
func softmaxRowLSE32(g, x []float32, sh, scale float32) {
	g = g[:len(x)]
	if ctcVec && len(x) > 0 {
		softmaxLSE32AVX(&g[0], &x[0], len(x), sh, scale)
		return
	}
	k64, c1, c2, magic, lo := expNegK[0], expNegK[1], expNegK[2], expNegK[3], expNegK[4]
	half, one := expNegK[5], expNegK[6]
	for i, v := range x {
		d := v - sh
		e := float32(0)
		if d >= lo {
			k := float32(float32(d*k64)+magic) - magic
			r := float32(d-k*c1) - k*c2
			p := float32(float32(float32(r*half)+one)*r) + one
			n := int32(k)
			e = p * exp2Table[n&63] * math.Float32frombits(uint32((n>>6)+127)<<23) * scale
		}
		g[i] = e
	}
}

// expNegK holds expNeg's constants as variables (see softmaxRowLSE32):
// 64/ln 2, ln2/64 split in two, the rounding constant 1.5·2^23, the
// lowest argument, 1/2 and 1.
var expNegK = [7]float32{92.332482616893656, 0.01082611083984375, 4.313856405395097e-06, 12582912, -87.33654, 0.5, 1}

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
