package kernelspec

import (
	"fmt"
	"sort"
)

// BlockSize is the number of threads per block every kernel is written for.
const BlockSize = 256

// MaxReduceBlocks caps the number of blocks of a grid-stride kernel that
// writes one partial sum per block; reduce_sum then adds the partials in one
// block.
const MaxReduceBlocks = 1024

// ArgKind is the kind of a kernel argument.
type ArgKind int

const (
	// FloatBuf is a buffer of the kernel's float type (float32 on
	// accelerators; float32 or float64 on the host).
	FloatBuf ArgKind = iota
	// IntBuf is an int32 buffer.
	IntBuf
	// Int is an int32 scalar, passed as Go int32.
	Int
	// Real is a float scalar, passed as Go float64 and converted to the
	// kernel's float type.
	Real
)

func (k ArgKind) String() string {
	return [...]string{"float buffer", "int32 buffer", "int32", "real"}[k]
}

// Arg is one kernel parameter.
type Arg struct {
	Name string
	Kind ArgKind
}

// Kernel is one manifest entry.
type Kernel struct {
	Name   string
	Family string // base name of the .cu, .cl and host .go files
	Args   []Arg
	// Grid says how a caller must size the launch.
	Grid string
}

func buf(n string) Arg  { return Arg{n, FloatBuf} }
func ibuf(n string) Arg { return Arg{n, IntBuf} }
func i32(n string) Arg  { return Arg{n, Int} }
func real(n string) Arg { return Arg{n, Real} }

// Manifest lists every kernel. The doc comment of each host mirror states
// exactly what the kernel computes.
var Manifest = []Kernel{
	// softmax family: row-wise over a [rows, cols] matrix, x scaled by inv_tau.
	{Name: "logsumexp_rows", Family: "softmax", Grid: "rows blocks",
		Args: []Arg{buf("x"), i32("rows"), i32("cols"), real("inv_tau"), buf("lse")}},
	{Name: "logsumexp_backward_rows", Family: "softmax", Grid: "rows blocks",
		Args: []Arg{buf("x"), buf("lse"), buf("dlse"), i32("rows"), i32("cols"), real("inv_tau"), buf("dx")}},
	{Name: "softmax_rows", Family: "softmax", Grid: "rows blocks",
		Args: []Arg{buf("x"), i32("rows"), i32("cols"), real("inv_tau"), i32("log_out"), buf("y")}},
	{Name: "softmax_backward_rows", Family: "softmax", Grid: "rows blocks",
		Args: []Arg{buf("y"), buf("dy"), i32("rows"), i32("cols"), real("inv_tau"), i32("log_out"), buf("dx")}},

	// cross_entropy family.
	{Name: "cross_entropy_weight_sum", Family: "cross_entropy", Grid: "1 block",
		Args: []Arg{ibuf("target"), buf("weight"), i32("n"), i32("c"), i32("has_weight"), i32("ignore_index"), i32("reduction"), buf("denom")}},
	{Name: "cross_entropy_rows", Family: "cross_entropy", Grid: "n blocks",
		Args: []Arg{buf("x"), ibuf("target"), buf("weight"), i32("n"), i32("c"), i32("has_weight"),
			i32("ignore_index"), real("label_smoothing"), buf("denom"), i32("has_grad"), buf("grad"),
			buf("loss_rows"), i32("has_lse"), buf("lse")}},

	// rowloss family: row-wise losses over [n, c], one block per row (see
	// host/rowloss.go); the softmax-based ones find each row's max and sum
	// themselves, denom comes from cross_entropy_weight_sum, and reduce_sum
	// reduces loss_rows.
	{Name: "cross_entropy_prob_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), buf("y"), buf("weight"), i32("n"), i32("c"), i32("has_weight"),
			real("label_smoothing"), real("grad_scale"), i32("has_grad"), buf("grad"), i32("has_grad_target"),
			buf("grad_target"), buf("loss_rows")}},
	{Name: "nll_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), ibuf("target"), buf("weight"), i32("n"), i32("c"), i32("has_weight"),
			i32("ignore_index"), buf("denom"), i32("has_grad"), buf("grad"), buf("loss_rows")}},
	{Name: "focal_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), ibuf("target"), buf("alpha"), i32("n"), i32("c"), i32("has_alpha"),
			i32("ignore_index"), real("gamma"), buf("denom"), i32("has_grad"), buf("grad"), buf("loss_rows")}},
	{Name: "multi_margin_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), ibuf("target"), buf("weight"), i32("n"), i32("c"), i32("has_weight"), i32("p"),
			real("margin"), real("grad_scale"), i32("has_grad"), buf("grad"), buf("loss_rows")}},
	{Name: "categorical_hinge_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), buf("y"), i32("n"), i32("c"), real("grad_scale"), i32("has_grad"), buf("grad"),
			buf("loss_rows")}},
	{Name: "distill_kl_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("s"), buf("t"), i32("n"), i32("c"), real("inv_tau"),
			real("loss_scale"), real("grad_scale"), i32("has_grad"), buf("grad"), buf("loss_rows")}},
	{Name: "poly_cross_entropy_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("x"), buf("y"), i32("n"), i32("c"), real("epsilon"), real("grad_scale"),
			i32("has_grad"), buf("grad"), i32("has_grad_target"), buf("grad_target"), buf("loss_rows")}},

	// pointwise family: elementwise losses with a per-block partial sum.
	{Name: "pointwise_loss", Family: "pointwise", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Args: []Arg{i32("op"), buf("input"), buf("target"), buf("aux"), buf("weight"), ibuf("mask"), i32("n"),
			real("p0"), real("p1"), real("p2"), i32("aux_len"), i32("aux_stride"), i32("w_len"), i32("w_stride"),
			i32("m_len"), i32("m_stride"), real("grad_scale"), buf("denom"), i32("flags"),
			buf("grad_input"), buf("grad_target"), buf("grad_aux"), buf("out")}},
	{Name: "mask_count", Family: "pointwise", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Args: []Arg{ibuf("mask"), i32("n"), i32("m_len"), i32("m_stride"), buf("out")}},
	{Name: "broadcast_sum", Family: "pointwise", Grid: "len blocks",
		Args: []Arg{buf("x"), i32("n"), i32("len"), i32("stride"), buf("out")}},

	// ctc family: the CTC forward-backward dynamic program, one block per
	// sequence (see host/ctc.go for the exact semantics).
	{Name: "ctc_alpha", Family: "ctc", Grid: "N blocks",
		Args: []Arg{buf("x"), buf("lse"), i32("T"), i32("N"), i32("C"), i32("stride_t"), i32("stride_n"), i32("has_lse"),
			ibuf("targets"), ibuf("target_offsets"), ibuf("target_lengths"), ibuf("input_lengths"), i32("blank"),
			i32("s_max"), buf("alpha"), buf("loglik"), buf("state_ws")}},
	{Name: "ctc_beta_grad", Family: "ctc", Grid: "N blocks",
		Args: []Arg{buf("x"), buf("lse"), i32("T"), i32("N"), i32("C"), i32("stride_t"), i32("stride_n"), i32("has_lse"),
			ibuf("targets"), ibuf("target_offsets"), ibuf("target_lengths"), ibuf("input_lengths"), ibuf("target_next"),
			i32("blank"), i32("s_max"), buf("alpha"), buf("loglik"), i32("reduction"), i32("zero_infinity"),
			i32("grad_mode"), i32("has_grad"), buf("grad"), buf("class_ws"), buf("state_ws"), buf("loss_rows"),
			buf("loglik_beta")}},

	{Name: "scale_rows", Family: "rowloss", Grid: "n blocks",
		Args: []Arg{buf("loss_rows"), buf("grad"), buf("grad_target"), i32("n"), i32("c"), buf("sample_weight"),
			ibuf("mask"), i32("flags"), real("num"), buf("denom")}},
	{Name: "mask_targets", Family: "rowloss", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Args: []Arg{ibuf("target"), ibuf("mask"), i32("n"), i32("ignore_index"), ibuf("out")}},

	// reduce family: deterministic sums and checks.
	{Name: "reduce_sum", Family: "reduce", Grid: "1 block",
		Args: []Arg{buf("x"), i32("n"), real("scale"), i32("has_divisor"), buf("divisor"), buf("out")}},
	{Name: "count_nan", Family: "reduce", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Args: []Arg{buf("x"), i32("n"), ibuf("counts")}},
	{Name: "count_invalid", Family: "reduce", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Args: []Arg{buf("x"), i32("n"), i32("mode"), real("lo"), real("hi"), ibuf("counts")}},
}

// Pointwise loss ops (the op argument of pointwise_loss).
const (
	OpMSE            int32 = 0
	OpL1             int32 = 1
	OpHuber          int32 = 2 // p0 = delta
	OpSmoothL1       int32 = 3 // p0 = beta
	OpLogCosh        int32 = 4
	OpMAPE           int32 = 5 // p0 = epsilon
	OpMSLE           int32 = 6 // p0 = epsilon
	OpBCE            int32 = 7
	OpBCEWithLogits  int32 = 8  // aux = pos_weight
	OpSigmoidFocal   int32 = 9  // p0 = alpha (< 0: none), p1 = gamma
	OpHingeEmbedding int32 = 10 // p0 = margin
	OpSoftMargin     int32 = 11
	OpHinge          int32 = 12
	OpSquaredHinge   int32 = 13
	OpKLDiv          int32 = 14 // p0 = log_target
	OpPoissonNLL     int32 = 15 // p0 = log_input, p1 = full, p2 = eps
	OpGaussianNLL    int32 = 16 // aux = var, p0 = full, p1 = eps
)

// count_invalid modes.
const (
	InvalidOutside int32 = 0 // x < lo or x > hi
	InvalidNotSign int32 = 1 // x is neither -1 nor 1
)

// scale_rows flag bits.
const (
	RowsWeight     int32 = 1  // multiply by sample_weight[i]
	RowsMask       int32 = 2  // zero the rows whose mask is 0
	RowsGrad       int32 = 4  // scale grad
	RowsGradTarget int32 = 8  // scale grad_target
	RowsDenom      int32 = 16 // the gradient factor is num / denom[0]
)

// pointwise_loss flag bits.
const (
	FlagGradInput  int32 = 1   // write grad_input
	FlagGradTarget int32 = 2   // write grad_target
	FlagReduce     int32 = 4   // out gets one partial sum per block; otherwise out[i] is element i's loss
	FlagWeight     int32 = 8   // multiply by weight (broadcast)
	FlagMask       int32 = 16  // zero the elements whose mask is 0
	FlagAux        int32 = 32  // read aux (broadcast); otherwise a = 1
	FlagGradAux    int32 = 64  // write grad_aux (per element)
	FlagDenom      int32 = 128 // divide grad_scale by denom[0]
)

// CTC gradient modes (the grad_mode argument of ctc_beta_grad).
const (
	// CTCGradExact is the exact partial derivative of the loss w.r.t. each
	// log-probability, with no renormalisation assumed.
	CTCGradExact int32 = 0
	// CTCGradSoftmax is softmax(lp) minus the occupation probability: the
	// gradient w.r.t. the logits when softmax is folded in (has_lse), and
	// PyTorch's convention for log_probs input.
	CTCGradSoftmax int32 = 1
)

// Reduction codes passed to kernels (match losses.Reduction).
const (
	ReductionMean int32 = 0
	ReductionSum  int32 = 1
	ReductionNone int32 = 2
)

var byName = func() map[string]*Kernel {
	m := map[string]*Kernel{}
	for i := range Manifest {
		m[Manifest[i].Name] = &Manifest[i]
	}
	return m
}()

// Lookup returns the manifest entry for name.
func Lookup(name string) (*Kernel, bool) {
	k, ok := byName[name]
	return k, ok
}

// Names returns all kernel names, sorted.
func Names() []string {
	var out []string
	for _, k := range Manifest {
		out = append(out, k.Name)
	}
	sort.Strings(out)
	return out
}

// Families returns the family base names, sorted.
func Families() []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range Manifest {
		if !seen[k.Family] {
			seen[k.Family] = true
			out = append(out, k.Family)
		}
	}
	sort.Strings(out)
	return out
}

// BufferArg is implemented by device buffers; it is declared here so that
// the manifest check does not import package device.
type BufferArg interface {
	Len() int
}

// CheckArgs checks args against the manifest entry for name: the count, and
// each argument's Go type (a buffer for buffer kinds, int32 for Int, float64
// for Real). isInt reports whether a buffer holds int32.
func CheckArgs(name string, args []any, isInt func(any) (isBuf, isIntBuf bool)) (*Kernel, error) {
	k, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("kernels: unknown kernel %q", name)
	}
	if len(args) != len(k.Args) {
		return nil, fmt.Errorf("kernels: %s takes %d arguments, got %d", name, len(k.Args), len(args))
	}
	for i, a := range k.Args {
		v := args[i]
		switch a.Kind {
		case FloatBuf, IntBuf:
			isBuf, isIntBuf := isInt(v)
			if !isBuf {
				return nil, fmt.Errorf("kernels: %s argument %d (%s) must be a buffer, got %T", name, i, a.Name, v)
			}
			if (a.Kind == IntBuf) != isIntBuf {
				return nil, fmt.Errorf("kernels: %s argument %d (%s) must be a %s", name, i, a.Name, a.Kind)
			}
		case Int:
			if _, ok := v.(int32); !ok {
				return nil, fmt.Errorf("kernels: %s argument %d (%s) must be int32, got %T", name, i, a.Name, v)
			}
		case Real:
			if _, ok := v.(float64); !ok {
				return nil, fmt.Errorf("kernels: %s argument %d (%s) must be float64, got %T", name, i, a.Name, v)
			}
		}
	}
	return k, nil
}
