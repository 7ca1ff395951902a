package losses

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

const ctcName = "ctc_loss"

// CTCGradMode says which gradient CTCLoss returns for log-probability
// input (CTCLossOptions.Logits false). With Logits the gradient is always
// w.r.t. the logits.
type CTCGradMode int

const (
	// CTCGradExact (the default) is the exact partial derivative of the
	// loss w.r.t. each element of log_probs, each taken as an independent
	// variable, with no renormalisation assumed:
	//
	//	d loss / d log_probs[t, n, c] = −w_n · occ(t, n, c)
	//
	// where occ(t, n, c) is the posterior probability, over the alignments
	// of sequence n, that class c is emitted at frame t (Σ_c occ = 1 for
	// t < input_lengths[n], 0 beyond), and w_n is d loss / d loss_n (1 for
	// sum and none, 1/(N·max(target_lengths[n], 1)) for mean). It is the
	// gradient that finite differences of single entries reproduce.
	CTCGradExact CTCGradMode = iota
	// CTCGradPyTorch is PyTorch's convention,
	//
	//	w_n · (exp(log_probs[t, n, c]) − occ(t, n, c))   (0 for t >= input_lengths[n])
	//
	// which is the exact gradient w.r.t. the logits z of log_probs =
	// log_softmax(z), expressed per log-probability: it equals
	// CTCGradExact when propagated back through a log_softmax, and is what
	// torch.nn.functional.ctc_loss returns as log_probs.grad.
	CTCGradPyTorch
)

func (m CTCGradMode) String() string {
	switch m {
	case CTCGradExact:
		return "exact"
	case CTCGradPyTorch:
		return "pytorch"
	}
	return fmt.Sprintf("CTCGradMode(%d)", int(m))
}

// CTCLossOptions are the options of CTCLoss. The zero value means PyTorch's
// defaults (blank 0, reduction mean, zero_infinity false) with time-major
// log-probability input and the exact gradient.
type CTCLossOptions struct {
	// Reduction: None gives one loss per sequence, −log p(target | input);
	// Sum their sum; Mean divides each by its target length clamped to at
	// least 1 and averages over the batch (PyTorch's mean).
	Reduction Reduction `json:"reduction"`
	// Blank is the blank class, in [0, C).
	Blank int `json:"blank"`
	// ZeroInfinity replaces the +Inf loss of a sequence that has no
	// alignment (its target needs more frames than its input length) by 0.
	// The gradient of such a sequence is 0 either way.
	ZeroInfinity bool `json:"zero_infinity"`
	// Logits says the input holds raw scores z: log_probs = log_softmax(z)
	// over C is folded in (the rows' log-sum-exp is computed first by the
	// logsumexp_rows kernel into a workspace of T·N floats) and the
	// gradient is w.r.t. z, exactly: w_n·(softmax(z)[t, n, c] − occ(t, n, c)).
	Logits bool `json:"logits"`
	// BatchFirst says the input (and the gradient) is [N, T, C] instead of
	// [T, N, C].
	BatchFirst bool `json:"batch_first"`
	// GradMode selects the gradient for log-probability input; it is
	// ignored with Logits.
	GradMode CTCGradMode `json:"grad_mode"`
}

// ctcBuffers are the device buffers of the CTC launches.
type ctcBuffers struct {
	// Input is log_probs (or logits, with CTCLossOptions.Logits), float,
	// [T, N, C] row-major ([N, T, C] with BatchFirst).
	Input   device.Buffer
	T, N, C int
	// Targets are int32 class labels, none equal to the blank:
	// padded [N, S] when TargetsPadded = S > 0 (sequence n's labels are
	// targets[n·S : n·S + target_lengths[n]]; the rest is ignored), or
	// concatenated when TargetsPadded = 0 (sequence n's labels follow
	// those of sequence n−1; the buffer holds at least
	// Σ target_lengths elements).
	Targets       device.Buffer
	TargetsPadded int
	// InputLengths [N] int32, each in [0, T]; TargetLengths [N] int32,
	// each >= 0 (and <= S when padded).
	InputLengths, TargetLengths device.Buffer
	// Loss receives the loss: 1 element, or N with reduction None.
	Loss device.Buffer
	// Grad, if not nil, receives d loss / d Input, shaped like Input. It
	// must not be Input. With reduction None it is the gradient of the
	// sum of the per-sequence losses.
	Grad device.Buffer
	// LogLikelihood and LogLikelihoodBeta, if not nil, receive [N] each:
	// log p(target_n | input_n) from the forward (alpha) and from the
	// backward (beta) recursion. They agree up to rounding; −Inf marks a
	// sequence with no alignment.
	LogLikelihood, LogLikelihoodBeta device.Buffer
	// Workspace, if not nil, is used instead of temporary buffers from the
	// per-device pool (see NewCTCWorkspace); with it, a call on the host
	// device allocates nothing once it has run once with these shapes.
	Workspace *CTCWorkspace
}

// CTCWorkspace is the device memory of a CTCLoss call besides its inputs
// and outputs. Each float buffer has the input's dtype. With
// s_max = 2·max_n target_lengths[n] + 1 and K = N·S for padded targets or
// Σ target_lengths for concatenated ones, a call needs at least:
//
//	Alpha      N·T·s_max   forward variables, then overwritten by the backward ones
//	ClassWS    N·C         per-class scratch of the device kernels
//	StateWS    3·N·s_max   per-state scratch of the device kernels (the gradient's occupations, the
//	                       float rounding residuals of the last two rows of the recursions)
//	LSE        T·N         row log-sum-exp (Logits only; may be nil otherwise)
//	LossRows   N           per-sequence losses (unused with reduction None, may be nil then)
//	LogLik     N           forward log-likelihoods (unused when the call passes LogLikelihood)
//	LogLikBeta N           backward log-likelihoods (unused when the call passes LogLikelihoodBeta)
//	Offsets    N  (int32)  target_offsets: where each sequence's labels start
//	Next       K  (int32)  target_next: the next occurrence of each label in its sequence, or −1
//
// Callers may fill the struct with their own buffers (for instance memory
// wrapped from a training framework's allocator) or use NewCTCWorkspace.
// CTCWorkspaceSize gives the total in bytes.
type CTCWorkspace struct {
	Alpha, ClassWS, StateWS, LSE device.Buffer
	LossRows, LogLik, LogLikBeta device.Buffer
	Offsets, Next                device.Buffer

	// Host memory kept between calls: copies of the lengths and targets
	// (accelerators), target_offsets and target_next before upload, the
	// positions of one target (to find equal labels), and the launch
	// arguments, re-boxed only when a value changes.
	hostIL, hostTL, hostTargets, hostFill, pos []int32
	argLSE, argA, argB, argR                   []any
}

// ctcWorkspaceLens returns the float and int32 element counts of the
// workspace for at most maxTargetLen labels per sequence (the padded width
// S for padded targets).
func ctcWorkspaceLens(T, N, C, maxTargetLen int, logits bool) (floats, ints int64) {
	t, n, c, m := int64(T), int64(N), int64(C), int64(maxTargetLen)
	sMax := 2*m + 1
	floats = n*t*sMax + n*c + 3*n*sMax + 3*n
	if logits {
		floats += t * n
	}
	return floats, n + n*m
}

// CTCWorkspaceSize returns how many bytes of device memory a CTCLoss call
// with float32 input needs besides its inputs and outputs, for targets of
// at most maxTargetLen labels (for padded targets: the padded width S):
//
//	4 · ( N·T·s_max + N·C + 3·N·s_max + 3·N  [+ T·N with logits] )   floats: alpha, class_ws, state_ws, per-sequence scalars [, lse]
//	+ 4 · ( N + N·maxTargetLen )                                     int32: target_offsets, target_next
//
// with s_max = 2·maxTargetLen + 1. The alpha term dominates: for T = 1000,
// N = 32, maxTargetLen = 200 it is 51 MB. Float64 input (host only) needs
// the float part twice. The slice form and a buffer call without a
// Workspace take this memory from a per-device pool.
func CTCWorkspaceSize(T, N, C, maxTargetLen int, logits bool) int {
	f, i := ctcWorkspaceLens(max(T, 0), max(N, 0), max(C, 0), max(maxTargetLen, 0), logits)
	return int(4*f + 4*i)
}

// NewCTCWorkspace allocates a workspace on dev for calls with float type
// dt, at most T frames, N sequences, C classes and maxTargetLen labels per
// sequence (the padded width S for padded targets). Release frees it.
func NewCTCWorkspace(dev device.Device, dt device.DType, T, N, C, maxTargetLen int, logits bool) (*CTCWorkspace, error) {
	if dev == nil {
		return nil, argErr(ctcName, "device", "is nil")
	}
	for _, p := range []struct {
		n string
		v int
	}{{"T", T}, {"N", N}, {"C", C}, {"max_target_length", maxTargetLen}} {
		if err := checkSize(ctcName, p.n, p.v); err != nil {
			return nil, err
		}
	}
	if !dt.IsFloat() {
		return nil, argErr(ctcName, "workspace", "dtype is %s, want a float type", dt)
	}
	sMax := 2*int64(maxTargetLen) + 1
	if v := int64(N) * int64(T) * sMax; v > maxInt32 {
		return nil, argErr(ctcName, "workspace", "alpha needs N·T·(2·max_target_length+1) = %d elements, beyond the int32 range of the kernels", v)
	}
	w := &CTCWorkspace{}
	type part struct {
		b  *device.Buffer
		dt device.DType
		n  int
	}
	parts := []part{{&w.Alpha, dt, N * T * int(sMax)}, {&w.ClassWS, dt, N * C}, {&w.StateWS, dt, 3 * N * int(sMax)},
		{&w.LossRows, dt, N}, {&w.LogLik, dt, N}, {&w.LogLikBeta, dt, N},
		{&w.Offsets, device.Int32, N}, {&w.Next, device.Int32, N * maxTargetLen}}
	if logits {
		parts = append(parts, part{&w.LSE, dt, T * N})
	}
	for _, p := range parts {
		b, err := dev.Alloc(p.dt, max(p.n, 1))
		if err != nil {
			w.Release()
			return nil, fmt.Errorf("losses: %s: workspace: %w", ctcName, err)
		}
		*p.b = b
	}
	return w, nil
}

// Release frees the workspace's buffers.
func (w *CTCWorkspace) Release() {
	for _, b := range []device.Buffer{w.Alpha, w.ClassWS, w.StateWS, w.LSE, w.LossRows, w.LogLik, w.LogLikBeta, w.Offsets, w.Next} {
		if b != nil {
			b.Release()
		}
	}
	*w = CTCWorkspace{}
}

// CTCLoss computes the connectionist temporal classification loss of
// torch.nn.functional.ctc_loss and its gradient (see CTCGradMode and
// CTCLossOptions.Logits for which gradient), for N sequences of up to T frames
// over C classes, in log space throughout.
//
// Sequence n uses frames t < input_lengths[n] and target_lengths[n]
// labels; its loss is −log p(target | input), the log of the sum over all
// alignments (label sequences of length input_lengths[n] that reduce to
// the target when repeats are merged and blanks removed) of the product
// of the per-frame probabilities. A target of length 0 is the all-blank
// alignment (and an input of length 0 aligns only with an empty target).
// A target that cannot fit (length plus the number of adjacent repeats >
// input length) has loss +Inf (0 with ZeroInfinity) and a zero gradient,
// never NaN. Frames t >= input_lengths[n] get a zero gradient.
//
// Launches, in order: logsumexp_rows over the [T·N, C] rows (Logits only),
// ctc_alpha (forward variables), ctc_beta_grad (backward variables, the
// per-sequence losses and the gradient), then reduce_sum (scale 1/N for
// Mean) unless the reduction is None. The gradient is deterministic: no
// floating-point atomics anywhere.
//
// Before anything is launched the lengths and the targets are read back to
// the host (4·(2N + K) bytes, K = N·S padded or Σ target_lengths, and a
// wait for the device; on the host device they are read in place), to
// validate them — lengths in range, every label in [0, C) and not the
// blank — and to compute target_offsets and target_next, which are written
// to the workspace. A call that fails validation writes nothing. Memory:
// see CTCWorkspace and CTCWorkspaceSize.
//
// A log-probability of −Inf (a class ruled out at a frame) removes the
// alignments through it: its occupation is exactly 0 and its gradient
// entry finite (0, or w·exp(−Inf) = 0 in the softmax conventions), unlike
// PyTorch's exp(−Inf − (−Inf)) = NaN; a sequence left with no alignment
// is impossible (+Inf loss, zero gradient). A NaN log-probability gives a
// NaN gradient entry, and, on a path of the sequence, a NaN loss and NaN
// gradient rows for its frames.
//
// Accuracy (float32): both recursions store each frame relative to a
// running sum of per-frame maxima, and recurse in float64 on the host and
// in double on devices that have it (CUDA; OpenCL with cl_khr_fp64), so
// rounding does not add up over time steps: against the float64 host path
// the loss agrees to about 3e-8 relative and the gradient to 1e-5 of its
// largest entry at T = 10 000 frames (5e-6 for 1000 labels over 3000
// frames). On an OpenCL device without double precision the recursions
// run in float32 and that error grows with T.
func ctcLossBuf(dev device.Device, b ctcBuffers, opt CTCLossOptions) error {
	if dev == nil {
		return argErr(ctcName, "device", "is nil")
	}
	ft, err := validateCTCBuffers(dev, b, opt)
	if err != nil {
		return err
	}
	ws, temp := b.Workspace, b.Workspace == nil
	if temp {
		ws = &CTCWorkspace{}
	}
	var h ctcHost
	if err := h.readBack(dev, b, ws); err != nil {
		return err
	}
	if err := h.validate(b.T, b.N, b.C, b.TargetsPadded, opt.Blank, b.Targets.Len(), false); err != nil {
		return err
	}
	return ctcRun(dev, ft, b, opt, &h, ws, temp)
}

// ctcHost holds the host copies (or, on the host device, views) of the
// lengths and targets, and what validate derives from them.
type ctcHost struct {
	ilens, tlens, targets []int32
	sMax, nTargets        int
}

// grow returns (*p)[:n], reallocating *p if it is too short.
func grow(p *[]int32, n int) []int32 {
	if len(*p) < n {
		*p = make([]int32, n)
	}
	return (*p)[:n]
}

func hostInts(b device.Buffer) ([]int32, bool) {
	if hb, ok := b.(*host.Buffer); ok && b.Device() == device.Device(host.Default()) {
		return hb.Int32s(), true
	}
	return nil, false
}

// readBack fetches the lengths and targets of a buffer-form call into host
// memory kept in ws. On the host device it uses the buffers in place.
func (h *ctcHost) readBack(dev device.Device, b ctcBuffers, ws *CTCWorkspace) error {
	n := b.N
	read := func(arg string, buf device.Buffer, store *[]int32, k int) ([]int32, error) {
		if v, ok := hostInts(buf); ok {
			return v[:k], nil
		}
		v := grow(store, k)
		if k > 0 {
			if err := dev.Read(v, buf); err != nil {
				return nil, fmt.Errorf("losses: %s: %s: %w", ctcName, arg, err)
			}
		}
		return v, nil
	}
	var err error
	if h.ilens, err = read("input_lengths", b.InputLengths, &ws.hostIL, n); err != nil {
		return err
	}
	if h.tlens, err = read("target_lengths", b.TargetLengths, &ws.hostTL, n); err != nil {
		return err
	}
	// How many target elements to read depends on the lengths.
	k := n * b.TargetsPadded
	if b.TargetsPadded == 0 {
		s := int64(0)
		for _, v := range h.tlens {
			if v > 0 {
				s += int64(v)
			}
		}
		if s > int64(b.Targets.Len()) {
			return argErr(ctcName, "targets", "has %d elements, but target_lengths sum to %d (concatenated targets)", b.Targets.Len(), s)
		}
		k = int(s)
	}
	h.targets, err = read("targets", b.Targets, &ws.hostTargets, k)
	return err
}

// validate checks the lengths and labels and computes s_max and the number
// of target elements. exact: concatenated targets must have exactly
// Σ target_lengths elements (the slice form); otherwise at least.
func (h *ctcHost) validate(T, N, C, S, blank, targetsLen int, exact bool) error {
	maxL := 0
	var sum int64
	for i, v := range h.ilens {
		if v < 0 {
			return argErr(ctcName, "input_lengths", "input_lengths[%d] = %d is negative", i, v)
		}
		if int(v) > T {
			return argErr(ctcName, "input_lengths", "input_lengths[%d] = %d exceeds T = %d", i, v, T)
		}
	}
	for i, v := range h.tlens {
		if v < 0 {
			return argErr(ctcName, "target_lengths", "target_lengths[%d] = %d is negative", i, v)
		}
		if S > 0 && int(v) > S {
			return argErr(ctcName, "target_lengths", "target_lengths[%d] = %d exceeds the padded targets' width S = %d", i, v, S)
		}
		maxL = max(maxL, int(v))
		sum += int64(v)
	}
	if S == 0 {
		if exact && sum != int64(targetsLen) || sum > int64(targetsLen) {
			return argErr(ctcName, "targets", "has %d elements, but target_lengths sum to %d (concatenated targets)", targetsLen, sum)
		}
		h.nTargets = int(sum)
	} else {
		h.nTargets = N * S
	}
	h.sMax = 2*maxL + 1
	if v := int64(N) * int64(T) * int64(h.sMax); v > maxInt32 {
		return argErr(ctcName, "target_lengths", "the workspace needs N·T·(2·max target length + 1) = %d elements, beyond the int32 range of the kernels", v)
	}
	off := 0
	for i, l := range h.tlens {
		start := off
		if S > 0 {
			start = i * S
		}
		for j, c := range h.targets[start : start+int(l)] {
			if c < 0 || int(c) >= C {
				return argErr(ctcName, "targets", "label %d of sequence %d (targets[%d]) = %d is out of range [0, %d)", j, i, start+j, c, C)
			}
			if int(c) == blank {
				return argErr(ctcName, "targets", "label %d of sequence %d (targets[%d]) = %d is the blank", j, i, start+j, c)
			}
		}
		off += int(l)
	}
	return nil
}

// fill computes target_offsets and target_next into offsets [N] and next
// [nTargets]: next[start+j] is the position in its sequence of the next
// label equal to label j, or −1. pos is scratch of at least the longest
// target length. Each sequence's positions are sorted by (label,
// position), so equal labels end up side by side in order: memory in
// proportion to the targets, where a table indexed by class would take
// 4·C bytes, which the input does not bound when T or N is 0.
func (h *ctcHost) fill(offsets, next, pos []int32, S int) {
	for i := range next {
		next[i] = -1
	}
	off := 0
	for i, l := range h.tlens {
		start := off
		if S > 0 {
			start = i * S
		}
		offsets[i] = int32(start)
		lab := h.targets[start : start+int(l)]
		p := pos[:len(lab)]
		for j := range p {
			p[j] = int32(j)
		}
		slices.SortFunc(p, func(a, b int32) int {
			if c := cmp.Compare(lab[a], lab[b]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		for j := 0; j+1 < len(p); j++ {
			if lab[p[j]] == lab[p[j+1]] {
				next[start+int(p[j])] = p[j+1]
			}
		}
		off += int(l)
	}
}

// maxLabel is the largest label of the targets in use (-1 without any);
// S is as for fill.
func (h *ctcHost) maxLabel(S int) int {
	m, off := -1, 0
	for i, l := range h.tlens {
		start := off
		if S > 0 {
			start = i * S
		}
		for _, c := range h.targets[start : start+int(l)] {
			m = max(m, int(c))
		}
		off += int(l)
	}
	return m
}

// ctcNoFrames computes a call with T = 0 (every input length 0) on the
// host, without workspace: an empty target has probability 1 (loss 0,
// log-likelihood 0), any other none (loss +Inf, 0 with zero_infinity;
// log-likelihood −Inf). The gradient has no elements. Nothing is launched
// or allocated per class, however large C is.
func ctcNoFrames(dev device.Device, b ctcBuffers, opt CTCLossOptions, h *ctcHost) error {
	N := b.N
	loss, ll := make([]float64, N), make([]float64, N)
	var total float64
	for n, l := range h.tlens {
		if l > 0 {
			ll[n], loss[n] = math.Inf(-1), math.Inf(1)
			if opt.ZeroInfinity {
				loss[n] = 0
			}
		}
		if opt.Reduction == Mean {
			total += loss[n] / float64(max(l, 1))
		} else {
			total += loss[n]
		}
	}
	out := loss
	switch opt.Reduction {
	case Mean:
		out = []float64{total / float64(N)}
	case Sum:
		out = []float64{total}
	}
	for _, p := range []struct {
		b device.Buffer
		v []float64
	}{{b.Loss, out}, {b.LogLikelihood, ll}, {b.LogLikelihoodBeta, ll}} {
		if p.b == nil {
			continue
		}
		if err := writeFloats(dev, p.b, p.v); err != nil {
			return fmt.Errorf("losses: %s: %w", ctcName, err)
		}
	}
	return nil
}

func validateCTCOptions(opt CTCLossOptions, c int) error {
	if !opt.Reduction.valid() {
		return argErr(ctcName, "reduction", "unknown reduction %d", int(opt.Reduction))
	}
	if opt.Blank < 0 || opt.Blank >= c {
		return argErr(ctcName, "blank", "%d is out of range [0, C) = [0, %d)", opt.Blank, c)
	}
	if opt.GradMode != CTCGradExact && opt.GradMode != CTCGradPyTorch {
		return argErr(ctcName, "grad_mode", "unknown gradient mode %d", int(opt.GradMode))
	}
	return nil
}

func validateCTCSizes(T, N, C, S int) error {
	for _, p := range []struct {
		n string
		v int
	}{{"T", T}, {"N", N}, {"C", C}, {"targets_padded", S}} {
		if err := checkSize(ctcName, p.n, p.v); err != nil {
			return err
		}
	}
	if C == 0 {
		return argErr(ctcName, "log_probs", "C (number of classes) must be at least 1")
	}
	if v := int64(T) * int64(N) * int64(C); v > maxInt32 {
		return argErr(ctcName, "log_probs", "T·N·C = %d exceeds the int32 range of the kernels", v)
	}
	if v := int64(N) * int64(S); v > maxInt32 {
		return argErr(ctcName, "targets", "N·S = %d exceeds the int32 range of the kernels", v)
	}
	return nil
}

func validateCTCBuffers(dev device.Device, b ctcBuffers, opt CTCLossOptions) (device.DType, error) {
	if err := validateCTCSizes(b.T, b.N, b.C, b.TargetsPadded); err != nil {
		return 0, err
	}
	if b.Input == nil {
		return 0, argErr(ctcName, "log_probs", "buffer is nil")
	}
	ft := b.Input.DType()
	if !ft.IsFloat() {
		return 0, argErr(ctcName, "log_probs", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return 0, argErr(ctcName, "log_probs", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	n, tnc := b.N, b.T*b.N*b.C
	nLoss := 1
	if opt.Reduction == None {
		nLoss = n
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		dt  device.DType
		n   int
		opt bool
	}{{"log_probs", b.Input, ft, tnc, false}, {"targets", b.Targets, device.Int32, n * b.TargetsPadded, false},
		{"input_lengths", b.InputLengths, device.Int32, n, false}, {"target_lengths", b.TargetLengths, device.Int32, n, false},
		{"loss", b.Loss, ft, nLoss, false}, {"grad_log_probs", b.Grad, ft, tnc, true},
		{"log_likelihood", b.LogLikelihood, ft, n, true}, {"log_likelihood_beta", b.LogLikelihoodBeta, ft, n, true}} {
		if err := checkBuf(ctcName, c.arg, dev, c.b, c.dt, c.n, c.opt); err != nil {
			return 0, err
		}
	}
	if b.Grad != nil && b.Grad == b.Input {
		return 0, argErr(ctcName, "grad_log_probs", "must not be the log_probs buffer (the kernels read the input while they write the gradient)")
	}
	return ft, validateCTCOptions(opt, b.C)
}

// check checks a caller's workspace against the needs of a call; nClass
// is the length class_ws needs (N·C with a gradient over frames, else 1).
func (w *CTCWorkspace) check(dev device.Device, ft device.DType, T, N, nClass, sMax, nTargets int, logits, rows, ll, llb bool) error {
	for _, c := range []struct {
		name string
		b    device.Buffer
		dt   device.DType
		n    int
		need bool
	}{{"workspace.alpha", w.Alpha, ft, N * T * sMax, true}, {"workspace.class_ws", w.ClassWS, ft, nClass, true},
		{"workspace.state_ws", w.StateWS, ft, 3 * N * sMax, true}, {"workspace.lse", w.LSE, ft, T * N, logits},
		{"workspace.loss_rows", w.LossRows, ft, N, rows}, {"workspace.loglik", w.LogLik, ft, N, ll},
		{"workspace.loglik_beta", w.LogLikBeta, ft, N, llb},
		{"workspace.offsets", w.Offsets, device.Int32, N, true}, {"workspace.next", w.Next, device.Int32, nTargets, true}} {
		if !c.need {
			continue
		}
		if err := checkBuf(ctcName, c.name, dev, c.b, c.dt, max(c.n, 1), false); err != nil {
			return err
		}
	}
	return nil
}

func setArgI(a []any, i int, v int32) {
	if cur, ok := a[i].(int32); !ok || cur != v {
		a[i] = v
	}
}

func setArgF(a []any, i int, v float64) {
	if cur, ok := a[i].(float64); !ok || cur != v {
		a[i] = v
	}
}

// argFill fills a launch's argument list in order. Scalars are boxed only
// when they differ from what the slot holds, so a call with the same
// shapes as the previous one allocates nothing.
type argFill struct {
	a []any
	i int
}

func (f *argFill) buf(b device.Buffer) *argFill { f.a[f.i] = b; f.i++; return f }
func (f *argFill) i32(v int32) *argFill         { setArgI(f.a, f.i, v); f.i++; return f }
func (f *argFill) real(v float64) *argFill      { setArgF(f.a, f.i, v); f.i++; return f }

// ctcRun launches a validated call. h holds the validated host data.
func ctcRun(dev device.Device, ft device.DType, b ctcBuffers, opt CTCLossOptions, h *ctcHost, ws *CTCWorkspace, temp bool) (err error) {
	T, N, C := b.T, b.N, b.C
	if T == 0 && N > 0 {
		return ctcNoFrames(dev, b, opt, h)
	}
	// class_ws [N, C] serves the gradient rows only: with no frame (T = 0)
	// the gradient is empty, and a call with no gradient to write takes
	// neither the workspace nor a pass over the C classes, which the
	// (empty) input does not bound.
	hasGrad := b.Grad != nil && T > 0
	nClass := 1
	if hasGrad {
		nClass = N * C
	}
	rows := opt.Reduction != None
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	if temp {
		get := func(dt device.DType, n int) (device.Buffer, error) {
			x, err := pool.get(dev, dt, n)
			if err == nil {
				tmp = append(tmp, x)
			}
			return x, err
		}
		parts := []struct {
			p    *device.Buffer
			dt   device.DType
			n    int
			need bool
		}{{&ws.Alpha, ft, N * T * h.sMax, true}, {&ws.ClassWS, ft, nClass, true}, {&ws.StateWS, ft, 3 * N * h.sMax, true},
			{&ws.LSE, ft, T * N, opt.Logits}, {&ws.LossRows, ft, N, rows}, {&ws.LogLik, ft, N, b.LogLikelihood == nil},
			{&ws.LogLikBeta, ft, N, b.LogLikelihoodBeta == nil}, {&ws.Offsets, device.Int32, N, true},
			{&ws.Next, device.Int32, h.nTargets, true}}
		var bytes int64
		for _, p := range parts {
			if p.need {
				bytes += int64(max(p.n, 1)) * int64(p.dt.Size())
			}
		}
		if err := checkWorkspace(dev, ctcName, bytes); err != nil {
			return err
		}
		for _, p := range parts {
			if !p.need {
				continue
			}
			if *p.p, err = get(p.dt, p.n); err != nil {
				return err
			}
		}
	} else if err := ws.check(dev, ft, T, N, nClass, h.sMax, h.nTargets, opt.Logits, rows,
		b.LogLikelihood == nil, b.LogLikelihoodBeta == nil); err != nil {
		return err
	}

	// target_offsets and target_next, computed on the host.
	pos := grow(&ws.pos, (h.sMax-1)/2) // the longest target
	offs, ok1 := hostInts(ws.Offsets)
	next, ok2 := hostInts(ws.Next)
	if ok1 && ok2 {
		h.fill(offs[:N], next[:h.nTargets], pos, b.TargetsPadded)
	} else {
		buf := grow(&ws.hostFill, N+h.nTargets)
		offs, next := buf[:N], buf[N:]
		h.fill(offs, next, pos, b.TargetsPadded)
		if N > 0 {
			if err := dev.Write(ws.Offsets, offs); err != nil {
				return fmt.Errorf("losses: %s: workspace: %w", ctcName, err)
			}
		}
		if h.nTargets > 0 {
			if err := dev.Write(ws.Next, next); err != nil {
				return fmt.Errorf("losses: %s: workspace: %w", ctcName, err)
			}
		}
	}
	if N == 0 {
		if rows {
			return ctcReduce(dev, ws, b, opt, N)
		}
		return nil
	}

	strideT, strideN := N*C, C
	if opt.BatchFirst {
		strideT, strideN = C, T*C
	}
	lse := ws.LSE
	if opt.Logits {
		if T > 0 {
			if ws.argLSE == nil {
				ws.argLSE = make([]any, 5)
			}
			f := argFill{a: ws.argLSE}
			f.buf(b.Input).i32(int32(T * N)).i32(int32(C)).real(1).buf(ws.LSE)
			if err := dev.Launch("logsumexp_rows", rowGrid(T*N), ws.argLSE...); err != nil {
				return err
			}
		}
	} else {
		lse = b.Input // not read
	}
	loglik, loglikB := b.LogLikelihood, b.LogLikelihoodBeta
	if loglik == nil {
		loglik = ws.LogLik
	}
	if loglikB == nil {
		loglikB = ws.LogLikBeta
	}
	lossRows := b.Loss
	if rows {
		lossRows = ws.LossRows
	}
	grad := b.Grad
	if grad == nil {
		grad = ws.StateWS // not written
	}
	mode := kernelspec.CTCGradExact
	if opt.Logits || opt.GradMode == CTCGradPyTorch {
		mode = kernelspec.CTCGradSoftmax
	}
	if ws.argA == nil {
		ws.argA, ws.argB = make([]any, 17), make([]any, 26)
	}
	g := device.Grid{Blocks: N, Threads: kernelspec.BlockSize}
	fa := argFill{a: ws.argA}
	fa.buf(b.Input).buf(lse).i32(int32(T)).i32(int32(N)).i32(int32(C)).i32(int32(strideT)).i32(int32(strideN)).i32(b2i(opt.Logits)).
		buf(b.Targets).buf(ws.Offsets).buf(b.TargetLengths).buf(b.InputLengths).i32(int32(opt.Blank)).i32(int32(h.sMax)).
		buf(ws.Alpha).buf(loglik).buf(ws.StateWS)
	if err := dev.Launch("ctc_alpha", g, ws.argA...); err != nil {
		return err
	}
	fb := argFill{a: ws.argB}
	fb.buf(b.Input).buf(lse).i32(int32(T)).i32(int32(N)).i32(int32(C)).i32(int32(strideT)).i32(int32(strideN)).i32(b2i(opt.Logits)).
		buf(b.Targets).buf(ws.Offsets).buf(b.TargetLengths).buf(b.InputLengths).buf(ws.Next).i32(int32(opt.Blank)).i32(int32(h.sMax)).
		buf(ws.Alpha).buf(loglik).i32(int32(opt.Reduction)).i32(b2i(opt.ZeroInfinity)).i32(mode).i32(b2i(hasGrad)).
		buf(grad).buf(ws.ClassWS).buf(ws.StateWS).buf(lossRows).buf(loglikB)
	if err := dev.Launch("ctc_beta_grad", g, ws.argB...); err != nil {
		return err
	}
	if rows {
		return ctcReduce(dev, ws, b, opt, N)
	}
	return nil
}

func ctcReduce(dev device.Device, ws *CTCWorkspace, b ctcBuffers, opt CTCLossOptions, n int) error {
	scale := 1.0
	if opt.Reduction == Mean {
		scale = 1 / float64(n) // +Inf for N = 0: the mean of nothing is NaN
	}
	if ws.argR == nil {
		ws.argR = make([]any, 6)
	}
	f := argFill{a: ws.argR}
	f.buf(ws.LossRows).i32(int32(n)).real(scale).i32(0).buf(ws.LossRows).buf(b.Loss)
	return dev.Launch("reduce_sum", oneBlock, ws.argR...)
}

// UnmarshalText parses exact or pytorch.
func (m *CTCGradMode) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "", "exact":
		*m = CTCGradExact
	case "pytorch":
		*m = CTCGradPyTorch
	default:
		return fmt.Errorf("%q is not one of exact, pytorch", string(b))
	}
	return nil
}

// MarshalText writes exact or pytorch.
func (m CTCGradMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// CTCLossArgs are the tensors of CTCLoss.
type CTCLossArgs struct {
	// LogProbs is [T, N, C] ([N, T, C] with BatchFirst): log-probabilities,
	// or raw scores with CTCLossOptions.Logits.
	LogProbs Tensor `loss:"log_probs,in"`
	// Targets (int32, no label equal to the blank) are padded [N, S]
	// (sequence n's labels are row n's first target_lengths[n]) or
	// concatenated 1-D (Σ target_lengths labels), as PyTorch decides by
	// shape.
	Targets       Tensor `loss:"targets,in,int32"`
	InputLengths  Tensor `loss:"input_lengths,in,int32"`  // [N], each in [0, T]
	TargetLengths Tensor `loss:"target_lengths,in,int32"` // [N], each >= 0 (<= S when padded)
	Loss          Tensor `loss:"loss,out"`                // one element, or [N] with reduction None
	// GradLogProbs receives d loss / d LogProbs, its shape (see
	// CTCGradMode); it must not be LogProbs.
	GradLogProbs Tensor `loss:"grad_log_probs,grad"`
	// LogLikelihood and LogLikelihoodBeta [N] receive log p(target_n |
	// input_n) from the forward and from the backward recursion.
	LogLikelihood     Tensor `loss:"log_likelihood,out,optional"`
	LogLikelihoodBeta Tensor `loss:"log_likelihood_beta,out,optional"`
	// Workspace, if not nil, is used instead of temporary buffers from the
	// per-device pool (see NewCTCWorkspace).
	Workspace *CTCWorkspace
}

// CTCLoss computes torch.nn.functional.ctc_loss: per sequence, −log of
// the total probability of the alignments of its target to its input
// frames, in log space throughout, and its gradient (see CTCGradMode and
// CTCLossOptions.Logits). A target that cannot fit gives +Inf (0 with
// ZeroInfinity) and a zero gradient, never NaN. Launches
// [logsumexp_rows] → ctc_alpha → ctc_beta_grad → reduce_sum. The lengths
// and targets are read back to validate them and build the offsets and
// links; on the host device they are read in place.
func CTCLoss(dev device.Device, a CTCLossArgs, opt CTCLossOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(ctcName, "device", "is nil")
	}
	s := stage{dev: dev, loss: ctcName}
	return s.finish(ctcStaged(&s, a, opt))
}

func ctcStaged(s *stage, a CTCLossArgs, opt CTCLossOptions) error {
	if !a.LogProbs.Present() {
		return argErr(ctcName, "log_probs", "buffer is nil")
	}
	if len(a.LogProbs.Shape) != 3 {
		layout := "[T, N, C]"
		if opt.BatchFirst {
			layout = "[N, T, C]"
		}
		return argErr(ctcName, "log_probs", "has shape %v: want %s", a.LogProbs.Shape, layout)
	}
	b := ctcBuffers{T: a.LogProbs.Shape[0], N: a.LogProbs.Shape[1], C: a.LogProbs.Shape[2], Workspace: a.Workspace}
	if opt.BatchFirst {
		b.T, b.N = b.N, b.T
	}
	n := b.N
	switch len(a.Targets.Shape) {
	case 1:
	case 2:
		if a.Targets.Shape[0] != n {
			return argErr(ctcName, "targets", "has shape %v: padded targets want [N, S] with N = %d", a.Targets.Shape, n)
		}
		b.TargetsPadded = a.Targets.Shape[1] // S = 0 (every target empty): as concatenated
	default:
		return argErr(ctcName, "targets", "has shape %v: want [N, S] (padded) or 1-D (concatenated)", a.Targets.Shape)
	}
	if a.InputLengths.Present() && a.InputLengths.Len() != n {
		return argErr(ctcName, "input_lengths", "has shape %v: want [N] = [%d]", a.InputLengths.Shape, n)
	}
	if a.TargetLengths.Present() && a.TargetLengths.Len() != n {
		return argErr(ctcName, "target_lengths", "has shape %v: want [N] = [%d]", a.TargetLengths.Shape, n)
	}
	if err := checkLoss(ctcName, a.Loss, opt.Reduction, n); err != nil {
		return err
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"log_likelihood", a.LogLikelihood}, {"log_likelihood_beta", a.LogLikelihoodBeta}} {
		if t.t.Present() && (len(t.t.Shape) != 1 || t.t.Shape[0] != n) {
			return argErr(ctcName, t.arg, "has shape %v: want [N] = [%d]", t.t.Shape, n)
		}
	}
	if a.GradLogProbs.Present() && !sameShape(a.GradLogProbs.Shape, a.LogProbs.Shape) {
		return argErr(ctcName, "grad_log_probs", "has shape %v, want %v", a.GradLogProbs.Shape, a.LogProbs.Shape)
	}
	var err error
	if b.Input, err = s.buf("log_probs", a.LogProbs, false); err != nil {
		return err
	}
	if b.Targets, err = s.buf("targets", a.Targets, false); err != nil {
		return err
	}
	if b.InputLengths, err = s.buf("input_lengths", a.InputLengths, false); err != nil {
		return err
	}
	if b.TargetLengths, err = s.buf("target_lengths", a.TargetLengths, false); err != nil {
		return err
	}
	if b.Loss, err = s.buf("loss", a.Loss, true); err != nil {
		return err
	}
	if b.Grad, err = s.buf("grad_log_probs", a.GradLogProbs, true); err != nil {
		return err
	}
	if b.LogLikelihood, err = s.buf("log_likelihood", a.LogLikelihood, true); err != nil {
		return err
	}
	if b.LogLikelihoodBeta, err = s.buf("log_likelihood_beta", a.LogLikelihoodBeta, true); err != nil {
		return err
	}
	return ctcLossBuf(s.dev, b, opt)
}

func init() {
	register("ctc_loss", "CTCLoss", CTCLoss,
		func(a CTCLossArgs, o CTCLossOptions) map[string][]int {
			var n []int
			if len(a.LogProbs.Shape) == 3 {
				n = a.LogProbs.Shape[1:2]
				if o.BatchFirst {
					n = a.LogProbs.Shape[:1]
				}
			}
			return map[string][]int{"loss": lossShape(o.Reduction, n), "log_likelihood": n, "log_likelihood_beta": n}
		},
		"logsumexp_rows", "ctc_alpha", "ctc_beta_grad", "reduce_sum")
}
