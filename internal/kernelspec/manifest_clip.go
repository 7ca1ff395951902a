package kernelspec

// clipKernels are the kernels of the clip family (kernels/src/clip.h,
// host/clip.go): gradient clipping in place, by the global p-norm of a
// list of buffers (three steps: clip_norm_partial per buffer,
// clip_norm_total, clip_scale per buffer) and by value.
var clipKernels = []Kernel{
	// ws holds 3 floats per block from slot on: the buffers of one call
	// share one workspace, each its own slots.
	{Name: "clip_norm_partial", Family: "clip", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks",
		Sizes: sizes("off", "n", "slot"),
		Args: []Arg{buf("g", clipOffN()), i32("off"), i32("n"), real("p"), i32("pinf"), i32("slot"),
			buf("ws", rule("3*(slot+blocks)", []string{"slot", "blocks"}, func(v Vals) int64 { return 3 * (v[0] + v[1]) }))}},
	{Name: "clip_norm_total", Family: "clip", Grid: "1 block", Sizes: sizes("slots"),
		Args: []Arg{buf("ws", elems("3", "slots")), i32("slots"), real("p"), i32("pinf"), real("max_norm"), i32("mode"),
			buf("st", elems("3"))}},
	{Name: "clip_scale", Family: "clip", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("off", "n"),
		Args: []Arg{buf("x", clipOffN()), i32("off"), i32("n"), buf("st", elems("3")), i32("inplace"), buf("y", clipOffN())}},
	{Name: "clip_value", Family: "clip", Grid: "min(ceil(n/BlockSize), MaxReduceBlocks) blocks", Sizes: sizes("n"),
		Args: []Arg{buf("g", elems("n")), i32("n"), real("v")}},
}

// clip_norm_total mode bits.
const (
	ClipOptax          int32 = 1 // coef = max_norm / max(total, max_norm) (optax.clip_by_global_norm)
	ClipErrorNonfinite int32 = 2 // a non-finite total sets skip to 2: clip_scale writes nothing
)

// clipOffN is the need of a buffer read at g[off+i], i < n.
func clipOffN() *Need {
	return rule("off+n", []string{"off", "n"}, func(v Vals) int64 { return v[0] + v[1] })
}
