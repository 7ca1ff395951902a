package kernelspec

// ganKernels are the kernels of the gan family (kernels/src/gan.h,
// host/gan.go): the GAN discriminator and generator losses over the
// discriminator's outputs, and the gradient penalties over [rows, d]
// gradients.
var ganKernels = []Kernel{
	// part holds two segments of one partial per block from off: the sums
	// of x, then the counts of nonzero weights.
	{Name: "gan_partials", Family: "gan", Grid: "any grid (one per block partials)", Sizes: sizes("n", "off"),
		Args: []Arg{buf("x", elems("n")), buf("w", elems("n").when("has_w")), i32("n"), i32("has_w"),
			buf("part", rule("off+2*blocks", []string{"off", "blocks"}, func(v Vals) int64 {
				return addSat(v[0], mulSat(2, v[1]))
			})), i32("off")}},
	{Name: "gan_reduce", Family: "gan", Grid: "1 block", Sizes: sizes("nb", "nseg"),
		Args: []Arg{buf("part", elems("nseg", "nb")), i32("nb"), i32("nseg"), i32("total"), real("scale"),
			buf("out", rule("total ? 1 : nseg", []string{"total", "nseg"}, func(v Vals) int64 {
				if v[0] != 0 {
					return 1
				}
				return v[1]
			}))}},
	// out holds one loss term per element from out_off, or with GanReduce
	// one partial sum per block from out_off.
	{Name: "gan_terms", Family: "gan", Grid: "any grid (one per block partials)",
		Sizes: sizes("n", "out_off", "dsum_off"),
		Requires: []Cond{require("mean_idx >= -1 and den_idx >= -1", []string{"mean_idx", "den_idx"}, func(v Vals) bool {
			return v[0] >= -1 && v[1] >= -1
		})},
		Args: []Arg{i32("op"), buf("x", elems("n")), buf("w", elems("n").when("has_w")), i32("n"), i32("has_w"),
			real("p"), real("s"), real("coef"), real("gs"),
			buf("stats", rule("max(mean_idx, den_idx)+1", []string{"mean_idx", "den_idx"}, func(v Vals) int64 {
				return max(v[0], v[1]) + 1
			})), i32("mean_idx"), real("mean_scale"), i32("den_idx"), i32("flags"),
			buf("grad", elems("n").whenBits("flags", GanGrad, "GanGrad")),
			buf("out", rule("out_off + (flags&GanReduce ? blocks : n)", []string{"flags", "out_off", "blocks", "n"},
				func(v Vals) int64 {
					if int32(v[0])&GanReduce != 0 {
						return addSat(v[1], v[2])
					}
					return addSat(v[1], v[3])
				})), i32("out_off"),
			buf("dsum", rule("dsum_off+blocks", []string{"dsum_off", "blocks"}, func(v Vals) int64 {
				return addSat(v[0], v[1])
			}).whenBits("flags", GanDSum, "GanDSum")), i32("dsum_off")}},
	{Name: "gan_add", Family: "gan", Grid: "any grid", Sizes: sizes("n", "idx"),
		Args: []Arg{buf("grad", elems("n")), i32("n"),
			buf("stats", rule("idx+1", []string{"idx"}, func(v Vals) int64 { return addSat(v[0], 1) })), i32("idx"),
			real("scale")}},
	// out holds one loss per row, or with GanReduce one partial sum per block.
	{Name: "gan_penalty", Family: "gan", Grid: "min(rows, MaxReduceBlocks) blocks (at least 1)", Sizes: sizes("rows", "d"),
		Requires: []Cond{intLoop("d", "the column loop")},
		Args: []Arg{i32("op"), buf("g", elems("rows", "d")), i32("rows"), i32("d"), real("target"), real("eps"),
			real("coef"), i32("one_sided"), real("gs"), i32("flags"),
			buf("grad", elems("rows", "d").whenBits("flags", GanGrad, "GanGrad")),
			buf("out", rule("flags&GanReduce ? blocks : rows", []string{"flags", "blocks", "rows"}, func(v Vals) int64 {
				if int32(v[0])&GanReduce != 0 {
					return v[1]
				}
				return v[2]
			}))}},
}

// Element ops of gan_terms: the term t(x) of one discriminator output.
const (
	GanOpZero  int32 = 0 // t = 0
	GanOpSCE   int32 = 1 // t = softplus(x) − p·x, sigmoid cross-entropy with target p
	GanOpLin   int32 = 2 // t = x
	GanOpHinge int32 = 3 // t = relu(1 + s·x)
	GanOpSq    int32 = 4 // t = (x − p)²/2
	GanOpRA    int32 = 5 // t = softplus(s·(x − m)), m the other tensor's mean
)

// gan_terms and gan_penalty flag bits.
const (
	GanGrad   int32 = 1 // write grad
	GanReduce int32 = 2 // out gets one partial per block; otherwise one term per element (row)
	GanDSum   int32 = 4 // dsum gets one partial sum of the gradient per block
)

// Penalty ops of gan_penalty.
const (
	GanPenaltyGP int32 = 0 // (‖g‖ − target)², ‖g‖ = sqrt(Σg² + eps)
	GanPenaltyR1 int32 = 1 // ‖g‖² = Σg²
)
