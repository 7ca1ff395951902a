package kernelspec

// The lovasz family (kernels/src/lovasz.h, host/lovasz.go): the Lovász
// losses of Berman et al. (2018). The errors of each (group, class)
// segment of len pixels are keyed (one 64-bit pair of key and pixel per
// pixel, in int32 buffers of 2*nseg*len), sorted per segment by lovasz_sort_runs
// (runs of LovaszRun) and lovasz_merge (doubling widths), and then scanned
// per tile of LovaszTile positions (nt tiles per segment: the scan covers
// the whole segment when nt = LovaszTiles(len), as package losses launches
// it; any nt stays inside the buffers). Every kernel loops over its work in a
// grid-stride or block-stride loop, so any grid is valid; a block with no
// work writes nothing.

// LovaszRun is the run length that lovasz_sort_runs sorts within a block;
// LovaszTile is the tile length of lovasz_tile_counts and
// lovasz_tile_grad.
const (
	LovaszRun  = 2048
	LovaszTile = 2048
)

// LovaszTiles is the number of tiles of a segment of n positions.
func LovaszTiles(n int64) int64 { return (n + LovaszTile - 1) / LovaszTile }

// lovaszTileNeed is the need of a per-tile buffer: nseg*nt.
func lovaszTileNeed() *Need { return elems("nseg", "nt") }

var lovaszKernels = []Kernel{
	{Name: "lovasz_softmax_errors", Family: "lovasz", Grid: "any (grid-stride over n*hw pixels)",
		Sizes: sizes("n", "c", "hw"),
		Args: []Arg{buf("x", elems("n", "c", "hw")), ibuf("target", elems("n", "hw")), i32("n"), i32("c"), i32("hw"),
			i32("per_image"), i32("from_logits"), i32("has_ignore"), i32("ignore_index"),
			ibuf("pairs", elems("2", "n", "c", "hw")), buf("err", elems("n", "c", "hw"))}},
	{Name: "lovasz_hinge_errors", Family: "lovasz", Grid: "any (grid-stride over n*hw pixels)",
		Sizes: sizes("n", "hw"),
		Args: []Arg{buf("x", elems("n", "hw")), ibuf("target", elems("n", "hw")), i32("n"), i32("hw"),
			i32("per_image"), i32("has_ignore"), i32("ignore_index"),
			ibuf("pairs", elems("2", "n", "hw")), buf("err", elems("n", "hw"))}},
	{Name: "lovasz_sort_runs", Family: "lovasz", Grid: "any (block-stride over runs)", Sizes: sizes("nseg", "len"),
		Args: []Arg{ibuf("pairs", elems("2", "nseg", "len")), i32("nseg"), i32("len")}},
	{Name: "lovasz_merge", Family: "lovasz", Grid: "any (grid-stride over output chunks)", Sizes: sizes("nseg", "len", "width"),
		Requires: []Cond{require("width >= 1 where len > 0", []string{"width", "len"},
			func(v Vals) bool { return v[1] == 0 || v[0] >= 1 })},
		Args: []Arg{ibuf("pairs", elems("2", "nseg", "len")), i32("nseg"), i32("len"), i32("width"),
			ibuf("out_pairs", elems("2", "nseg", "len"))}},
	{Name: "lovasz_tile_counts", Family: "lovasz", Grid: "any (block-stride over tiles)", Sizes: sizes("nseg", "len", "nt"),
		Args: []Arg{ibuf("pairs", elems("2", "nseg", "len")), i32("nseg"), i32("len"), i32("nt"),
			ibuf("counts", lovaszTileNeed())}},
	{Name: "lovasz_segment_scan", Family: "lovasz", Grid: "any (block-stride over segments)", Sizes: sizes("nseg", "nt"),
		Args: []Arg{ibuf("counts", lovaszTileNeed()), i32("nseg"), i32("nt"), ibuf("offsets", lovaszTileNeed()),
			ibuf("seg_fg", elems("nseg"))}},
	{Name: "lovasz_tile_grad", Family: "lovasz", Grid: "any (block-stride over tiles)",
		Sizes:    sizes("nseg", "len", "nt", "c", "hw"),
		Requires: []Cond{lovaszLayout()},
		Args: []Arg{ibuf("pairs", elems("2", "nseg", "len")), buf("err", elems("nseg", "len")),
			ibuf("offsets", lovaszTileNeed()), ibuf("seg_fg", elems("nseg")), i32("nseg"), i32("len"), i32("nt"),
			i32("c"), i32("hw"), real("grad_scale"), i32("has_grad"), buf("grad", elems("nseg", "len").when("has_grad")),
			buf("tile_loss", lovaszTileNeed())}},
	{Name: "lovasz_finalize", Family: "lovasz", Grid: "1 block", Sizes: sizes("groups", "c", "nt"),
		Args: []Arg{buf("tile_loss", elems("groups", "c", "nt")), ibuf("seg_fg", elems("groups", "c")), i32("groups"),
			i32("c"), i32("nt"), i32("all_classes"), buf("loss", elems("1")), buf("seg_weight", elems("groups", "c"))}},
	{Name: "lovasz_softmax_grad", Family: "lovasz", Grid: "any (grid-stride over n*hw pixels)",
		Sizes: sizes("n", "c", "hw"),
		Args: []Arg{buf("x", elems("n", "c", "hw")), i32("n"), i32("c"), i32("hw"), i32("per_image"),
			i32("from_logits"), buf("seg_weight", rule("(per_image ? n : 1)*c", []string{"per_image", "n", "c"},
				func(v Vals) int64 {
					if v[0] != 0 {
						return mulSat(v[1], v[2])
					}
					return v[2]
				})), buf("grad", elems("n", "c", "hw"))}},
}

// lovaszLayout is the condition of lovasz_tile_grad's gradient addresses:
// nseg*len = (nseg/c)*len is a whole number of images of c*hw elements,
// so that pixel q of segment s addresses element ((P/hw)*c + s%c)*hw +
// P%hw with P = (s/c)*len + q, inside grad.
func lovaszLayout() Cond {
	return require("c >= 1, nseg % c == 0 and hw >= 1, (nseg/c)*len % hw == 0 where nseg*len > 0",
		[]string{"nseg", "len", "c", "hw"}, func(v Vals) bool {
			if v[0] == 0 || v[1] == 0 {
				return true
			}
			return v[2] >= 1 && v[0]%v[2] == 0 && v[3] >= 1 && (v[0]/v[2])*v[1]%v[3] == 0
		})
}
