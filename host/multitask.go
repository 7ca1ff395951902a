package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("multitask_loss", multitaskLoss[float32], multitaskLoss[float64])
}

// mtSign is the sign of d: −1, 0 or 1, NaN for NaN (le_sign).
func mtSign(d float64) float64 {
	switch {
	case d > 0:
		return 1
	case d < 0:
		return -1
	}
	return d
}

// multitaskLoss mirrors multitask_loss(op, m, k, losses, a, b, l0, coef,
// alpha, grad_scale, flags, grad_losses, grad_a, grad_b, out): for each
// set i < m, its tasks j < k at o = i·k + j, l = losses[o], in float64
// from the stored values (the kernel computes in float32):
//
//	MTWeightedSum: loss_i = Σ_j a[o]·l;  d/dl = a[o], d/da = l
//	MTUncertainty: loss_i = Σ_j coef[j]·exp(−a[o])·l + a[o]/2 (exp in T's
//	               precision, expT);
//	               d/dl = coef[j]·exp(−a[o]), d/da = 1/2 − coef[j]·exp(−a[o])·l
//	MTGradNorm:    lt_j = l/l0[o], G_j = a[o]·b[o], mlt = Σ_j lt_j / k,
//	               mG = Σ_j G_j / k, target_j = mG·(lt_j/mlt)^alpha (a constant),
//	               loss_i = Σ_j |G_j − target_j|;
//	               d/da = sign(G_j − target_j)·b[o], d/db = sign(…)·a[o]
//	               (sign 0 at 0, NaN for NaN), d/dl = 0
//
// and each derivative times grad_scale goes to grad_losses (flags &
// MTGradLosses), grad_a (MTGradA), grad_b (MTGradB); out[i] = loss_i, or
// with MTReduce out[blk] = Σ loss_i over block blk's sets, those with
// (i / BlockSize) mod blocks == blk (added here in float64, in index
// order). A gradient may be its input's buffer.
func multitaskLoss[T Float](a argv) error {
	op, m, k := int32(a.int(0)), a.int(1), a.int(2)
	ls, av, bv, l0, coef := fbuf[T](a, 3), fbuf[T](a, 4), fbuf[T](a, 5), fbuf[T](a, 6), fbuf[T](a, 7)
	alpha, gs, flags := a.real(8), a.real(9), int32(a.int(10))
	gl, ga, gb, out := fbuf[T](a, 11), fbuf[T](a, 12), fbuf[T](a, 13), fbuf[T](a, 14)
	const bs = kernelspec.BlockSize
	blocks := a.grid.Blocks
	reduce := flags&kernelspec.MTReduce != 0
	wl, wa, wb := flags&kernelspec.MTGradLosses != 0, flags&kernelspec.MTGradA != 0, flags&kernelspec.MTGradB != 0
	set := func(i int) float64 {
		o := i * k
		s := 0.0
		if op == kernelspec.MTGradNorm {
			slt, sg := 0.0, 0.0
			for j := range k {
				slt += float64(ls[o+j]) / float64(l0[o+j])
				sg += float64(av[o+j]) * float64(bv[o+j])
			}
			mlt, mg := slt/float64(k), sg/float64(k)
			for j := range k {
				w, g := float64(av[o+j]), float64(bv[o+j])
				d := w*g - mg*math.Pow((float64(ls[o+j])/float64(l0[o+j]))/mlt, alpha)
				sg1 := mtSign(d)
				s += math.Abs(d)
				if wl {
					gl[o+j] = 0
				}
				if wa {
					ga[o+j] = T(gs * sg1 * g)
				}
				if wb {
					gb[o+j] = T(gs * sg1 * w)
				}
			}
			return s
		}
		for j := range k {
			l, v := float64(ls[o+j]), float64(av[o+j])
			var dl, da float64
			if op == kernelspec.MTUncertainty {
				e := float64(coef[j]) * float64(expT(-av[o+j]))
				s += e*l + 0.5*v
				dl, da = e, 0.5-e*l
			} else {
				s += v * l
				dl, da = v, l
			}
			if wl {
				gl[o+j] = T(gs * dl)
			}
			if wa {
				ga[o+j] = T(gs * da)
			}
		}
		return s
	}
	parallelFor(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < m; start += blocks * bs {
				for i := start; i < min(start+bs, m); i++ {
					s := set(i)
					if reduce {
						acc += s
					} else {
						out[i] = T(s)
					}
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
	return nil
}
