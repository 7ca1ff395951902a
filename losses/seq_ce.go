package losses

import (
	"fmt"
	"math"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

const seqCEName = "seq_cross_entropy"

// SeqNormalization says how SeqCrossEntropy averages token losses.
type SeqNormalization int

const (
	// SeqNormToken (the default): the mean over all non-pad tokens of the
	// batch, Σ_{n,t} l_nt / #non-pad tokens.
	SeqNormToken SeqNormalization = iota
	// SeqNormSequence: each sequence's summed token loss divided by its
	// number of non-pad tokens, then the mean over the sequences that have
	// at least one: (1/N') Σ_n (Σ_t l_nt / k_n), N' = #{n : k_n > 0}.
	// Slice form only (see SeqCrossEntropy).
	SeqNormSequence
)

func (s SeqNormalization) String() string {
	switch s {
	case SeqNormToken:
		return "token"
	case SeqNormSequence:
		return "sequence"
	}
	return fmt.Sprintf("SeqNormalization(%d)", int(s))
}

// SeqCrossEntropyOptions are the options of the teacher-forced
// sequence-to-sequence cross-entropy.
type SeqCrossEntropyOptions struct {
	// PadIndex: target tokens equal to it are ignored (no loss, zero
	// gradient, not counted). nil means DefaultIgnoreIndex (−100).
	PadIndex *int `json:"ignore_index"`
	// LabelSmoothing ε in [0, 1]: each token's target distribution is
	// (1−ε)·onehot(target) + ε/V.
	LabelSmoothing float64          `json:"label_smoothing"`
	Normalization  SeqNormalization `json:"normalization"`
	// Softcap, ZLoss and ReturnAccuracy are CrossEntropyOptions' (logit
	// soft-capping, PaLM's z-loss, the token accuracy). With
	// SeqNormSequence the z-loss is averaged like the token losses (per
	// sequence, then over sequences) and the accuracy is still the share
	// of correct non-pad tokens.
	Softcap        float64 `json:"softcap"`
	ZLoss          float64 `json:"z_loss"`
	ReturnAccuracy bool    `json:"return_accuracy"`
}

// seqCEBuffers are the device buffers of a SeqCrossEntropy call.
type seqCEBuffers struct {
	// Logits are the decoder's scores [N, T, V]: sequence n's step t
	// predicts Targets[n, t] (teacher forcing).
	Logits  device.Buffer
	Targets device.Buffer // [N, T] int32 token ids in [0, V), or the pad index
	N, T, V int
	Loss    device.Buffer // [1]
	// Grad, if not nil, receives d loss / d Logits [N, T, V]; it may be
	// Logits itself.
	Grad device.Buffer
	// ZLoss and Accuracy, if not nil, receive the z-loss part of Loss and
	// the token accuracy [1].
	ZLoss, Accuracy device.Buffer
}

func (o SeqCrossEntropyOptions) ce(red Reduction) (CrossEntropyOptions, error) {
	pad := DefaultIgnoreIndex
	if o.PadIndex != nil {
		pad = *o.PadIndex
	}
	if o.Normalization != SeqNormToken && o.Normalization != SeqNormSequence {
		return CrossEntropyOptions{}, argErr(seqCEName, "normalization", "unknown normalization %d", int(o.Normalization))
	}
	if e := o.LabelSmoothing; !(e >= 0 && e <= 1) {
		return CrossEntropyOptions{}, argErr(seqCEName, "label_smoothing", "must be in [0, 1], got %v", e)
	}
	if pad < math.MinInt32 || pad > math.MaxInt32 {
		return CrossEntropyOptions{}, argErr(seqCEName, "ignore_index", "%d is outside the int32 range", pad)
	}
	return CrossEntropyOptions{Reduction: red, IgnoreIndex: &pad, LabelSmoothing: o.LabelSmoothing,
		Softcap: o.Softcap, ZLoss: o.ZLoss, ReturnAccuracy: o.ReturnAccuracy}, nil
}

// seqCEErr names a cross_entropy validation error after this loss (the
// arguments have the same names: input, target, ignore_index).
func seqCEErr(err error) error {
	if ae, ok := err.(*ArgError); ok {
		arg := ae.Arg
		if arg == "grad" {
			arg = "grad_input"
		}
		return &ArgError{Loss: seqCEName, Arg: arg, Msg: ae.Msg}
	}
	return err
}

// SeqCrossEntropy is the teacher-forced sequence-to-sequence loss: the
// softmax cross-entropy of every decoder step's logits against the target
// token, padding ignored, with label smoothing, averaged per token
// (SeqNormToken). It runs the fused cross_entropy kernel on the [N·T, V]
// view of the logits (one launch, probabilities never stored), exactly
// CrossEntropy with IgnoreIndex = PadIndex and reduction Mean; an
// all-padding batch gives NaN (0/0) and a zero gradient, as there.
//
// SeqNormSequence needs each gradient row scaled by its own sequence's
// factor, which no kernel does: it runs on host tensors only
// (seqPerSequence), and here returns an *ArgError.
func seqCrossEntropyBuf(dev device.Device, b seqCEBuffers, opt SeqCrossEntropyOptions) error {
	if dev == nil {
		return argErr(seqCEName, "device", "is nil")
	}
	if err := checkSeqSizes(b.N, b.T, b.V); err != nil {
		return err
	}
	ceo, err := opt.ce(Mean)
	if err != nil {
		return err
	}
	return seqCEErr(crossEntropyBuf(dev, ceBuffers{Input: b.Logits, Target: b.Targets, N: b.N * b.T, C: b.V,
		Loss: b.Loss, Grad: b.Grad, ZLoss: b.ZLoss, Accuracy: b.Accuracy}, ceo))
}

func checkSeqSizes(n, t, v int) error {
	for _, p := range []struct {
		name string
		v    int
	}{{"N", n}, {"T", t}, {"V", v}} {
		if err := checkSize(seqCEName, p.name, p.v); err != nil {
			return err
		}
	}
	if int64(n)*int64(t) > maxInt32 {
		return argErr(seqCEName, "target", "N·T = %d exceeds the int32 range of the kernels", int64(n)*int64(t))
	}
	return nil
}

// seqCrossEntropySlices is SeqCrossEntropy on Go slices: logits [n·t·v],
// targets [n·t]. It returns the loss (1 element) and the gradient w.r.t.
// the logits. With SeqNormSequence it runs cross_entropy with reduction
// None (per-token losses, gradient of their sum) and then, on the host,
// adds each sequence's token losses and scales its gradient rows by
// 1/(k_n·N'), where k_n is its number of non-pad tokens and N' the number
// of sequences with k_n > 0; if N' = 0 the loss is NaN and the gradient 0.
func seqCrossEntropySlices[T Float](dev device.Device, logits []T, targets []int32, n, t, v int, opt SeqCrossEntropyOptions) (*result[T], error) {
	if dev == nil {
		return nil, argErr(seqCEName, "device", "is nil")
	}
	if err := checkSeqSizes(n, t, v); err != nil {
		return nil, err
	}
	if len(logits) != n*t*v {
		return nil, argErr(seqCEName, "input", "has %d elements, want N*T*V = %d*%d*%d = %d", len(logits), n, t, v, n*t*v)
	}
	if len(targets) != n*t {
		return nil, argErr(seqCEName, "target", "has %d elements, want N*T = %d*%d = %d", len(targets), n, t, n*t)
	}
	red := Mean
	if opt.Normalization == SeqNormSequence {
		red = None
	}
	ceo, err := opt.ce(red)
	if err != nil {
		return nil, err
	}
	res, err := crossEntropySlices(dev, logits, targets, n*t, v, ceo)
	if err != nil {
		return nil, seqCEErr(err)
	}
	res.LSE = nil
	if red == Mean {
		return res, nil
	}
	if n*t == 0 {
		// No token, so no sequence has one (N' = 0). Returned before the
		// per-sequence counts: with T = 0 the input is empty whatever N is,
		// and N counts and a pass over them would not be bounded by it.
		res.Loss = []T{T(math.NaN())}
		if res.ZLoss != nil {
			res.ZLoss = []T{T(math.NaN())}
		}
		if res.Accuracy != nil {
			res.Accuracy = []T{T(math.NaN())}
		}
		return res, nil
	}
	pad := int32(*ceo.IgnoreIndex)
	counts := make([]int, n)
	sums := make([]float64, n)
	zsums := make([]float64, n)
	seqs, tokens := 0, 0
	var correct float64
	for i := 0; i < n; i++ {
		for j := 0; j < t; j++ {
			if targets[i*t+j] != pad {
				counts[i]++
				sums[i] += float64(res.Loss[i*t+j])
				if res.ZLoss != nil {
					zsums[i] += float64(res.ZLoss[i*t+j])
				}
				if res.Accuracy != nil {
					correct += float64(res.Accuracy[i*t+j])
				}
			}
		}
		tokens += counts[i]
		if counts[i] > 0 {
			seqs++
		}
	}
	var loss, zl float64
	for i := 0; i < n; i++ {
		rows := res.Grad[i*t*v : (i+1)*t*v]
		if counts[i] == 0 {
			clear(rows)
			continue
		}
		loss += sums[i] / float64(counts[i])
		zl += zsums[i] / float64(counts[i])
		w := T(1 / (float64(counts[i]) * float64(seqs)))
		for k := range rows {
			rows[k] *= w
		}
	}
	if seqs == 0 {
		loss, zl = math.NaN(), math.NaN()
	} else {
		loss /= float64(seqs)
		zl /= float64(seqs)
	}
	res.Loss = []T{T(loss)}
	if res.ZLoss != nil {
		res.ZLoss = []T{T(zl)}
	}
	if res.Accuracy != nil {
		res.Accuracy = []T{T(correct / float64(tokens))} // NaN (0/0) with no token
	}
	return res, nil
}

// UnmarshalText parses token or sequence.
func (s *SeqNormalization) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "", "token":
		*s = SeqNormToken
	case "sequence":
		*s = SeqNormSequence
	default:
		return fmt.Errorf("%q is not one of token, sequence", string(b))
	}
	return nil
}

// MarshalText writes token or sequence.
func (s SeqNormalization) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// SeqCrossEntropyArgs are the tensors of SeqCrossEntropy.
type SeqCrossEntropyArgs struct {
	// Input holds the decoder's logits [N, T, V]: sequence n's step t
	// predicts Target[n, t] (teacher forcing).
	Input  Tensor `loss:"input,in"`
	Target Tensor `loss:"target,in,int32"` // [N, T] token ids in [0, V), or the pad index
	Loss   Tensor `loss:"loss,out"`        // one element
	// GradInput [N, T, V] may be Input itself.
	GradInput Tensor `loss:"grad_input,grad"`
	// ZLoss receives the z-loss part of Loss [1] (see ZLoss).
	ZLoss Tensor `loss:"z_loss,out,optional"`
	// Accuracy receives the share of non-pad tokens whose first largest
	// logit is the target [1] (required with ReturnAccuracy).
	Accuracy Tensor `loss:"accuracy,out,optional"`
}

// SeqCrossEntropy is the teacher-forced sequence-to-sequence loss: the
// softmax cross-entropy of every decoder step's logits against its target
// token, padding ignored, with label smoothing. SeqNormToken (the
// default) averages over the non-pad tokens and runs the fused
// cross_entropy kernel on the [N·T, V] view (one launch); an all-padding
// batch gives NaN (0/0) and a zero gradient. SeqNormSequence averages each
// sequence's tokens, then the sequences that have any: it scales each
// sequence's gradient rows by its own factor on the host, so it needs
// host tensors (an *ArgError otherwise).
func SeqCrossEntropy(dev device.Device, a SeqCrossEntropyArgs, opt SeqCrossEntropyOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(seqCEName, "device", "is nil")
	}
	for _, x := range []struct {
		arg string
		t   Tensor
	}{{"input", a.Input}, {"target", a.Target}, {"loss", a.Loss}, {"grad_input", a.GradInput},
		{"z_loss", a.ZLoss}, {"accuracy", a.Accuracy}} {
		limit := int64(maxInt32)
		if x.arg == "input" || x.arg == "grad_input" {
			limit = maxWide // cross_entropy's kernels: 64-bit offsets
		}
		if err := x.t.checkLimit(seqCEName, x.arg, limit); err != nil {
			return err
		}
		if (x.arg == "z_loss" || x.arg == "accuracy") && x.t.Present() && x.t.Len() != 1 {
			return argErr(seqCEName, x.arg, "has shape %v: want one element", x.t.Shape)
		}
	}
	if opt.ReturnAccuracy && !a.Accuracy.Present() {
		return argErr(seqCEName, "accuracy", "is required with return_accuracy")
	}
	if a.Loss.Present() && a.GradInput.Present() && sameMemory(a.Loss.Buf, a.GradInput.Buf) {
		return argErr(seqCEName, "grad_input", "shares memory with loss: two outputs may not alias each other")
	}
	if !a.Input.Present() {
		return argErr(seqCEName, "input", "buffer is nil")
	}
	if len(a.Input.Shape) != 3 {
		return argErr(seqCEName, "input", "has shape %v: want [N, T, V]", a.Input.Shape)
	}
	n, t, v := a.Input.Shape[0], a.Input.Shape[1], a.Input.Shape[2]
	if a.Target.Present() && (len(a.Target.Shape) != 2 || a.Target.Shape[0] != n || a.Target.Shape[1] != t) {
		return argErr(seqCEName, "target", "has shape %v: want [N, T] = [%d, %d]", a.Target.Shape, n, t)
	}
	if a.Loss.Present() && a.Loss.Len() != 1 {
		return argErr(seqCEName, "loss", "has shape %v: want one element", a.Loss.Shape)
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(seqCEName, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	if opt.Normalization == SeqNormSequence {
		return seqPerSequence(dev, a, opt, n, t, v)
	}
	// 64-bit offsets into the logits (cross_entropy's kernels): N·T·V may
	// pass 2³¹; the shapes are checked by the stage.
	s := stage{dev: dev, loss: seqCEName, wide: true}
	err := func() error {
		b := seqCEBuffers{N: n, T: t, V: v}
		var err error
		if b.Logits, err = s.buf("input", a.Input, false); err != nil {
			return err
		}
		if b.Targets, err = s.buf("target", a.Target, false); err != nil {
			return err
		}
		if b.Loss, err = s.buf("loss", a.Loss, true); err != nil {
			return err
		}
		if b.Grad, err = s.buf("grad_input", a.GradInput, true); err != nil {
			return err
		}
		if b.ZLoss, err = s.buf("z_loss", a.ZLoss, true); err != nil {
			return err
		}
		if b.Accuracy, err = s.buf("accuracy", a.Accuracy, true); err != nil {
			return err
		}
		return seqCrossEntropyBuf(dev, b, opt)
	}()
	return s.finish(err)
}

// seqPerSequence runs SeqNormSequence on host tensors.
func seqPerSequence(dev device.Device, a SeqCrossEntropyArgs, opt SeqCrossEntropyOptions, n, t, v int) error {
	hostOf := func(arg string, x Tensor) (any, error) {
		if !x.Present() {
			return nil, nil
		}
		hb, ok := x.Buf.(*host.Buffer)
		if !ok {
			return nil, argErr(seqCEName, arg, "per-sequence normalisation needs host tensors (HostTensor)")
		}
		return hb.Slice(), nil
	}
	in, err := hostOf("input", a.Input)
	if err != nil {
		return err
	}
	tg, err := hostOf("target", a.Target)
	if err != nil {
		return err
	}
	loss, err := hostOf("loss", a.Loss)
	if err != nil {
		return err
	}
	grad, err := hostOf("grad_input", a.GradInput)
	if err != nil {
		return err
	}
	zl, err := hostOf("z_loss", a.ZLoss)
	if err != nil {
		return err
	}
	acc, err := hostOf("accuracy", a.Accuracy)
	if err != nil {
		return err
	}
	targets, ok := tg.([]int32)
	if !ok {
		return argErr(seqCEName, "target", "must be an int32 tensor")
	}
	switch x := in.(type) {
	case []float32:
		return seqPerSequenceT(dev, x, targets, loss, grad, zl, acc, n, t, v, opt)
	case []float64:
		return seqPerSequenceT(dev, x, targets, loss, grad, zl, acc, n, t, v, opt)
	}
	return argErr(seqCEName, "input", "dtype is %s, want a float type", a.Input.DType())
}

func seqPerSequenceT[T Float](dev device.Device, x []T, targets []int32, loss, grad, zloss, acc any, n, t, v int, opt SeqCrossEntropyOptions) error {
	lo, _ := loss.([]T)
	gr, _ := grad.([]T)
	zl, _ := zloss.([]T)
	ac, _ := acc.([]T)
	if loss != nil && lo == nil || grad != nil && gr == nil || zloss != nil && zl == nil || acc != nil && ac == nil {
		return argErr(seqCEName, "loss", "outputs must have input's dtype")
	}
	opt.ReturnAccuracy = opt.ReturnAccuracy || acc != nil
	res, err := seqCrossEntropySlices(dev, x[:n*t*v], targets[:n*t], n, t, v, opt)
	if err != nil {
		return err
	}
	copy(lo, res.Loss)
	copy(gr, res.Grad)
	if zl != nil {
		if res.ZLoss != nil {
			copy(zl, res.ZLoss)
		} else {
			zl[0] = 0 // z_loss = 0: no z part
		}
	}
	copy(ac, res.Accuracy)
	return nil
}

func init() {
	register("seq_cross_entropy", "SeqCrossEntropy", SeqCrossEntropy,
		func(a SeqCrossEntropyArgs, o SeqCrossEntropyOptions) map[string][]int {
			sh := map[string][]int{"loss": {}}
			if o.ZLoss != 0 {
				sh["z_loss"] = []int{}
			}
			if o.ReturnAccuracy {
				sh["accuracy"] = []int{}
			}
			return sh
		}, "cross_entropy_weight_sum", "cross_entropy_rows", "cross_entropy_rows_ext", "reduce_sum")
}
