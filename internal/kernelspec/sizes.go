package kernelspec

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// The size rules of the manifest (see the package documentation): each
// buffer argument's Need, each kernel's Sizes and Requires, and CheckSizes,
// which every backend's Launch runs before it queues anything.

// maxOperands is the most int32 arguments (and the grid) one rule reads.
const maxOperands = 6

// Vals are the values of a rule's operands for one launch, in the order the
// rule names them: int32 arguments widened to int64, and the grid's block
// count for the operand "blocks".
type Vals [maxOperands]int64

// Need is the size rule of a buffer argument: the number of elements the
// kernel and its host mirror may touch, as a function of the launch's
// int32 arguments and its grid. A Need that is gated (see when) is 0 where
// its gate says the buffer is not used. Rules are evaluated in int64, with
// products that saturate at math.MaxInt64 (no buffer is that long), and a
// negative result is an error.
type Need struct {
	text  string
	names []string // operands: int32 argument names and "blocks"
	k     int64    // constant factor of a product rule
	fn    func(Vals) int64
	// isBcast: the rule is bcast's, of its three operands (evaluated
	// without a call through fn: pointwise_loss has three per launch).
	isBcast bool
	// domain, for a rule fn or bcast, is the condition on its operands
	// outside of which the rule gives -1 and the launch is refused ("" if
	// none).
	domain string

	gate     string // "" or the int32 argument that says whether the buffer is used
	gateBits int32  // 0: used where gate != 0; else used where gate&gateBits != 0
	gateText string

	at     []int // positions of names in the kernel's arguments; -1 for "blocks"
	gateAt int
}

// String is the rule as the manifest states it, e.g. "n*c if has_grad".
func (n *Need) String() string {
	if n.gate == "" {
		return n.text
	}
	return n.text + " if " + n.gateText
}

// elems is the product of int32 arguments, "blocks" and integer constants.
func elems(ops ...string) *Need {
	n := &Need{text: strings.Join(ops, "*"), k: 1}
	for _, o := range ops {
		if v, err := strconv.Atoi(o); err == nil {
			n.k *= int64(v)
		} else {
			n.names = append(n.names, o)
		}
	}
	return n
}

// rule is a need that a product cannot state: f of the named operands.
func rule(text string, names []string, f func(Vals) int64) *Need {
	return &Need{text: text, names: names, fn: f}
}

// plus is the sum of two int32 arguments (a row offset and a count).
func plus(a, b string) *Need {
	return rule(a+"+"+b, []string{a, b}, func(v Vals) int64 { return v[0] + v[1] })
}

// when gates n by an int32 argument: the buffer is used only where it is
// not 0.
func (n *Need) when(arg string) *Need {
	n.gate, n.gateText = arg, arg
	return n
}

// whenBits gates n by flag bits: the buffer is used only where
// arg&bits != 0; name is the bits' name in the manifest.
func (n *Need) whenBits(arg string, bits int32, name string) *Need {
	n.gate, n.gateBits, n.gateText = arg, bits, arg+"&"+name
	return n
}

// Cond is a precondition on a launch's int32 arguments and grid that a
// kernel relies on to stay within its buffers, beyond the buffer sizes.
type Cond struct {
	text  string
	names []string
	ok    func(Vals) bool
	at    []int
}

// String is the condition as the manifest states it.
func (c Cond) String() string { return c.text }

func require(text string, names []string, ok func(Vals) bool) Cond {
	return Cond{text: text, names: names, ok: ok}
}

// bcast is the need of a buffer that element i < n reads at
// (i / stride) mod len (le_bcast): min(len, ceil(n / stride)), which is len
// when len·stride <= n, as package losses makes them. le_bcast divides by
// both, so where n > 0 the rule refuses len < 1 or stride < 1.
func bcast(n, ln, stride string) *Need {
	return &Need{text: fmt.Sprintf("min(%s, ceil(%s/%s))", ln, n, stride), names: []string{n, ln, stride}, isBcast: true,
		domain: fmt.Sprintf("%s >= 1 and %s >= 1 where %s > 0", ln, stride, n)}
}

// bcastNeed is bcast's rule for n elements read with (ln, stride).
func bcastNeed(n, ln, stride int64) int64 {
	switch {
	case n == 0:
		return 0
	case ln < 1 || stride < 1:
		return -1
	case ln*stride <= n: // both are int32: no overflow
		return ln
	}
	return min(ln, (n-1)/stride+1)
}

// MaxIntLoop is the largest bound of a loop over an int index that steps by
// BlockSize (for (int j = tid; j < bound; j += BlockSize)): past it the
// last step overflows int32 and the index turns negative.
const MaxIntLoop = math.MaxInt32 - BlockSize + 1

// intLoop is the precondition of a kernel that loops an int index up to
// the argument name in steps of BlockSize.
func intLoop(name, loop string) Cond {
	return require(fmt.Sprintf("%s <= MaxIntLoop = %d (%s)", name, MaxIntLoop, loop), []string{name},
		func(v Vals) bool { return v[0] <= MaxIntLoop })
}

// ctcExtent is the need of x and grad of the CTC kernels: element (t, n, c)
// is at t*stride_t + n*stride_n + c for t < T, n < N, c < C.
func ctcExtent() *Need {
	return rule("(T-1)*stride_t + (N-1)*stride_n + C", []string{"T", "N", "C", "stride_t", "stride_n"}, func(v Vals) int64 {
		if v[0] == 0 || v[1] == 0 || v[2] == 0 {
			return 0
		}
		return addSat(addSat(mulSat(v[0]-1, v[3]), mulSat(v[1]-1, v[4])), v[2])
	})
}

// ctcLSE is the need of lse of the CTC kernels: row (t, n) subtracts
// lse[(t*stride_t + n*stride_n) / C].
func ctcLSE() *Need {
	return rule("((T-1)*stride_t + (N-1)*stride_n)/C + 1", []string{"T", "N", "C", "stride_t", "stride_n"}, func(v Vals) int64 {
		if v[0] == 0 || v[1] == 0 || v[2] == 0 {
			return 0
		}
		return addSat(mulSat(v[0]-1, v[3]), mulSat(v[1]-1, v[4]))/v[2] + 1
	}).when("has_lse")
}

// ctcRequires are the preconditions of both CTC kernels that a launch can
// check: every sequence with a frame reads x at the blank and writes state
// s = 0 of its alpha rows. (A fresh slice per kernel: resolve binds each
// kernel's copy to its own argument positions.)
func ctcRequires() []Cond {
	return []Cond{
		require("0 <= blank < C where N > 0 and T > 0", []string{"blank", "C", "N", "T"}, func(v Vals) bool {
			return v[2] == 0 || v[3] == 0 || v[0] >= 0 && v[0] < v[1]
		}),
		require("s_max >= 1 where N > 0 and T > 0", []string{"s_max", "N", "T"}, func(v Vals) bool {
			return v[1] == 0 || v[2] == 0 || v[0] >= 1
		}),
		intLoop("C", "the loops over the classes have an int index"),
		intLoop("s_max", "the loops over the states, S <= s_max, have an int index"),
	}
}

// mulSat is a·b for a, b >= 0, math.MaxInt64 where that overflows.
func mulSat(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

// addSat is a+b for a, b >= 0, math.MaxInt64 where that overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// resolve binds the names of every rule of the manifest to argument
// positions; a name that is not an int32 argument of its kernel (or
// "blocks") is a mistake in the manifest, and panics.
func resolve() {
	seen := map[*Need]bool{}
	for i := range Manifest {
		k := &Manifest[i]
		pos := func(name string) int {
			if name == "blocks" {
				return -1
			}
			for j, a := range k.Args {
				if a.Name == name {
					if a.Kind != Int {
						panic(fmt.Sprintf("kernelspec: %s: rule operand %s is a %s, not an int32", k.Name, name, a.Kind))
					}
					return j
				}
			}
			panic(fmt.Sprintf("kernelspec: %s: rule operand %q is not an argument", k.Name, name))
		}
		bind := func(names []string) []int {
			if len(names) > maxOperands {
				panic(fmt.Sprintf("kernelspec: %s: a rule of %d operands", k.Name, len(names)))
			}
			at := make([]int, len(names))
			for j, n := range names {
				at[j] = pos(n)
			}
			return at
		}
		for j := range k.Args {
			a := &k.Args[j]
			isBuf := a.Kind == FloatBuf || a.Kind == IntBuf
			if a.Need != nil && !isBuf || isBuf && (a.Need == nil) == (a.Unchecked == "") {
				panic(fmt.Sprintf("kernelspec: %s argument %s: a buffer takes a Need or, alone, an Unchecked reason", k.Name, a.Name))
			}
			if a.Need == nil {
				continue
			}
			if seen[a.Need] { // bound to one argument list only
				panic(fmt.Sprintf("kernelspec: %s argument %s: a Need shared with another argument", k.Name, a.Name))
			}
			seen[a.Need] = true
			k.needAt = append(k.needAt, j)
			a.Need.at = bind(a.Need.names)
			a.Need.gateAt = -1
			if a.Need.gate != "" {
				a.Need.gateAt = pos(a.Need.gate)
				if a.Need.gateAt < 0 {
					panic(fmt.Sprintf("kernelspec: %s: the grid cannot gate a buffer", k.Name))
				}
			}
		}
		k.sizeAt = bind(k.Sizes)
		for j := range k.Requires {
			if k.Requires[j].at != nil {
				panic(fmt.Sprintf("kernelspec: %s: a Requires slice shared with another kernel", k.Name))
			}
			k.Requires[j].at = bind(k.Requires[j].names)
		}
	}
}

func init() { resolve() }

// operand reads the operand at position p (-1: the grid's blocks).
func operand(args []any, p, blocks int) int64 {
	if p < 0 {
		return int64(blocks)
	}
	return int64(args[p].(int32))
}

// operands reads the operands at positions at.
func operands(at []int, args []any, blocks int) Vals {
	var v Vals
	for i, p := range at {
		v[i] = operand(args, p, blocks)
	}
	return v
}

// describe lists operands and their values for an error message.
func describe(names []string, v Vals) string {
	var b strings.Builder
	for j, name := range names {
		if j > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s = %d", name, v[j])
	}
	return b.String()
}

// Eval returns the number of elements the buffer must hold for a launch
// of its kernel on a grid of blocks blocks with arguments args (as checked
// by CheckArgs); negative means the arguments admit no size.
func (n *Need) Eval(args []any, blocks int) int64 {
	if n.gateAt >= 0 {
		g := args[n.gateAt].(int32)
		if n.gateBits == 0 && g == 0 || n.gateBits != 0 && g&n.gateBits == 0 {
			return 0
		}
	}
	if n.isBcast {
		return bcastNeed(operand(args, n.at[0], blocks), operand(args, n.at[1], blocks), operand(args, n.at[2], blocks))
	}
	if n.fn != nil {
		return n.fn(operands(n.at, args, blocks))
	}
	r := n.k
	for _, p := range n.at {
		v := operand(args, p, blocks)
		if v < 0 {
			return -1
		}
		r = mulSat(r, v)
	}
	return r
}

func plural(n int64, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}

// refuse is the error of a launch for which n comes out negative.
func (n *Need) refuse(k *Kernel, arg string, args []any, blocks int) error {
	why := n.domain
	if why == "" {
		why = "a size >= 0 from " + n.text
	}
	if n.gate != "" {
		why += " (" + arg + " is read where " + n.gateText + ")"
	}
	return fmt.Errorf("kernels: %s: %s needs %s (%s)", k.Name, arg, why, describe(n.names, operands(n.at, args, blocks)))
}

// CheckSizes checks a launch of k on a grid of blocks blocks against the
// size rules: no argument of k.Sizes negative, every condition of
// k.Requires met, and every buffer argument at least as long as its Need.
// args must have passed CheckArgs. It allocates nothing unless it fails;
// its error names the kernel, the argument, the rule and the sizes.
func CheckSizes(k *Kernel, blocks int, args []any) error {
	if blocks < 0 {
		return fmt.Errorf("kernels: %s: a grid of %d blocks", k.Name, blocks)
	}
	for i, p := range k.sizeAt {
		if v := args[p].(int32); v < 0 {
			return fmt.Errorf("kernels: %s: %s = %d is negative", k.Name, k.Sizes[i], v)
		}
	}
	for i := range k.Requires {
		c := &k.Requires[i]
		if v := operands(c.at, args, blocks); !c.ok(v) {
			return fmt.Errorf("kernels: %s needs %s (%s)", k.Name, c.text, describe(c.names, v))
		}
	}
	for _, i := range k.needAt {
		a := &k.Args[i]
		need := a.Need.Eval(args, blocks)
		if need < 0 {
			return a.Need.refuse(k, a.Name, args, blocks)
		}
		if have := int64(args[i].(BufferArg).Len()); have < need {
			return fmt.Errorf("kernels: %s: %s needs %d %s (%s), the buffer has %d", k.Name, a.Name, need, plural(need, "element"),
				a.Need, have)
		}
	}
	return nil
}
