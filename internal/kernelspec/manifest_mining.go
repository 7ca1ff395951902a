package kernelspec

// miningKernels are the kernels of the mining family (kernels/src/mining.h,
// host/mining.go): metric-learning losses over a batch of embeddings
// [b, d] with int32 labels [b].
var miningKernels = []Kernel{
	// mine_prep: one block per row; a block past the last row reads and
	// writes nothing.
	{Name: "mine_prep", Family: "mining", Grid: "b blocks", Sizes: sizes("b", "d"),
		Requires: []Cond{intLoop("d", "the column loop has an int index")},
		Args:     []Arg{buf("x", elems("b", "d")), i32("b"), i32("d"), buf("u", elems("b", "d")), buf("norms", elems("b"))}},
	// mine_pdist: one block per 16x16 tile of the b x b distances.
	{Name: "mine_pdist", Family: "mining", Grid: "ceil(b/16)^2 blocks", Sizes: sizes("b", "d"),
		Requires: []Cond{intLoop("b", "the tile's row index is an int"), intLoop("d", "the k tiles' index is an int")},
		Args:     []Arg{buf("v", elems("b", "d")), i32("b"), i32("d"), i32("dist"), buf("pd", elems("b", "b"))}},
	// mine_triplet_rows: one block per anchor; sel is used by MineSemi
	// only.
	{Name: "mine_triplet_rows", Family: "mining", Grid: "b blocks", Sizes: sizes("b"),
		Requires: []Cond{intLoop("b", "the row loops have an int index")},
		Args: []Arg{buf("pd", elems("b", "b")), ibuf("labels", elems("b")), i32("b"), i32("mining"), real("margin"),
			i32("soft"), buf("coef", elems("b", "b")),
			ibuf("sel", rule("mining == MineSemi ? b*b : 0", []string{"mining", "b"}, func(v Vals) int64 {
				if int32(v[0]) == MineSemi {
					return mulSat(v[1], v[1])
				}
				return 0
			})),
			buf("rowloss", elems("b")), buf("rowcount", elems("b"))}},
	{Name: "mine_finish", Family: "mining", Grid: "1 block", Sizes: sizes("n"),
		Args: []Arg{buf("rowloss", elems("n")), buf("rowcount", elems("n")), i32("n"), real("empty"),
			buf("loss", elems("1")), buf("scale", elems("1"))}},
	// mine_grad: one block per row; norms is read with MineDistCosine
	// only.
	{Name: "mine_grad", Family: "mining", Grid: "b blocks", Sizes: sizes("b", "d"),
		Requires: []Cond{intLoop("b", "the weight loop has an int index"), intLoop("d", "the column loop has an int index")},
		Args: []Arg{buf("v", elems("b", "d")), buf("pd", elems("b", "b")), buf("coef", elems("b", "b")),
			buf("scale", elems("1")), i32("b"), i32("d"), i32("dist"),
			buf("norms", rule("dist == MineDistCosine ? b : 0", []string{"dist", "b"}, func(v Vals) int64 {
				if int32(v[0]) == MineDistCosine {
					return v[1]
				}
				return 0
			})),
			buf("grad", elems("b", "d"))}},

	// circle_rows: one block per row; a block past the last row reads
	// and writes nothing.
	{Name: "circle_rows", Family: "mining", Grid: "b blocks", Sizes: sizes("b"),
		Requires: []Cond{intLoop("b", "the row loops have an int index")},
		Args: []Arg{buf("pd", elems("b", "b")), ibuf("labels", elems("b")), i32("b"), real("gamma"), real("margin"),
			i32("remove_diag"), buf("coef", elems("b", "b")), buf("rowloss", elems("b")), buf("rowcount", elems("b"))}},

	// Barlow Twins: bt_norm and bt_norm_back take one block per column;
	// a block past the last column reads and writes nothing.
	{Name: "bt_norm", Family: "mining", Grid: "d blocks", Sizes: sizes("n", "d"),
		Requires: []Cond{intLoop("n", "the row loop has an int index")},
		Args: []Arg{buf("z", elems("n", "d")), i32("n"), i32("d"), i32("mode"), buf("zn", elems("n", "d")),
			buf("inv_std", elems("d"))}},
	{Name: "bt_terms", Family: "mining", Grid: "min(ceil(d*d/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("d"),
		Args: []Arg{buf("c", elems("d", "d")), i32("d"), real("lambd"), buf("partials", elems("blocks"))}},
	{Name: "bt_norm_back", Family: "mining", Grid: "d blocks", Sizes: sizes("n", "d"),
		Requires: []Cond{intLoop("n", "the row loop has an int index")},
		Args: []Arg{buf("zn", elems("n", "d")), buf("inv_std", elems("d")), i32("n"), i32("d"), i32("mode"),
			buf("grad", elems("n", "d"))}},
}

// Barlow Twins normalisations (the mode argument of bt_norm and
// bt_norm_back).
const (
	BTNormBatch    int32 = 0 // (z − mean)/sqrt(biased var + 1e-5): BatchNorm1d(affine=False)
	BTNormUnbiased int32 = 1 // (z − mean)/std, the unbiased std (MONAI)
)

// Distances of the mining family (the dist argument).
const (
	MineDistL2     int32 = 0 // ‖a − b‖
	MineDistSqL2   int32 = 1 // ‖a − b‖²
	MineDistCosine int32 = 2 // 1 − cos(a, b), on rows normalised by mine_prep
)

// Triplet mining strategies (the mining argument of mine_triplet_rows).
const (
	MineAll  int32 = 0 // every valid triplet
	MineHard int32 = 1 // batch-hard: the farthest positive and nearest negative per anchor
	MineSemi int32 = 2 // semi-hard, as TF-Addons triplet_semihard_loss
)
