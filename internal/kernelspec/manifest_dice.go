package kernelspec

// diceKernels are the kernels of the dice family (kernels/src/dice.h,
// host/dice.go): Dice, Jaccard, Tversky and generalized Dice over an
// input [n, c, s]. Rows are (sample, class), or classes with DiceBatch.
var diceKernels = []Kernel{
	// Block i*nb + b >= n*nb reads and writes nothing; nb = 0 makes every
	// block inactive.
	{Name: "dice_partials", Family: "dice", Grid: "n*nb blocks", Sizes: sizes("n", "c", "s", "nb"),
		Args: []Arg{buf("x", elems("n", "c", "s")),
			ibuf("tidx", elems("n", "s").whenBits("flags", DiceTargetIndex, "DiceTargetIndex")),
			buf("tf", elems("n", "c", "s").whenBits("flags", DiceTargetFloat, "DiceTargetFloat")),
			buf("cw", elems("c").whenBits("flags", DiceCEWeight, "DiceCEWeight")),
			i32("n"), i32("c"), i32("s"), i32("nb"), i32("flags"), i32("ignore_index"), real("ce_eps"),
			real("ce_p1"), buf("part", elems("n", "c", "3", "nb")),
			buf("xpart", elems("n", "nb", "2").whenBits("flags", DiceCE|DiceFocal, "(DiceCE|DiceFocal)"))}},
	// Block r >= rows reads and writes nothing.
	{Name: "dice_combine", Family: "dice", Grid: "rows blocks (c with DiceBatch, else n*c)", Sizes: sizes("n", "c", "nb"),
		Args: []Arg{buf("part", elems("n", "c", "3", "nb")), i32("n"), i32("c"), i32("nb"), i32("flags"),
			buf("stats", diceRows("3"))}},
	{Name: "dice_finish", Family: "dice", Grid: "1 block", Sizes: sizes("n", "c", "c0", "nxp"),
		Requires: []Cond{
			require("c0 <= c", []string{"c0", "c"}, func(v Vals) bool { return v[0] <= v[1] }),
			require("0 <= kind <= 4", []string{"kind"}, func(v Vals) bool { return v[0] >= 0 && v[0] <= 4 }),
			require("0 <= reduction <= 2", []string{"reduction"}, func(v Vals) bool { return v[0] >= 0 && v[0] <= 2 }),
		},
		Args: []Arg{buf("stats", diceRows("3")), buf("weight", elems("c").whenBits("flags", DiceWeight, "DiceWeight")),
			buf("xpart", elems("nxp", "2").whenBits("flags", DiceCE|DiceFocal, "(DiceCE|DiceFocal)")),
			i32("n"), i32("c"), i32("c0"), i32("kind"), i32("flags"), i32("nxp"), real("smooth_nr"), real("smooth_dr"),
			real("alpha"), real("beta"), real("gamma"), real("eps"), real("lambda_dice"), real("lambda_ce"), i32("reduction"),
			buf("loss", rule("reduction == none ? (kind >= 2 ? groups : groups*(c-c0)) : 1 (groups: 1 with DiceBatch, else n)",
				[]string{"reduction", "kind", "flags", "n", "c", "c0"}, func(v Vals) int64 {
					if int32(v[0]) != ReductionNone {
						return 1
					}
					groups := v[3]
					if int32(v[2])&DiceBatch != 0 {
						groups = 1
					}
					if v[1] >= int64(DiceKindGDLSquare) {
						return groups
					}
					return mulSat(groups, v[4]-v[5])
				})),
			buf("coef", diceRows("2")), buf("extra", elems("1").whenBits("flags", DiceCE|DiceFocal, "(DiceCE|DiceFocal)"))}},
	// Grid-stride over the n*s pixels (any grid).
	{Name: "dice_grad", Family: "dice", Grid: "min(ceil(n*s/BlockSize), DiceGradBlocks) blocks", Sizes: sizes("n", "c", "s"),
		Args: []Arg{buf("x", elems("n", "c", "s")),
			ibuf("tidx", elems("n", "s").whenBits("flags", DiceTargetIndex, "DiceTargetIndex")),
			buf("tf", elems("n", "c", "s").whenBits("flags", DiceTargetFloat, "DiceTargetFloat")),
			buf("coef", rule("(DiceBatch ? c : n*c)*2 where n*s > 0", []string{"flags", "n", "c", "s"}, func(v Vals) int64 {
				if mulSat(v[1], v[3]) == 0 {
					return 0
				}
				if int32(v[0])&DiceBatch != 0 {
					return mulSat(v[2], 2)
				}
				return mulSat(mulSat(v[1], v[2]), 2)
			})),
			buf("cw", elems("c").whenBits("flags", DiceCEWeight, "DiceCEWeight")),
			buf("extra", elems("1").whenBits("flags", DiceCE|DiceFocal, "(DiceCE|DiceFocal)")),
			i32("n"), i32("c"), i32("s"), i32("flags"), i32("ignore_index"), real("ce_eps"), real("ce_p1"),
			buf("grad", elems("n", "c", "s"))}},
}

// diceRows is the need of a per-row buffer of k values: c rows with
// DiceBatch, else n*c.
func diceRows(k string) *Need {
	kk := int64(k[0] - '0')
	return rule("(flags&DiceBatch ? c : n*c)*"+k, []string{"flags", "n", "c"}, func(v Vals) int64 {
		if int32(v[0])&DiceBatch != 0 {
			return mulSat(v[2], kk)
		}
		return mulSat(mulSat(v[1], v[2]), kk)
	})
}

// DiceGradBlocks caps the grid of dice_grad.
const DiceGradBlocks = 8192

// dice family flag bits (the flags argument; DICE_* in kernels/src/dice.h).
const (
	DiceSoftmax      int32 = 1     // p = softmax over the classes of a pixel
	DiceSigmoid      int32 = 2     // p = sigmoid(x)
	DiceTargetIndex  int32 = 4     // tidx holds int32 class indices [n, s]
	DiceTargetFloat  int32 = 8     // tf holds a float target [n, c, s]
	DiceSquared      int32 = 16    // squared_pred: sums of p² and t²
	DiceSoftLabel    int32 = 32    // soft_label: I = (Σ|p| + Σ|t| − Σ|p−t|)/2
	DiceIgnore       int32 = 64    // pixels whose index is ignore_index are left out
	DiceBatch        int32 = 128   // the rows pool the batch: one per class
	DiceJaccard      int32 = 256   // the Jaccard (IoU) form
	DiceWeight       int32 = 512   // per-class weights
	DiceSMP          int32 = 1024  // the segmentation_models_pytorch convention
	DiceCE           int32 = 2048  // dice_ce_loss: add the cross-entropy term
	DiceCEWeight     int32 = 4096  // per-class weights (cw) of the cross-entropy or focal term
	DiceFocal        int32 = 8192  // dice_focal_loss: add MONAI's focal term (ce_eps = gamma, ce_p1 = alpha)
	DiceFocalSoftmax int32 = 16384 // the focal term's softmax form (else sigmoid)
	DiceFocalAlpha   int32 = 32768 // the focal term's alpha factor
	DiceNoBG         int32 = 65536 // the focal term leaves class 0 out (include_background false)
)

// dice_finish loss kinds.
const (
	DiceKindDice       int32 = 0
	DiceKindTversky    int32 = 1
	DiceKindGDLSquare  int32 = 2
	DiceKindGDLSimple  int32 = 3
	DiceKindGDLUniform int32 = 4
)
