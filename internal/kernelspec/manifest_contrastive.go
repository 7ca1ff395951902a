package kernelspec

// contrastiveKernels are the kernels of the contrastive family
// (kernels/src/contrastive.h, host/contrastive.go): in-batch contrastive
// losses over L2-normalised embeddings, with the similarity matrix formed
// tile by tile and never stored.
var contrastiveKernels = []Kernel{
	{Name: "contrastive_normalize", Family: "contrastive", Grid: "min(rows, MaxReduceBlocks) blocks (at least 1)",
		Sizes: sizes("rows", "d", "bmod", "views", "off"), Requires: conNormRequires(),
		Args: []Arg{buf("x", elems("rows", "d")), i32("rows"), i32("d"), i32("bmod"), i32("views"), real("eps"), i32("off"),
			buf("y", conOffRows(true)), buf("norms", conOffRows(false))}},
	{Name: "contrastive_backnorm", Family: "contrastive", Grid: "min(rows, MaxReduceBlocks) blocks (at least 1)",
		Sizes: sizes("rows", "d", "bmod", "views", "off"), Requires: conNormRequires(),
		Args: []Arg{buf("y", conOffRows(true)), buf("g", conOffRows(true)), buf("norms", conOffRows(false)), i32("rows"), i32("d"),
			i32("bmod"), i32("views"), real("eps"), i32("off"), buf("gx", elems("rows", "d"))}},
	{Name: "contrastive_rows", Family: "contrastive", Grid: "ceil(r/16) blocks", Sizes: sizes("r", "k", "d", "lmod", "kpos", "tile"),
		Requires: conRequires(),
		Args: []Arg{buf("a", elems("r", "d")), buf("c", elems("k", "d")), i32("r"), i32("k"), i32("d"), real("inv_tau"),
			i32("has_labels"), ibuf("labels", elems("lmod").when("has_labels")), i32("lmod"), i32("kpos"), i32("flags"),
			real("cscale"), i32("tile"), buf("stats", elems("r", "5"))}},
	{Name: "contrastive_grad", Family: "contrastive", Grid: "ceil(r/16) blocks (side 0), ceil(k/16) blocks (sides 1 and 2)",
		Sizes: sizes("r", "k", "d", "lmod", "kpos", "tile"), Requires: append(conRequires(),
			require("side is 0, 1 or 2; side 2: r <= k", []string{"side", "r", "k"}, func(v Vals) bool {
				return v[0] >= 0 && v[0] <= 2 && (v[0] != 2 || v[1] <= v[2])
			})),
		Args: []Arg{buf("a", rule("side == 2 ? k*d : r*d", []string{"side", "k", "r", "d"}, func(v Vals) int64 {
			if v[0] == 2 {
				return mulSat(v[1], v[3])
			}
			return mulSat(v[2], v[3])
		})), buf("c", elems("k", "d")), i32("r"), i32("k"), i32("d"), real("inv_tau"),
			i32("has_labels"), ibuf("labels", elems("lmod").when("has_labels")), i32("lmod"), i32("kpos"), i32("flags"),
			real("cscale"), i32("tile"), buf("stats", elems("r", "5")), buf("gscale", elems("1")), i32("side"),
			buf("g", rule("side ? k*d : r*d", []string{"side", "k", "r", "d"}, func(v Vals) int64 {
				if v[0] != 0 {
					return mulSat(v[1], v[3])
				}
				return mulSat(v[2], v[3])
			}))}},
	{Name: "contrastive_finish", Family: "contrastive", Grid: "1 block", Sizes: sizes("r"),
		Args: []Arg{buf("stats", elems("r", "5")), i32("r"), i32("optax"), real("scale"), i32("has_loss"),
			buf("loss", elems("1").when("has_loss")), buf("gscale", elems("1"))}},
}

// conOffRows is the need of a buffer written or read at rows off .. off+rows-1
// (of d elements each with perRow).
func conOffRows(perRow bool) *Need {
	if perRow {
		return rule("(off+rows)*d", []string{"off", "rows", "d"}, func(v Vals) int64 { return mulSat(addSat(v[0], v[1]), v[2]) })
	}
	return rule("off+rows", []string{"off", "rows"}, func(v Vals) int64 { return addSat(v[0], v[1]) })
}

func conNormRequires() []Cond {
	return []Cond{
		require("bmod >= 1 and rows == bmod*views", []string{"bmod", "rows", "views"}, func(v Vals) bool {
			return v[0] >= 1 && v[1] == mulSat(v[0], v[2])
		}),
		intLoop("d", "the loops over a row have an int index"),
		require("off+rows <= MaxInt32", []string{"off", "rows"}, func(v Vals) bool { return addSat(v[0], v[1]) <= 1<<31-1 }),
	}
}

func conRequires() []Cond {
	return []Cond{
		require("lmod >= 1", []string{"lmod"}, func(v Vals) bool { return v[0] >= 1 }),
		require("kpos <= k", []string{"kpos", "k"}, func(v Vals) bool { return v[0] <= v[1] }),
		require("r, k <= MaxInt32 - 16 (the tile indices are ints)", []string{"r", "k"}, func(v Vals) bool {
			return v[0] <= 1<<31-17 && v[1] <= 1<<31-17
		}),
		intLoop("d", "the loops over a row have an int index"),
	}
}

// contrastive flag bits (the flags argument of contrastive_rows and
// contrastive_grad).
const (
	ConExclSelf   int32 = 1  // column j == i is no column of row i (A is the first r rows of C)
	ConPaired     int32 = 2  // columns j < kpos: only j == i, the positive
	ConOptax      int32 = 4  // optax's NT-Xent: one term per positive pair, against the negatives
	ConPass2      int32 = 8  // contrastive_rows: optax's second pass, over the positives
	ConAccumulate int32 = 16 // contrastive_grad: add to g instead of setting it
)

// ConStats is the number of floats per row of the contrastive state.
const ConStats = 5
