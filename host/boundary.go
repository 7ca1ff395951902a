package host

import (
	"math"
	"unsafe"

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
		pool := bndPool[T]()
		sc := pool.get()
		defer pool.put(sc)
		for b := lo; b < hi; b++ {
			acc := 0.0
			for start := b * bs; start < npix; start += blocks * bs {
				// The chunk's pixels, in runs within one sample.
				for q := start; q < min(start+bs, npix); {
					i, j0 := q/s, q%s
					j1 := min(s, j0+min(start+bs, npix)-q)
					acc += sc.run(x, dist, use, grad, out, i*c*s, s, c, j0, j1, act, gs, reduce, hasGrad)
					q += j1 - j0
				}
			}
			if reduce {
				out[b] = T(acc)
			}
		}
	})
	return nil
}

// bndScratch holds the per-pixel values of a run of at most BlockSize
// pixels of one sample.
type bndScratch[T Float] struct {
	m    [kernelspec.BlockSize]T
	z, l [kernelspec.BlockSize]float64
	p    [kernelspec.BlockSize]float64 // one class's probabilities
	// e caches exp(x − m) of the run, class by class, for up to
	// bndCacheClasses classes (more are recomputed).
	e []T
}

var bndPools struct {
	f32 jobPool[bndScratch[float32]]
	f64 jobPool[bndScratch[float64]]
}

// bndPool returns the pool of T's scratch: a steady state allocates none.
func bndPool[T Float]() *jobPool[bndScratch[T]] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&bndPools.f32).(*jobPool[bndScratch[T]])
	}
	return any(&bndPools.f64).(*jobPool[bndScratch[T]])
}

// bndCacheClasses bounds the classes whose exponentials a run caches.
const bndCacheClasses = 64

// run computes the pixels j0 <= j < j1 of the sample whose class 0 starts
// at base (see boundaryLoss) class by class, so that each loop reads one
// contiguous row, and returns the sum of their losses L in pixel order.
// Exponentials are taken in T's precision, of x − m rounded to T, as the
// kernel does (for float32 by the vector exp where there is one, within 2
// ulp of expf); the rest is float64.
func (sc *bndScratch[T]) run(x, dist []T, use []int32, grad, out []T, base, s, c, j0, j1 int, act int32,
	gs float64, reduce, hasGrad bool) float64 {
	w := j1 - j0
	m, z, l := sc.m[:w], sc.z[:w], sc.l[:w]
	clear(l)
	row := func(k int) int { return base + k*s + j0 }
	if act == kernelspec.ActivationSoftmax {
		for j := range m {
			m[j] = T(math.Inf(-1))
		}
		// Two classes a pass (max is NaN if either is NaN, as the kernel's
		// max, and has no order to keep otherwise).
		k := 0
		for ; k+1 < c; k += 2 {
			xa, xb := x[row(k):row(k)+w], x[row(k+1):row(k+1)+w]
			xb = xb[:len(xa)]
			m := m[:len(xa)]
			for j, v := range xa {
				m[j] = max(m[j], max(v, xb[j]))
			}
		}
		if k < c {
			xr := x[row(k) : row(k)+w]
			m := m[:len(xr)]
			for j, v := range xr {
				m[j] = max(m[j], v)
			}
		}
		clear(z)
		cached := c <= bndCacheClasses
		if cached && len(sc.e) < c*kernelspec.BlockSize {
			sc.e = make([]T, c*kernelspec.BlockSize)
		}
		for k := range c {
			xr := x[row(k) : row(k)+w]
			if cached && unsafe.Sizeof(xr[0]) == 4 {
				// float32: the shifted row, then exp over it in place.
				er := sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w]
				er, m := er[:len(xr)], m[:len(xr)]
				for j, v := range xr {
					er[j] = v - m[j]
				}
				e32 := unsafe.Slice((*float32)(unsafe.Pointer(&er[0])), w)
				for j := expVec32(e32); j < w; j++ {
					e32[j] = expf(e32[j])
				}
				for j, e := range er {
					z[j] += float64(e)
				}
				continue
			}
			for j, v := range xr {
				e := expT(v - m[j])
				if cached {
					sc.e[k*kernelspec.BlockSize+j] = e
				}
				z[j] += float64(e)
			}
		}
		for j := range z {
			z[j] = 1 / z[j] // float64: as the kernel's float32 division
		}
	}
	if act == kernelspec.ActivationSoftmax && c <= bndCacheClasses {
		return sc.softmaxRest(x, dist, use, grad, out, base, s, c, w, gs, reduce, hasGrad, j0)
	}
	pr := sc.p[:w]
	// probs sets pr to the probabilities of class k over the run.
	probs := func(k int, xr []T) {
		switch act {
		case kernelspec.ActivationSoftmax:
			if c <= bndCacheClasses {
				for j, e := range sc.e[k*kernelspec.BlockSize : k*kernelspec.BlockSize+w] {
					pr[j] = float64(e) * z[j]
				}
				return
			}
			for j, v := range xr {
				pr[j] = float64(expT(v-m[j])) * z[j]
			}
		case kernelspec.ActivationSigmoid:
			for j, v := range xr {
				pr[j] = sigmoid(float64(v))
			}
		default:
			for j, v := range xr {
				pr[j] = float64(v)
			}
		}
	}
	for k := range c {
		o := row(k)
		xr, dr := x[o:o+w], dist[o:o+w]
		if use[k] == 0 {
			if !reduce {
				clear(out[o : o+w])
			}
			continue
		}
		probs(k, xr)
		for j, p := range pr {
			pe := p * float64(dr[j])
			l[j] += pe
			if !reduce {
				out[o+j] = T(pe)
			}
		}
	}
	if hasGrad {
		for k := range c {
			o := row(k)
			xr, dr, gr := x[o:o+w], dist[o:o+w], grad[o:o+w]
			u := use[k] != 0
			switch act {
			case kernelspec.ActivationSoftmax:
				probs(k, xr)
				for j, p := range pr {
					e := 0.0
					if u {
						e = float64(dr[j])
					}
					gr[j] = T(gs * (p * (e - l[j])))
				}
			case kernelspec.ActivationSigmoid:
				for j, v := range xr {
					e := 0.0
					if u {
						e = float64(dr[j])
					}
					gr[j] = T(gs * (e * sigmoid(float64(v)) * sigmoid(-float64(v))))
				}
			default:
				for j := range gr {
					e := 0.0
					if u {
						e = float64(dr[j])
					}
					gr[j] = T(gs * e)
				}
			}
		}
	}
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	return sum
}

// sigmoid is 1/(1 + exp(−x)) without overflow.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// softmaxRest finishes run for the softmax with the exponentials cached
// (sc.e, and sc.z holding 1/z): the same values in the same order, in
// loops free of per-element dispatch.
func (sc *bndScratch[T]) softmaxRest(x, dist []T, use []int32, grad, out []T, base, s, c, w int,
	gs float64, reduce, hasGrad bool, j0 int) float64 {
	z, l := sc.z[:w], sc.l[:w]
	for k := range c {
		o := base + k*s + j0
		if use[k] == 0 {
			if !reduce {
				clear(out[o : o+w])
			}
			continue
		}
		er, dr := sc.e[k*kernelspec.BlockSize:k*kernelspec.BlockSize+w], dist[o:o+w]
		if reduce {
			for j, e := range er {
				l[j] += float64(e) * z[j] * float64(dr[j])
			}
			continue
		}
		or := out[o : o+w]
		for j, e := range er {
			pe := float64(e) * z[j] * float64(dr[j])
			l[j] += pe
			or[j] = T(pe)
		}
	}
	if hasGrad {
		for k := range c {
			o := base + k*s + j0
			er, gr := sc.e[k*kernelspec.BlockSize:k*kernelspec.BlockSize+w], grad[o:o+w]
			if use[k] == 0 {
				for j, e := range er {
					gr[j] = T(gs * (float64(e) * z[j] * (0 - l[j])))
				}
				continue
			}
			dr := dist[o : o+w]
			for j, e := range er {
				gr[j] = T(gs * (float64(e) * z[j] * (float64(dr[j]) - l[j])))
			}
		}
	}
	sum := 0.0
	for _, v := range l {
		sum += v
	}
	return sum
}
