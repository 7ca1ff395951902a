package kernelspec

import (
	"fmt"
	"slices"
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
	// Need is a buffer's size rule (see the package documentation); nil
	// for scalars, and for a buffer the kernel indexes by values it reads
	// from device memory, which Unchecked then explains.
	Need      *Need
	Unchecked string
}

// Kernel is one manifest entry.
type Kernel struct {
	Name   string
	Family string // base name of the .cu, .cl and host .go files
	Args   []Arg
	// Grid says how a caller must size the launch.
	Grid string
	// Sizes are the int32 arguments that count or space elements (rows,
	// columns, lengths, strides): a launch with one of them negative is
	// refused.
	Sizes []string
	// Requires are the other conditions on the int32 arguments that the
	// kernel relies on to stay within its buffers.
	Requires []Cond

	sizeAt []int // positions of Sizes
	needAt []int // positions of the buffer arguments with a Need
}

func buf(n string, need *Need) Arg  { return Arg{Name: n, Kind: FloatBuf, Need: need} }
func ibuf(n string, need *Need) Arg { return Arg{Name: n, Kind: IntBuf, Need: need} }
func i32(n string) Arg              { return Arg{Name: n, Kind: Int} }
func real(n string) Arg             { return Arg{Name: n, Kind: Real} }

// devIndexed is an int32 buffer that a kernel indexes by values it reads
// from another buffer, so that a launch cannot check its size.
func devIndexed(n, why string) Arg { return Arg{Name: n, Kind: IntBuf, Unchecked: why} }

// sizes lists a kernel's size arguments (Kernel.Sizes).
func sizes(names ...string) []string { return names }

// ctcTargets is why a launch leaves the CTC targets unchecked.
const ctcTargets = "read at target_offsets[n] + j for j < target_lengths[n], values in device memory; " +
	"package losses checks them on the host before it launches"

// Manifest lists every kernel. The doc comment of each host mirror states
// exactly what the kernel computes; the size rules are those of the kernel
// bodies (kernels/src/<family>.h) and of the mirrors together. The kernels
// of the first families are listed below; each later family lists its own
// in manifest_<family>.go.
var Manifest = slices.Concat(coreKernels, diceKernels, lovaszKernels, boundaryKernels, boxKernels, ssimKernels,
	tvKernels, gramKernels, pairwiseKernels, contrastiveKernels, miningKernels, ganKernels,
	multitaskKernels, softmetricKernels, policyKernels, returnsKernels, sacKernels, clipKernels, matmulKernels,
	distillKernels, vocabparallelKernels)

// coreKernels are the kernels of the softmax, cross_entropy, rowloss,
// pointwise, ctc and reduce families.
var coreKernels = []Kernel{
	// softmax family: row-wise over a [rows, cols] matrix, x scaled by
	// inv_tau. Block r >= rows reads and writes nothing.
	{Name: "logsumexp_rows", Family: "softmax", Grid: "rows blocks", Sizes: sizes("rows", "cols"),
		Args: []Arg{buf("x", elems("rows", "cols")), i32("rows"), i32("cols"), real("inv_tau"), buf("lse", elems("rows"))}},
	{Name: "logsumexp_backward_rows", Family: "softmax", Grid: "rows blocks", Sizes: sizes("rows", "cols"),
		Args: []Arg{buf("x", elems("rows", "cols")), buf("lse", elems("rows")), buf("dlse", elems("rows")), i32("rows"),
			i32("cols"), real("inv_tau"), buf("dx", elems("rows", "cols"))}},
	{Name: "softmax_rows", Family: "softmax", Grid: "rows blocks", Sizes: sizes("rows", "cols"),
		Args: []Arg{buf("x", elems("rows", "cols")), i32("rows"), i32("cols"), real("inv_tau"), i32("log_out"),
			buf("y", elems("rows", "cols"))}},
	// y is read with log_out too (exp(y) in the gradient).
	{Name: "softmax_backward_rows", Family: "softmax", Grid: "rows blocks", Sizes: sizes("rows", "cols"),
		Args: []Arg{buf("y", elems("rows", "cols")), buf("dy", elems("rows", "cols")), i32("rows"), i32("cols"),
			real("inv_tau"), i32("log_out"), buf("dx", elems("rows", "cols"))}},

	// cross_entropy family. Weights are read at target values, which the
	// kernels and mirrors use only inside [0, c): weight needs c.
	{Name: "cross_entropy_weight_sum", Family: "cross_entropy", Grid: "1 block", Sizes: sizes("n", "c"),
		Args: []Arg{ibuf("target", elems("n")), buf("weight", elems("c").when("has_weight")), i32("n"), i32("c"),
			i32("has_weight"), i32("ignore_index"), i32("reduction"), buf("denom", elems("2"))}},
	{Name: "cross_entropy_rows", Family: "cross_entropy", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), ibuf("target", elems("n")), buf("weight", elems("c").when("has_weight")),
			i32("n"), i32("c"), i32("has_weight"), i32("ignore_index"), real("label_smoothing"),
			buf("denom", elems("2").when("has_grad")), i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")),
			buf("loss_rows", elems("n")), i32("has_lse"), buf("lse", elems("n").when("has_lse"))}},
	// cross_entropy_rows_ext reads denom and zdenom for the loss too (the
	// z-loss divisor ratio), with or without the gradient; x and grad are
	// a chunk of n rows, the per-row buffers are indexed from row0.
	{Name: "cross_entropy_rows_ext", Family: "cross_entropy", Grid: "n blocks", Sizes: sizes("n", "c", "row0"),
		Args: []Arg{buf("x", elems("n", "c")), ibuf("target", plus("row0", "n")), buf("weight", elems("c").when("has_weight")),
			i32("n"), i32("c"), i32("has_weight"), i32("ignore_index"), real("label_smoothing"),
			buf("denom", elems("2")), i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")),
			buf("loss_rows", plus("row0", "n")), i32("has_lse"), buf("lse", plus("row0", "n").when("has_lse")),
			real("softcap"), real("z_loss"), buf("zdenom", elems("2")), i32("has_z"), buf("z_rows", plus("row0", "n").when("has_z")),
			i32("has_acc"), buf("acc_rows", plus("row0", "n").when("has_acc")), i32("row0")}},

	// rowloss family: row-wise losses over [n, c], one block per row (see
	// host/rowloss.go); the softmax-based ones find each row's max and sum
	// themselves, denom comes from cross_entropy_weight_sum, and reduce_sum
	// reduces loss_rows. Block
	// i >= n reads and writes nothing (focal_rows and scale_rows read
	// denom in every block).
	{Name: "cross_entropy_prob_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")),
			buf("weight", elems("c").when("has_weight")), i32("n"), i32("c"), i32("has_weight"),
			real("label_smoothing"), real("grad_scale"), i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")),
			i32("has_grad_target"), buf("grad_target", elems("n", "c").when("has_grad_target")),
			buf("loss_rows", elems("n"))}},
	{Name: "nll_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), ibuf("target", elems("n")), buf("weight", elems("c").when("has_weight")),
			i32("n"), i32("c"), i32("has_weight"), i32("ignore_index"), buf("denom", elems("2").when("has_grad")),
			i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")), buf("loss_rows", elems("n"))}},
	// focal_rows reads denom[1] in every block, with or without has_grad.
	{Name: "focal_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), ibuf("target", elems("n")),
			buf("alpha", elems("c").when("has_alpha")), i32("n"), i32("c"), i32("has_alpha"), i32("ignore_index"),
			real("gamma"), buf("denom", elems("2")), i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")),
			buf("loss_rows", elems("n"))}},
	{Name: "multi_margin_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), ibuf("target", elems("n")), buf("weight", elems("c").when("has_weight")),
			i32("n"), i32("c"), i32("has_weight"), i32("p"), real("margin"), real("grad_scale"), i32("has_grad"),
			buf("grad", elems("n", "c").when("has_grad")), buf("loss_rows", elems("n"))}},
	{Name: "categorical_hinge_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")), i32("n"), i32("c"), real("grad_scale"),
			i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")), buf("loss_rows", elems("n"))}},
	{Name: "distill_kl_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("s", elems("n", "c")), buf("t", elems("n", "c")),
			i32("n"), i32("c"), real("inv_tau"), real("loss_scale"), real("grad_scale"),
			i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")), buf("loss_rows", elems("n"))}},
	{Name: "poly_cross_entropy_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Args: []Arg{buf("x", elems("n", "c")), buf("y", elems("n", "c")), i32("n"), i32("c"),
			real("epsilon"), real("grad_scale"), i32("has_grad"), buf("grad", elems("n", "c").when("has_grad")),
			i32("has_grad_target"), buf("grad_target", elems("n", "c").when("has_grad_target")),
			buf("loss_rows", elems("n"))}},

	// pointwise family: elementwise losses with a per-block partial sum,
	// grid-stride (any grid): out holds one partial per block with
	// FlagReduce. aux, weight and mask are broadcast (le_bcast; the rule
	// of each asks its len and stride to be at least 1 where it is read).
	{Name: "pointwise_loss", Family: "pointwise", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{i32("op"), buf("input", elems("n")), buf("target", elems("n")),
			buf("aux", bcast("n", "aux_len", "aux_stride").whenBits("flags", FlagAux, "FlagAux")),
			buf("weight", bcast("n", "w_len", "w_stride").whenBits("flags", FlagWeight, "FlagWeight")),
			ibuf("mask", bcast("n", "m_len", "m_stride").whenBits("flags", FlagMask, "FlagMask")), i32("n"),
			real("p0"), real("p1"), real("p2"), i32("aux_len"), i32("aux_stride"), i32("w_len"), i32("w_stride"),
			i32("m_len"), i32("m_stride"), real("grad_scale"),
			buf("denom", elems("1").whenBits("flags", FlagDenom, "FlagDenom")), i32("flags"),
			buf("grad_input", elems("n").whenBits("flags", FlagGradInput, "FlagGradInput")),
			buf("grad_target", elems("n").whenBits("flags", FlagGradTarget, "FlagGradTarget")),
			buf("grad_aux", elems("n").whenBits("flags", FlagGradAux, "FlagGradAux")),
			buf("out", rule("flags&FlagReduce ? blocks : n", []string{"flags", "blocks", "n"}, func(v Vals) int64 {
				if int32(v[0])&FlagReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
	{Name: "mask_count", Family: "pointwise", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{ibuf("mask", bcast("n", "m_len", "m_stride")), i32("n"), i32("m_len"), i32("m_stride"),
			buf("out", elems("blocks"))}},
	// Block j >= len writes nothing.
	{Name: "broadcast_sum", Family: "pointwise", Grid: "len blocks", Sizes: sizes("n", "len", "stride"),
		Requires: []Cond{
			require("len >= 1 where n > 0", []string{"len", "n"}, func(v Vals) bool { return v[1] == 0 || v[0] >= 1 }),
			require("stride >= 1 where len > 0", []string{"stride", "len"}, func(v Vals) bool { return v[1] == 0 || v[0] >= 1 }),
		},
		Args: []Arg{buf("x", elems("n")), i32("n"), i32("len"), i32("stride"), buf("out", elems("len"))}},

	// ctc family: the CTC forward-backward dynamic program, one block per
	// sequence (see host/ctc.go for the exact semantics); block n >= N
	// reads and writes nothing. The targets, target_next, the label values
	// and 2*target_lengths[n]+1 <= s_max are in device memory: a launch
	// cannot check them (see the package documentation).
	{Name: "ctc_alpha", Family: "ctc", Grid: "N blocks", Sizes: sizes("T", "N", "C", "stride_t", "stride_n", "s_max"),
		Requires: ctcRequires(),
		Args: []Arg{buf("x", ctcExtent()), buf("lse", ctcLSE()), i32("T"), i32("N"), i32("C"), i32("stride_t"),
			i32("stride_n"), i32("has_lse"), devIndexed("targets", ctcTargets), ibuf("target_offsets", elems("N")),
			ibuf("target_lengths", elems("N")), ibuf("input_lengths", elems("N")), i32("blank"), i32("s_max"),
			buf("alpha", elems("N", "T", "s_max")), buf("loglik", elems("N")), buf("state_ws", elems("3", "N", "s_max"))}},
	{Name: "ctc_beta_grad", Family: "ctc", Grid: "N blocks", Sizes: sizes("T", "N", "C", "stride_t", "stride_n", "s_max"),
		Requires: ctcRequires(),
		Args: []Arg{buf("x", ctcExtent()), buf("lse", ctcLSE()), i32("T"), i32("N"), i32("C"), i32("stride_t"),
			i32("stride_n"), i32("has_lse"), devIndexed("targets", ctcTargets), ibuf("target_offsets", elems("N")),
			ibuf("target_lengths", elems("N")), ibuf("input_lengths", elems("N")),
			devIndexed("target_next", "laid out as targets: "+ctcTargets), i32("blank"), i32("s_max"),
			buf("alpha", elems("N", "T", "s_max")), buf("loglik", elems("N")), i32("reduction"), i32("zero_infinity"),
			i32("grad_mode"), i32("has_grad"), buf("grad", ctcExtent().when("has_grad")),
			buf("class_ws", elems("N", "C").when("has_grad")), buf("state_ws", elems("3", "N", "s_max")),
			buf("loss_rows", elems("N")), buf("loglik_beta", elems("N"))}},

	// scale_rows reads denom[0] in every block (with RowsDenom), and its
	// column loop has an int index.
	{Name: "scale_rows", Family: "rowloss", Grid: "n blocks", Sizes: sizes("n", "c"),
		Requires: []Cond{intLoop("c", "the column loop has an int index")},
		Args: []Arg{buf("loss_rows", elems("n")), buf("grad", elems("n", "c").whenBits("flags", RowsGrad, "RowsGrad")),
			buf("grad_target", elems("n", "c").whenBits("flags", RowsGradTarget, "RowsGradTarget")), i32("n"), i32("c"),
			buf("sample_weight", elems("n").whenBits("flags", RowsWeight, "RowsWeight")),
			ibuf("mask", elems("n").whenBits("flags", RowsMask, "RowsMask")), i32("flags"), real("num"),
			buf("denom", elems("1").whenBits("flags", RowsDenom, "RowsDenom"))}},
	{Name: "mask_targets", Family: "rowloss", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{ibuf("target", elems("n")), ibuf("mask", elems("n")), i32("n"), i32("ignore_index"),
			ibuf("out", elems("n"))}},

	// reduce family: deterministic sums and checks; the counts are one
	// partial per block of a grid-stride loop (any grid).
	{Name: "reduce_sum", Family: "reduce", Grid: "1 block", Sizes: sizes("n"),
		Args: []Arg{buf("x", elems("n")), i32("n"), real("scale"), i32("has_divisor"),
			buf("divisor", elems("1").when("has_divisor")), buf("out", elems("1"))}},
	{Name: "count_nan", Family: "reduce", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{buf("x", elems("n")), i32("n"), ibuf("counts", elems("blocks"))}},
	{Name: "count_invalid", Family: "reduce", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{buf("x", elems("n")), i32("n"), i32("mode"), real("lo"), real("hi"), ibuf("counts", elems("blocks"))}},
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
