package kernelspec

import "fmt"

// The ssim family: SSIM and MS-SSIM over images [planes, h, w] with a
// separable window of win weights, VALID convention (ho = h - win + 1
// outputs per column); see host/ssim.go for what each kernel computes.
// ssim_forward and ssim_backward take one block per tile of SSIMTile x
// SSIMTile pixels (outputs for the forward, input pixels for the
// backward); a block past the last tile reads and writes nothing.

// SSIMTile is the edge of the tiles of ssim_forward and ssim_backward;
// SSIMMaxWin is the largest window they take.
const (
	SSIMTile   = 16
	SSIMMaxWin = 33
)

// ssim_backward flag bits.
const (
	SSIMGradX int32 = 1 // write gx
	SSIMGradY int32 = 2 // write gy
	SSIMUpX   int32 = 4 // add up_x / 4 (the next level's gradient through the 2 x 2 pool)
	SSIMUpY   int32 = 8 // add up_y / 4
)

// SSIMTiles is the number of tiles along n pixels (0 for n <= 0).
func SSIMTiles(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + SSIMTile - 1) / SSIMTile
}

// ssimOut is the number of VALID outputs along n pixels, at least 0.
func ssimOut(n, win int64) int64 { return max(n-win+1, 0) }

// ssimPartial is the need of the per-tile partial sums: 2 per tile of
// the outputs of each plane.
func ssimPartial() *Need {
	return rule("2*planes*tiles(h-win+1)*tiles(w-win+1)", []string{"planes", "h", "w", "win"}, func(v Vals) int64 {
		return mulSat(mulSat(2*v[0], SSIMTiles(v[1]-v[3]+1)), SSIMTiles(v[2]-v[3]+1))
	})
}

// ssimMaps is the need of gmap: 4 maps of the outputs of each plane.
func ssimMaps() *Need {
	return rule("4*planes*max(h-win+1, 0)*max(w-win+1, 0)", []string{"planes", "h", "w", "win"}, func(v Vals) int64 {
		return mulSat(mulSat(4*v[0], ssimOut(v[1], v[3])), ssimOut(v[2], v[3]))
	})
}

// ssimHalf is the need of a plane stack down-sampled by 2: ceil(h/2) x
// ceil(w/2) per plane.
func ssimHalf() *Need {
	return rule("planes*ceil(h/2)*ceil(w/2)", []string{"planes", "h", "w"}, func(v Vals) int64 {
		return mulSat(mulSat(v[0], (v[1]+1)/2), (v[2]+1)/2)
	})
}

func ssimWin() Cond {
	return require(fmt.Sprintf("1 <= win <= SSIMMaxWin = %d where planes > 0", SSIMMaxWin), []string{"win", "planes"},
		func(v Vals) bool { return v[1] == 0 || v[0] >= 1 && v[0] <= SSIMMaxWin })
}

// ssimLevels is the need of a buffer of 2 values per plane and level,
// written or read at level: 2*(level+1)*planes.
func ssimLevels() *Need {
	return rule("2*(level+1)*planes", []string{"level", "planes"}, func(v Vals) int64 {
		return mulSat(2*(v[0]+1), v[1])
	})
}

var ssimKernels = []Kernel{
	{Name: "ssim_forward", Family: "ssim", Grid: "planes*tiles(h-win+1)*tiles(w-win+1) blocks",
		Sizes: sizes("planes", "h", "w", "win", "level"), Requires: []Cond{ssimWin()},
		Args: []Arg{buf("x", elems("planes", "h", "w")), buf("y", elems("planes", "h", "w")), buf("window", elems("win")),
			i32("planes"), i32("h"), i32("w"), i32("win"), real("c1"), real("c2"), i32("has_grad"), real("gs"), real("gc"),
			i32("has_coef"), buf("coef", ssimLevels().when("has_coef")), i32("level"),
			buf("gmap", ssimMaps().when("has_grad")), buf("partial", ssimPartial())}},
	{Name: "ssim_plane_stats", Family: "ssim", Grid: "planes blocks", Sizes: sizes("planes", "h", "w", "win", "level"),
		Args: []Arg{buf("partial", ssimPartial()), i32("planes"), i32("h"), i32("w"), i32("win"), i32("level"),
			buf("stats", ssimLevels())}},
	{Name: "ssim_combine", Family: "ssim", Grid: "any (grid-stride over the planes)", Sizes: sizes("planes", "levels"),
		Args: []Arg{buf("stats", elems("2", "levels", "planes")), buf("weights", elems("levels")), i32("planes"),
			i32("levels"), i32("relu"), real("loss_scale"), real("grad_scale"), buf("plane_loss", elems("planes")),
			buf("coef", elems("2", "levels", "planes"))}},
	{Name: "ssim_backward", Family: "ssim", Grid: "planes*tiles(h)*tiles(w) blocks", Sizes: sizes("planes", "h", "w", "win"),
		Requires: []Cond{ssimWin()},
		Args: []Arg{buf("x", elems("planes", "h", "w")), buf("y", elems("planes", "h", "w")), buf("window", elems("win")),
			buf("gmap", ssimMaps()), i32("planes"), i32("h"), i32("w"), i32("win"), i32("flags"),
			buf("up_x", ssimHalf().whenBits("flags", SSIMUpX, "SSIMUpX")),
			buf("up_y", ssimHalf().whenBits("flags", SSIMUpY, "SSIMUpY")),
			buf("gx", elems("planes", "h", "w").whenBits("flags", SSIMGradX, "SSIMGradX")),
			buf("gy", elems("planes", "h", "w").whenBits("flags", SSIMGradY, "SSIMGradY"))}},
	{Name: "ssim_pool", Family: "ssim", Grid: "any (grid-stride)", Sizes: sizes("planes", "h", "w"),
		Args: []Arg{buf("x", elems("planes", "h", "w")), i32("planes"), i32("h"), i32("w"), buf("out", ssimHalf())}},
}
