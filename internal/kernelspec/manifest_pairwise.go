package kernelspec

// pairwiseKernels are the kernels of the pairwise family
// (kernels/src/pairwise.h, host/pairwise.go): metric-learning losses over
// pairs and triplets of [n, d] rows.
var pairwiseKernels = []Kernel{
	// One block per row; block i >= n reads and writes nothing. x1 and x2
	// are [n, d] (d is 1 for PwMarginRank); denom is read in every block
	// with PwDenom.
	{Name: "pairwise_rows", Family: "pairwise", Grid: "n blocks", Sizes: sizes("n", "d"),
		Args: []Arg{i32("op"), buf("x1", elems("n", "d")), buf("x2", elems("n", "d")),
			buf("x3", elems("n", "d").whenBits("flags", PwHasX3, "PwHasX3")),
			buf("target", elems("n").whenBits("flags", PwHasTarget, "PwHasTarget")),
			i32("n"), i32("d"), real("p"), real("margin"), real("margin2"), real("eps"), real("grad_scale"),
			buf("denom", elems("1").whenBits("flags", PwDenom, "PwDenom")), i32("flags"),
			buf("grad1", elems("n", "d").whenBits("flags", PwGrad1, "PwGrad1")),
			buf("grad2", elems("n", "d").whenBits("flags", PwGrad2, "PwGrad2")),
			buf("grad3", elems("n", "d").whenBits("flags", PwGrad3, "PwGrad3")),
			buf("grad_target", elems("n").whenBits("flags", PwGradTarget, "PwGradTarget")),
			buf("loss_rows", elems("n"))}},
	{Name: "pairwise_avg_nonzero", Family: "pairwise", Grid: "1 block", Sizes: sizes("n"),
		Args: []Arg{buf("loss_rows", elems("n")), i32("n"), buf("denom", elems("1")), buf("loss", elems("1"))}},
}

// Ops of pairwise_rows.
const (
	PwCosineEmbedding int32 = 0 // x1, x2, target ±1; margin; eps added to each squared norm
	PwMarginRank      int32 = 1 // x1, x2 [n] (d = 1), target; margin
	PwTriplet         int32 = 2 // anchor x1, positive x2, negative x3; p-norm of (x − y) + eps; margin
	PwTripletSq       int32 = 3 // as PwTriplet with the squared Euclidean distance (no eps)
	PwTripletCos      int32 = 4 // as PwTriplet with 1 − cosine similarity (norms clamped at eps)
	PwContrastive     int32 = 5 // x1, x2, target y; margin (Hadsell et al.)
	PwContrastivePML  int32 = 6 // x1, x2, target y; margin = pos_margin, margin2 = neg_margin, eps of normalize
	PwKerasCos        int32 = 7 // x1 = y_pred, x2 = y_true; eps bounds each squared norm from below
)

// pairwise_rows flag bits.
const (
	PwGrad1      int32 = 1   // write grad1
	PwGrad2      int32 = 2   // write grad2
	PwGrad3      int32 = 4   // write grad3
	PwGradTarget int32 = 8   // write grad_target
	PwSwap       int32 = 16  // triplet: the negative distance is min(d(a, n), d(p, n))
	PwDenom      int32 = 32  // divide grad_scale by denom[0]
	PwHasX3      int32 = 64  // read x3
	PwHasTarget  int32 = 128 // read target
	PwNonZero    int32 = 256 // a row whose loss is not > 0 gets zero gradients (AvgNonZeroReducer)
)
