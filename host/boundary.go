package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("boundary_loss", boundaryLoss[float32], boundaryLoss[float64])
}

// boundaryLoss mirrors boundary_loss(x, dist, use, n, c, s, act,
// grad_scale, flags, grad, out): for each pixel (i, j), i < n, j < s, with
// x_k = x[(i·c + k)·s + j], e_k = dist[(i·c + k)·s + j] where use[k] != 0,
// else 0, and
//
//	act ActivationSoftmax: p_k = exp(x_k − m) / Σ_l exp(x_l − m), m = max_l x_l;  grad_k = p_k (e_k − L)
//	act ActivationSigmoid: p_k = 1/(1 + exp(−x_k));                                grad_k = e_k p_k (1 − p_k)
//	act ActivationNone:    p_k = x_k;                                              grad_k = e_k
//
// where L = Σ_k p_k e_k is the pixel's loss:
//
//	grad[(i·c + k)·s + j] = grad_scale·grad_k      if flags&BoundaryGrad
//	out[(i·c + k)·s + j]  = p_k e_k                unless flags&BoundaryReduce
//	out[b] = Σ L over block b's pixels             if flags&BoundaryReduce
//
// where block b of a grid of B blocks holds the pixels q = i·s + j with
// (q / BlockSize) mod B == b. A class with use[k] == 0 contributes exact
// zeros, whatever its distance. The mirror computes each pixel in
// float64 (the kernel in float32) and adds in index order; grad may be x.
func boundaryLoss[T Float](a argv) error {
	x, dist, use := fbuf[T](a, 0), fbuf[T](a, 1), a.ints(2)
	n, c, s, act, gs, flags := a.int(3), a.int(4), a.int(5), int32(a.int(6)), a.real(7), int32(a.int(8))
	grad, out := fbuf[T](a, 9), fbuf[T](a, 10)
	const bs = kernelspec.BlockSize
	blocks, npix := a.grid.Blocks, n*s
	reduce, hasGrad := flags&kernelspec.BoundaryReduce != 0, flags&kernelspec.BoundaryGrad != 0
	parallelFor(blocks, 1, func(lo, hi int) {
		p := make([]float64, c)
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < npix; start += blocks * bs {
				for q := start; q < min(start+bs, npix); q++ {
					i, j := q/s, q%s
					base := i*c*s + j
					switch act {
					case kernelspec.ActivationSoftmax:
						m := math.Inf(-1)
						for k := range c {
							v := float64(x[base+k*s])
							if v != v || m != m {
								m = v + m
							} else {
								m = math.Max(m, v)
							}
						}
						z := 0.0
						for k := range c {
							p[k] = math.Exp(float64(x[base+k*s]) - m)
							z += p[k]
						}
						for k := range c {
							p[k] /= z
						}
					case kernelspec.ActivationSigmoid:
						for k := range c {
							p[k] = sigmoid(float64(x[base+k*s]))
						}
					default:
						for k := range c {
							p[k] = float64(x[base+k*s])
						}
					}
					L := 0.0
					for k := range c {
						pe := 0.0
						if use[k] != 0 {
							pe = p[k] * float64(dist[base+k*s])
						}
						L += pe
						if !reduce {
							out[base+k*s] = T(pe)
						}
					}
					if hasGrad {
						for k := range c {
							e := 0.0
							if use[k] != 0 {
								e = float64(dist[base+k*s])
							}
							var g float64
							switch act {
							case kernelspec.ActivationSoftmax:
								g = p[k] * (e - L)
							case kernelspec.ActivationSigmoid:
								g = e * p[k] * sigmoid(-float64(x[base+k*s]))
							default:
								g = e
							}
							grad[base+k*s] = T(gs * g)
						}
					}
					acc += L
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
	return nil
}

// sigmoid is 1/(1 + exp(−x)) without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
