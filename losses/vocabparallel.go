package losses

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// VocabParallelCrossEntropyArgs are the tensors of one rank of the
// vocabulary-parallel cross-entropy.
type VocabParallelCrossEntropyArgs struct {
	// Input is this rank's logits [N, Vs]: the classes [VocabStart,
	// VocabStart+Vs) of a VocabSize-class softmax.
	Input Tensor `loss:"input,in"`
	// Target is the full targets [N] (int32, each in [0, VocabSize) or
	// IgnoreIndex), the same on every rank.
	Target Tensor `loss:"target,in,int32"`
	// Loss: one element, or [N] with reduction None. It includes the
	// z-loss term.
	Loss Tensor `loss:"loss,out"`
	// ZLoss receives the z-loss term alone, reduced like Loss (optional).
	ZLoss Tensor `loss:"z_loss,out,optional"`
	// TotalWeight receives Σ w[t] over the non-ignored rows (their count
	// without weights), one element (optional): the divisor of the mean.
	TotalWeight Tensor `loss:"total_weight,out,optional"`
	// GradInput [N, Vs]: d loss / d Input, this rank's gradient columns.
	// It may be Input itself (the gradient then overwrites the logits).
	GradInput Tensor `loss:"grad_input,grad"`
}

// VocabParallelCrossEntropyOptions are the options of one rank; every
// rank of a group passes the same values except Weight and VocabStart.
// The zero value is PyTorch's cross_entropy defaults over one shard
// holding the whole vocabulary.
type VocabParallelCrossEntropyOptions struct {
	Reduction Reduction `json:"reduction"`
	// Weight is this rank's slice [Vs] of the class weights (classes
	// VocabStart ..), or nil. With Mean the cross-entropy part is divided
	// by Σ w[t] over the non-ignored rows, as PyTorch.
	Weight []float64 `json:"weight"`
	// IgnoreIndex: rows whose target equals it contribute nothing; nil
	// means DefaultIgnoreIndex (-100).
	IgnoreIndex *int `json:"ignore_index"`
	// LabelSmoothing ε in [0, 1]: the target distribution is
	// (1−ε)·onehot(t) + ε/V over the whole vocabulary.
	LabelSmoothing float64 `json:"label_smoothing"`
	// Softcap s >= 0 (0: off): every logit x becomes s·tanh(x/s).
	Softcap float64 `json:"softcap"`
	// ZLoss z >= 0: each non-ignored row adds z·L², L the log-sum-exp of
	// its (capped) logits over the whole vocabulary; with Mean that part
	// is divided by the number of non-ignored rows.
	ZLoss float64 `json:"z_loss"`
	// VocabSize is V, the whole vocabulary; 0 means Vs (one rank).
	VocabSize int `json:"vocab_size"`
	// VocabStart is v0, this rank's first class.
	VocabStart int `json:"vocab_start"`
}

func (o VocabParallelCrossEntropyOptions) ignoreIndex() int {
	if o.IgnoreIndex == nil {
		return DefaultIgnoreIndex
	}
	return *o.IgnoreIndex
}

const vpName = "vocab_parallel_cross_entropy"

// VocabParallelCrossEntropy is one rank's part of softmax cross-entropy
// over a vocabulary split across the ranks of comm (Megatron-LM's
// vocabulary-parallel cross-entropy): rank q holds the logits of the
// classes [v0_q, v0_q + Vs_q), the ranges tile [0, V), and every rank
// holds the full targets. Every rank gets the same loss, z-loss and total
// weight, bitwise, and the gradient w.r.t. its own logit columns; the
// result equals CrossEntropy over the full logits (with Softcap and ZLoss
// as defined in the options) up to rounding.
//
// Steps: vp_ce_max (each row's local max) → a MAX all-reduce of [N + H]
// (H = 4·Size + 26 header values, below) → vp_ce_partials (per row:
// Σ exp(x'−M), the target's logit, the smoothing sums and w[t], packed
// [N, 5]) → one SUM all-reduce → vp_ce_denom, vp_ce_rows (loss rows and
// gradient, no further collective), vp_ce_reduce.
//
// The MAX all-reduce carries a header through which every rank checks, on
// every rank alike, that all ranks agree on V, N, the options (reduction,
// ignore_index, weight or not, label_smoothing, softcap, z_loss; floats
// compared at the buffer's precision) and that the ranks' ranges tile
// [0, V) exactly; that no rank refused its values (a target outside
// [0, V), a bad range, a bad option: that rank returns its own *ArgError,
// the others an *ArgError on "comm"). A different number of rows or of
// ranks, or another dtype, is refused by the communicator on every rank
// (an *ArgError on "comm" wrapping its *collective.Error). Not detected:
// different target values on different ranks. A rank that fails before
// the first collective (a nil device or communicator, a tensor of the
// wrong shape or dtype) does not join it and leaves the others waiting,
// as any collective would: give every rank tensors of the same shapes.
//
// comm nil is a group of one rank (no collective, no header). Scratch on
// dev: 8·N + H + 5 (+ Vs with weights) floats; the targets are read back
// once to be checked (4·N bytes) and the header once after the first
// collective (4·(N + H) bytes).
func VocabParallelCrossEntropy(dev device.Device, comm collective.Communicator, a VocabParallelCrossEntropyArgs,
	opt VocabParallelCrossEntropyOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(vpName, "device", "is nil")
	}
	s := stage{dev: dev, loss: vpName}
	return s.finish(vpStaged(&s, comm, a, opt))
}

// vpRun is one call's shapes and buffers.
type vpRun struct {
	n, vs, v, v0        int
	x, tg, loss, zl, tw device.Buffer
	grad                device.Buffer
	opt                 VocabParallelCrossEntropyOptions
	ft                  device.DType
	rank, size          int
	comm                collective.Communicator
	red                 Reduction
	ign                 int
}

func vpStaged(s *stage, comm collective.Communicator, a VocabParallelCrossEntropyArgs, opt VocabParallelCrossEntropyOptions) error {
	r := vpRun{opt: opt, comm: comm, size: 1, red: opt.Reduction, ign: opt.ignoreIndex()}
	if comm != nil {
		if r.size = comm.Size(); r.size < 1 {
			return argErr(vpName, "comm", "has size %d", r.size)
		}
		r.rank = comm.Rank()
	}
	if !a.Input.Present() {
		return argErr(vpName, "input", "buffer is nil")
	}
	if len(a.Input.Shape) != 2 {
		return argErr(vpName, "input", "has shape %v: want [N, Vs]", a.Input.Shape)
	}
	r.n, r.vs = a.Input.Shape[0], a.Input.Shape[1]
	if !a.Target.Present() {
		return argErr(vpName, "target", "buffer is nil")
	}
	if len(a.Target.Shape) != 1 || a.Target.Shape[0] != r.n {
		return argErr(vpName, "target", "has shape %v: want [N] = [%d]", a.Target.Shape, r.n)
	}
	if a.Target.DType() != device.Int32 {
		return argErr(vpName, "target", "dtype is %s, want int32", a.Target.DType())
	}
	if !opt.Reduction.valid() {
		return argErr(vpName, "reduction", "unknown reduction %d", int(opt.Reduction))
	}
	if err := checkLoss(vpName, a.Loss, opt.Reduction, r.n); err != nil {
		return err
	}
	if !a.Loss.Present() {
		return argErr(vpName, "loss", "buffer is nil")
	}
	if err := checkLoss(vpName, a.ZLoss, opt.Reduction, r.n); err != nil {
		return argErr(vpName, "z_loss", "has shape %v: want the loss's shape", a.ZLoss.Shape)
	}
	if a.TotalWeight.Present() && a.TotalWeight.Len() != 1 {
		return argErr(vpName, "total_weight", "has shape %v: want 1 element", a.TotalWeight.Shape)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(vpName, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	if err := s.bind(in("input", a.Input, &r.x), in("target", a.Target, &r.tg), out("loss", a.Loss, &r.loss),
		out("z_loss", a.ZLoss, &r.zl), out("total_weight", a.TotalWeight, &r.tw),
		out("grad_input", a.GradInput, &r.grad)); err != nil {
		return err
	}
	dev := s.dev
	r.ft = r.x.DType()
	if err := floatType(vpName, "input", dev, r.ft); err != nil {
		return err
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
	}{{"loss", r.loss}, {"z_loss", r.zl}, {"total_weight", r.tw}, {"grad_input", r.grad}} {
		if c.b != nil && c.b.DType() != r.ft {
			return argErr(vpName, c.arg, "dtype is %s, want the input's %s", c.b.DType(), r.ft)
		}
	}
	// Values: a refusal here still joins the first collective.
	verr := vpCheckValues(&r)
	if verr == nil && r.n > 0 {
		tg := make([]int32, r.n)
		if err := dev.Read(tg, r.tg); err != nil {
			return fmt.Errorf("losses: %s: target: %w", vpName, err)
		}
		verr = checkTargets(vpName, tg, r.v, r.ign)
	}
	if r.size == 1 && verr != nil {
		return verr
	}
	hdr := 0
	if r.size > 1 {
		hdr = vpHeaderLen(r.size)
	}
	words := int64(8*r.n+hdr+5) + int64(len(opt.Weight))
	if err := checkWorkspace(dev, vpName, words*int64(r.ft.Size())); err != nil {
		if r.size == 1 {
			return err
		}
		if verr == nil {
			verr = err // still joins the first collective, so the others fail too
		}
	}
	return vpLaunch(dev, &r, hdr, verr)
}

// vpCheckValues checks the options and the shard's range (not the
// targets).
func vpCheckValues(r *vpRun) error {
	o := r.opt
	if err := checkSize(vpName, "Vs", r.vs); err != nil {
		return err
	}
	if r.vs == 0 {
		return argErr(vpName, "input", "has no classes (Vs = 0): every rank holds at least one")
	}
	r.v, r.v0 = o.VocabSize, o.VocabStart
	if r.v == 0 {
		r.v = r.vs
	}
	if r.v < 0 || int64(r.v) > maxInt32 {
		return argErr(vpName, "vocab_size", "%d is outside [1, 2^31)", o.VocabSize)
	}
	if r.v0 < 0 || r.v0 >= r.v || r.vs > r.v-r.v0 {
		return argErr(vpName, "vocab_start", "this rank's classes [%d, %d) are not within [0, V = %d)", r.v0, r.v0+r.vs, r.v)
	}
	if int64(r.n)*int64(r.vs) > maxInt32 {
		return argErr(vpName, "input", "N*Vs = %d exceeds the int32 range of the kernels", int64(r.n)*int64(r.vs))
	}
	if o.Weight != nil && len(o.Weight) != r.vs {
		return argErr(vpName, "weight", "has %d elements, want this rank's Vs = %d", len(o.Weight), r.vs)
	}
	for i, w := range o.Weight {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return argErr(vpName, "weight", "weight[%d] = %v is not finite", i, w)
		}
	}
	if e := o.LabelSmoothing; !(e >= 0 && e <= 1) {
		return argErr(vpName, "label_smoothing", "must be in [0, 1], got %v", e)
	}
	if c := o.Softcap; !(c >= 0) || math.IsInf(c, 1) {
		return argErr(vpName, "softcap", "must be finite and >= 0 (0: off), got %v", c)
	}
	if z := o.ZLoss; !(z >= 0) || math.IsInf(z, 1) {
		return argErr(vpName, "z_loss", "must be finite and >= 0, got %v", z)
	}
	if r.ign < math.MinInt32 || r.ign > math.MaxInt32 {
		return argErr(vpName, "ignore_index", "%d is outside the int32 range", r.ign)
	}
	return nil
}

// The header of the first (MAX) all-reduce, after the N row maxima: for
// each rank q, 4 values at 4q (its range [v0, v1), each as two exact
// float32 halves), -1 on the other ranks; then the agreement values, each
// as (a, −a): all ranks agree iff max(a) = −max(−a); last the refusal flag.
const (
	vpSplit  = 4096 // an integer a is (floor(a/4096), a mod 4096): exact in float32 for |a| < 2^36
	vpAgreed = 12   // the agreement values
)

func vpHeaderLen(size int) int { return 4*size + 2*vpAgreed + 2 }

func vpHalves(a int) (float64, float64) {
	hi := math.Floor(float64(a) / vpSplit)
	return hi, float64(a) - hi*vpSplit
}

func vpJoin(hi, lo float64) int { return int(hi*vpSplit + lo) }

// vpHeader is this rank's header.
func vpHeader(r *vpRun, refused bool) []float64 {
	h := make([]float64, vpHeaderLen(r.size))
	for i := range 4 * r.size {
		h[i] = -1
	}
	q := 4 * r.rank
	h[q], h[q+1] = vpHalves(r.v0)
	h[q+2], h[q+3] = vpHalves(r.v0 + r.vs)
	vHi, vLo := vpHalves(r.v)
	nHi, nLo := vpHalves(r.n)
	iHi, iLo := vpHalves(r.ign)
	o := r.opt
	vals := [vpAgreed]float64{vHi, vLo, nHi, nLo, iHi, iLo, float64(o.Reduction), float64(b2i(o.Weight != nil)),
		o.LabelSmoothing, o.Softcap, o.ZLoss, float64(r.size)}
	p := 4 * r.size
	for i, a := range vals {
		h[p+2*i], h[p+2*i+1] = a, -a
	}
	if refused {
		h[len(h)-2] = 1
	}
	h[len(h)-1] = -1 // spare, keeps the length even
	return h
}

var vpAgreedNames = [vpAgreed]string{"vocab_size", "vocab_size", "N", "N", "ignore_index", "ignore_index", "reduction",
	"weight (given or not)", "label_smoothing", "softcap", "z_loss", "the number of ranks"}

// vpCheckHeader checks the all-reduced header (see vpHeader).
func vpCheckHeader(r *vpRun, h []float64) error {
	p := 4 * r.size
	if h[len(h)-2] > 0 {
		return argErr(vpName, "comm", "another rank refused its arguments (see its error)")
	}
	for i := range vpAgreed {
		if h[p+2*i] != -h[p+2*i+1] {
			return argErr(vpName, "comm", "the ranks disagree on %s", vpAgreedNames[i])
		}
	}
	type rng struct{ lo, hi, q int }
	rs := make([]rng, r.size)
	for q := range rs {
		rs[q] = rng{vpJoin(h[4*q], h[4*q+1]), vpJoin(h[4*q+2], h[4*q+3]), q}
	}
	slices.SortFunc(rs, func(a, b rng) int { return a.lo - b.lo })
	at := 0
	for _, x := range rs {
		if x.lo != at {
			return argErr(vpName, "vocab_start", "the ranks' classes do not tile [0, V = %d): rank %d starts at %d, want %d",
				r.v, x.q, x.lo, at)
		}
		at = x.hi
	}
	if at != r.v {
		return argErr(vpName, "vocab_start", "the ranks' classes end at %d, want V = %d", at, r.v)
	}
	return nil
}

func vpCommErr(err error) error {
	var ce *collective.Error
	if errors.As(err, &ce) {
		return &ArgError{Loss: vpName, Arg: "comm", Msg: ce.Msg, Err: err}
	}
	return fmt.Errorf("losses: %s: all-reduce: %w", vpName, err)
}

func vpLaunch(dev device.Device, r *vpRun, hdr int, verr error) (err error) {
	// The all-reduced buffers have exactly the agreed length (exact; pool
	// buffers may be longer).
	bufs := callBufs{dev: dev, ft: r.ft}
	defer bufs.release()
	get, exact := bufs.get, bufs.exact
	n, o := r.n, r.opt
	mx, err := exact(n + hdr)
	if err != nil {
		return err
	}
	if hdr > 0 {
		h := make([]float64, n+hdr)
		for i := range n {
			h[i] = math.Inf(-1)
		}
		copy(h[n:], vpHeader(r, verr != nil))
		if err := collective.WriteFloat64(mx, h); err != nil {
			return err
		}
	}
	ign := int32(r.ign)
	if verr == nil && n > 0 {
		if err := dev.Launch("vp_ce_max", rowGrid(n), r.x, r.tg, int32(n), int32(r.vs), int32(0), ign, o.Softcap, mx); err != nil {
			return err
		}
	}
	if hdr > 0 {
		if err := r.comm.AllReduce(mx, collective.Max); err != nil {
			if verr != nil {
				return verr
			}
			return vpCommErr(err)
		}
		all, err := collective.ReadFloat64(mx)
		if err != nil {
			return err
		}
		if verr != nil {
			return verr
		}
		if err := vpCheckHeader(r, all[n:]); err != nil {
			return err
		}
	}
	weight := mx // stands in when there is no weight
	if o.Weight != nil {
		if weight, err = get(r.vs); err != nil {
			return err
		}
		if err := writeFloats(dev, weight, o.Weight); err != nil {
			return err
		}
	}
	denom, err := get(4)
	if err != nil {
		return err
	}
	parts, err := exact(kernelspec.VPParts * n)
	if err != nil {
		return err
	}
	smooth := b2i(o.LabelSmoothing != 0)
	hasW := b2i(o.Weight != nil)
	if n > 0 {
		if err := dev.Launch("vp_ce_partials", rowGrid(n), r.x, r.tg, weight, int32(n), int32(r.vs), int32(0), int32(r.v0),
			hasW, ign, smooth, o.Softcap, mx, parts); err != nil {
			return err
		}
		if r.size > 1 {
			if err := r.comm.AllReduce(parts, collective.Sum); err != nil {
				return vpCommErr(err)
			}
		}
	}
	if err := dev.Launch("vp_ce_denom", oneBlock, r.tg, parts, int32(n), int32(0), ign, int32(r.red), denom); err != nil {
		return err
	}
	if r.tw != nil {
		if err := dev.Copy(r.tw, denom, 1); err != nil {
			return err
		}
	}
	none := r.red == None
	lossRows, zRows := r.loss, r.zl
	if !none {
		if lossRows, err = get(n); err != nil {
			return err
		}
	}
	if !none || zRows == nil {
		if zRows, err = get(n); err != nil {
			return err
		}
	}
	grad := r.grad
	if grad == nil {
		grad = denom
	}
	if n > 0 {
		if err := dev.Launch("vp_ce_rows", rowGrid(n), r.x, r.tg, weight, int32(n), int32(r.vs), int32(0), int32(r.v0),
			int32(r.v), hasW, ign, o.LabelSmoothing, o.Softcap, o.ZLoss, mx, parts, denom, b2i(r.grad != nil), grad,
			b2i(none), lossRows, zRows); err != nil {
			return err
		}
	}
	if none {
		return nil
	}
	zOut := r.zl
	if zOut == nil {
		if zOut, err = get(1); err != nil {
			return err
		}
	}
	return dev.Launch("vp_ce_reduce", oneBlock, lossRows, zRows, int32(n), b2i(o.ZLoss != 0), denom, r.loss, zOut)
}

// vocabParallelCrossEntropy1 is the declared form: one rank holding the
// whole vocabulary (comm nil), for the registry, lossbench and the
// equivalence table.
func vocabParallelCrossEntropy1(dev device.Device, a VocabParallelCrossEntropyArgs, o VocabParallelCrossEntropyOptions) error {
	return VocabParallelCrossEntropy(dev, nil, a, o)
}

func init() {
	register(vpName, "VocabParallelCrossEntropy", vocabParallelCrossEntropy1,
		func(a VocabParallelCrossEntropyArgs, o VocabParallelCrossEntropyOptions) map[string][]int {
			return map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Input.Shape))}
		},
		"vp_ce_max", "vp_ce_partials", "vp_ce_denom", "vp_ce_rows", "vp_ce_reduce")
}
