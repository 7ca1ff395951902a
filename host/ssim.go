package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("ssim_forward", ssimForward[float32], ssimForward[float64])
	register("ssim_plane_stats", ssimPlaneStats[float32], ssimPlaneStats[float64])
	register("ssim_combine", ssimCombine[float32], ssimCombine[float64])
	register("ssim_backward", ssimBackward[float32], ssimBackward[float64])
	register("ssim_pool", ssimPool[float32], ssimPool[float64])
}

// The ssim family: SSIM and MS-SSIM over images [planes, h, w] with a
// separable window g of win weights in the VALID convention (no padding:
// ho = h - win + 1, wo = w - win + 1 outputs). The kernels
// (kernels/src/ssim.h) add each window's taps in float in index order and
// a tile's sums in a fixed tree; the mirrors compute in float64 (for
// float32 buffers too), a plane at a time, adding in index order. Tile t
// of a plane is tile (t / tiles_w, t mod tiles_w) of kernelspec.SSIMTile
// square pixels, tiles_w = ceil(wo / SSIMTile) for ssim_forward (the
// outputs) and ceil(w / SSIMTile) for ssim_backward (the pixels).

const ssimTile = kernelspec.SSIMTile

func ssimTiles(n int) int { return int(kernelspec.SSIMTiles(int64(n))) }

// ssimFwdScratch and ssimBwdScratch recycle the per-plane float64 maps of
// ssimForward and ssimBackward (apart: their sizes differ).
var ssimFwdScratch, ssimBwdScratch jobPool[[]float64]

func ssimGet(pool *jobPool[[]float64], n int) *[]float64 {
	s := pool.get()
	if cap(*s) < n {
		*s = make([]float64, n)
	}
	*s = (*s)[:n]
	return s
}

// ssimForward mirrors ssim_forward(x, y, window, planes, h, w, win, c1,
// c2, has_grad, gs, gc, has_coef, coef, level, gmap, partial). For each
// output o = (oi, oj) of plane p, with g the window:
//
//	mx  = Σ_{a,b<win} g_a g_b x[p, oi+a, oj+b]   (my alike for y)
//	exx, eyy, exy: the same sums of x·x, y·y, x·y
//	sxx = exx - mx², syy = eyy - my², sxy = exy - mx·my   (pytorch-msssim's formula)
//	b1  = mx² + my² + c1,  b2 = sxx + syy + c2
//	l   = (2 mx my + c1) / b1,  cs = (2 sxy + c2) / b2,  ssim = l·cs
//
// partial[2b], partial[2b+1]: the sums of ssim and cs over the outputs of
// block b = p·tiles + t (tile t of plane p). With has_grad, the
// coefficients (cS, cC) = (gs, gc), each times coef[2(level·planes+p)]
// and coef[2(level·planes+p)+1] with has_coef (d loss / d ssim(o) and
// d loss / d cs(o)), and A = cS·cs, B = cS·l + cC:
//
//	gmap[p, 2, o] = G2 = -B·cs / b2                      (d loss / d exx = d loss / d eyy)
//	gmap[p, 3, o] = G3 = 2B / b2                         (d loss / d exy)
//	gmap[p, 0, o] = 2A (my - l·mx) / b1 - 2 mx G2 - my G3 (d loss / d mx)
//	gmap[p, 1, o] = 2A (mx - l·my) / b1 - 2 my G2 - mx G3 (d loss / d my)
//
// gmap is [planes, 4, ho, wo]. The kernel takes the moments of x - cx
// and y - cy, cx and cy the first pixel of the tile (0 where not finite),
// and adds cx and cy back to mx and my: the same values, without the
// cancellation of a common offset in float32; the mirror, in float64,
// takes them of x and y.
func ssimForward[T Float](a argv) error {
	x, y, g := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2)
	planes, h, w, win := a.int(3), a.int(4), a.int(5), a.int(6)
	c1, c2, hasGrad, gs, gc := a.real(7), a.real(8), a.int(9) != 0, a.real(10), a.real(11)
	hasCoef, coef, level, gmap, partial := a.int(12) != 0, fbuf[T](a, 13), a.int(14), fbuf[T](a, 15), fbuf[T](a, 16)
	ho, wo := h-win+1, w-win+1
	if planes == 0 || ho <= 0 || wo <= 0 {
		return nil
	}
	th, tw := ssimTiles(ho), ssimTiles(wo)
	wk := make([]float64, win)
	for k := range wk {
		wk[k] = float64(g[k])
	}
	parallelFor(planes, 1, func(lo, hi int) {
		sp := ssimGet(&ssimFwdScratch, 5*h*wo+2*th*tw)
		defer ssimFwdScratch.put(sp)
		s := *sp
		hx, hy, hxx, hyy, hxy := s[:h*wo], s[h*wo:2*h*wo], s[2*h*wo:3*h*wo], s[3*h*wo:4*h*wo], s[4*h*wo:5*h*wo]
		tiles := s[5*h*wo:]
		for p := lo; p < hi; p++ {
			xp, yp := x[p*h*w:(p+1)*h*w], y[p*h*w:(p+1)*h*w]
			for r := 0; r < h; r++ {
				for j := 0; j < wo; j++ {
					var sx, sy, sxx, syy, sxy float64
					o := r*w + j
					for k, gk := range wk {
						u, v := float64(xp[o+k]), float64(yp[o+k])
						sx += gk * u
						sy += gk * v
						sxx += gk * (u * u)
						syy += gk * (v * v)
						sxy += gk * (u * v)
					}
					q := r*wo + j
					hx[q], hy[q], hxx[q], hyy[q], hxy[q] = sx, sy, sxx, syy, sxy
				}
			}
			clear(tiles)
			cS, cC := gs, gc
			if hasGrad && hasCoef {
				cS *= float64(coef[2*(level*planes+p)])
				cC *= float64(coef[2*(level*planes+p)+1])
			}
			m := ho * wo
			gp := gmap
			if hasGrad {
				gp = gmap[p*4*m : (p+1)*4*m]
			}
			for oi := 0; oi < ho; oi++ {
				for oj := 0; oj < wo; oj++ {
					var mx, my, exx, eyy, exy float64
					for k, gk := range wk {
						q := (oi+k)*wo + oj
						mx += gk * hx[q]
						my += gk * hy[q]
						exx += gk * hxx[q]
						eyy += gk * hyy[q]
						exy += gk * hxy[q]
					}
					mxx, myy, mxy := mx*mx, my*my, mx*my
					sxx, syy, sxy := exx-mxx, eyy-myy, exy-mxy
					b1, b2 := mxx+myy+c1, sxx+syy+c2
					l, cs := (2*mxy+c1)/b1, (2*sxy+c2)/b2
					t := (oi/ssimTile)*tw + oj/ssimTile
					tiles[2*t] += l * cs
					tiles[2*t+1] += cs
					if hasGrad {
						A, B := cS*cs, cS*l+cC
						g2, g3 := -B*cs/b2, 2*B/b2
						g0 := 2*A*(my-l*mx)/b1 - 2*mx*g2 - my*g3
						g1 := 2*A*(mx-l*my)/b1 - 2*my*g2 - mx*g3
						o := oi*wo + oj
						gp[o], gp[o+m], gp[o+2*m], gp[o+3*m] = T(g0), T(g1), T(g2), T(g3)
					}
				}
			}
			for t := range th * tw {
				partial[2*(p*th*tw+t)] = T(tiles[2*t])
				partial[2*(p*th*tw+t)+1] = T(tiles[2*t+1])
			}
		}
	})
	return nil
}

// ssimPlaneStats mirrors ssim_plane_stats(partial, planes, h, w, win,
// level, stats): with tiles the number of ssim_forward's tiles of a level
// of h x w, for each plane p
//
//	stats[2(level·planes+p)]   = Σ_t partial[2(p·tiles+t)]   / (ho·wo)   (mean ssim)
//	stats[2(level·planes+p)+1] = Σ_t partial[2(p·tiles+t)+1] / (ho·wo)   (mean cs)
func ssimPlaneStats[T Float](a argv) error {
	partial, planes, h, w, win, level, stats := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), a.int(4), a.int(5), fbuf[T](a, 6)
	ho, wo := h-win+1, w-win+1
	nt := ssimTiles(ho) * ssimTiles(wo)
	m := float64(ho) * float64(wo)
	for p := range planes {
		var s, c float64
		for t := range nt {
			s += float64(partial[2*(p*nt+t)])
			c += float64(partial[2*(p*nt+t)+1])
		}
		stats[2*(level*planes+p)] = T(s / m)
		stats[2*(level*planes+p)+1] = T(c / m)
	}
	return nil
}

// ssimFactor is the factor u_k of level k of plane p for ssimCombine:
// mean cs below the last level, mean ssim at it, through relu when asked
// (NaN stays NaN, as torch.relu).
func ssimFactor[T Float](stats []T, planes, levels, k, p int, relu bool) (u, t float64) {
	i := 2*(k*planes+p) + 1
	if k == levels-1 {
		i--
	}
	u = float64(stats[i])
	t = u
	if relu && !(u > 0) && u == u {
		t = 0
	}
	return u, t
}

// ssimPow is t^w, t itself for w = 1 (so that a negative t without relu
// stays a number).
func ssimPow(t, w float64) float64 {
	if w == 1 {
		return t
	}
	return math.Pow(t, w)
}

// ssimCombine mirrors ssim_combine(stats, weights, planes, levels, relu,
// loss_scale, grad_scale, plane_loss, coef). For each plane p, with u_k
// the mean cs of level k < levels-1 and the mean ssim of the last level,
// t_k = relu(u_k) when relu (else u_k) and w_k = weights[k]:
//
//	v             = Π_k t_k^w_k
//	plane_loss[p] = loss_scale·(1 - v)
//	coef[2(k·planes+p) + (k == levels-1 ? 0 : 1)]
//	              = -grad_scale·w_k t_k^(w_k-1) Π_{j≠k} t_j^w_j   (0 where relu cuts u_k <= 0)
//
// and the other coefficient of level k is 0. t^1 is t, so that SSIM
// (levels 1, weight 1, relu 0) keeps a negative value.
func ssimCombine[T Float](a argv) error {
	stats, weights, planes, levels, relu := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4) != 0
	ls, gsc, ploss, coef := a.real(5), a.real(6), fbuf[T](a, 7), fbuf[T](a, 8)
	for p := range planes {
		v := 1.0
		for k := range levels {
			_, t := ssimFactor(stats, planes, levels, k, p, relu)
			v *= ssimPow(t, float64(weights[k]))
		}
		ploss[p] = T(ls * (1 - v))
		for k := range levels {
			u, t := ssimFactor(stats, planes, levels, k, p, relu)
			wt := float64(weights[k])
			d := 0.0
			if !relu || u > 0 || u != u {
				d = 1
				if wt != 1 {
					d = wt * math.Pow(t, wt-1)
				}
				for j := range levels {
					if j != k {
						_, tj := ssimFactor(stats, planes, levels, j, p, relu)
						d *= ssimPow(tj, float64(weights[j]))
					}
				}
			}
			q := 2 * (k*planes + p)
			coef[q], coef[q+1] = 0, T(-gsc*d)
			if k == levels-1 {
				coef[q], coef[q+1] = T(-gsc*d), 0
			}
		}
	}
	return nil
}

// ssimBackward mirrors ssim_backward(x, y, window, gmap, planes, h, w,
// win, flags, up_x, up_y, gx, gy), the transposed window: for each pixel
// q = (i, j) of plane p, with G_m = gmap[p, m] (ho x wo, 0 outside) and
// T_m(q) = Σ_{a,b<win} g_a g_b G_m(i-a, j-b),
//
//	gx[q] = T_0 + 2 x[q] T_2 + y[q] T_3 (+ up_x[p, (i + h%2)/2, (j + w%2)/2] / 4 with SSIMUpX)
//	gy[q] = T_1 + 2 y[q] T_2 + x[q] T_3 (+ up_y[...] / 4 with SSIMUpY)
//
// written with SSIMGradX and SSIMGradY; up_x and up_y are
// [planes, ceil(h/2), ceil(w/2)], the gradient w.r.t. the next MS-SSIM
// level, which the 2 x 2 average pool with padding (h%2, w%2) spreads
// back. gx may be x and gy may be y.
func ssimBackward[T Float](a argv) error {
	x, y, g, gmap := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2), fbuf[T](a, 3)
	planes, h, w, win, flags := a.int(4), a.int(5), a.int(6), a.int(7), int32(a.int(8))
	upX, upY, gx, gy := fbuf[T](a, 9), fbuf[T](a, 10), fbuf[T](a, 11), fbuf[T](a, 12)
	ho, wo := h-win+1, w-win+1
	doX, doY := flags&kernelspec.SSIMGradX != 0, flags&kernelspec.SSIMGradY != 0
	if planes == 0 || h <= 0 || w <= 0 || !doX && !doY {
		return nil
	}
	wk := make([]float64, win)
	for k := range wk {
		wk[k] = float64(g[k])
	}
	hu, wu := (h+1)/2, (w+1)/2
	parallelFor(planes, 1, func(lo, hi int) {
		sp := ssimGet(&ssimBwdScratch, 4*max(ho, 0)*w+4)
		defer ssimBwdScratch.put(sp)
		s := *sp
		m := max(ho, 0) * max(wo, 0)
		for p := lo; p < hi; p++ {
			// Horizontal: H_m(or, j) = Σ_k g_k G_m(or, j-k).
			for mi := range 4 {
				if ho <= 0 || wo <= 0 {
					break
				}
				G := gmap[p*4*m+mi*m : p*4*m+(mi+1)*m]
				Hm := s[mi*ho*w : (mi+1)*ho*w]
				for or := 0; or < ho; or++ {
					Gr, Hr := G[or*wo:(or+1)*wo], Hm[or*w:(or+1)*w]
					for j := 0; j < w; j++ {
						// taps k with 0 <= j-k < wo, in index order
						var acc float64
						for k := max(0, j-wo+1); k <= min(win-1, j); k++ {
							acc += wk[k] * float64(Gr[j-k])
						}
						Hr[j] = acc
					}
				}
			}
			H0, H1, H2, H3 := s[:max(ho, 0)*w], s[max(ho, 0)*w:2*max(ho, 0)*w], s[2*max(ho, 0)*w:3*max(ho, 0)*w], s[3*max(ho, 0)*w:4*max(ho, 0)*w]
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					var t [4]float64
					if wo > 0 {
						for k := max(0, i-ho+1); k <= min(win-1, i); k++ {
							gk, q := wk[k], (i-k)*w+j
							t[0] += gk * H0[q]
							t[1] += gk * H1[q]
							t[2] += gk * H2[q]
							t[3] += gk * H3[q]
						}
					}
					o := (p*h+i)*w + j
					xv, yv := float64(x[o]), float64(y[o])
					ou := (p*hu+(i+h%2)/2)*wu + (j+w%2)/2
					if doX {
						v := t[0] + 2*xv*t[2] + yv*t[3]
						if flags&kernelspec.SSIMUpX != 0 {
							v += 0.25 * float64(upX[ou])
						}
						gx[o] = T(v)
					}
					if doY {
						v := t[1] + 2*yv*t[2] + xv*t[3]
						if flags&kernelspec.SSIMUpY != 0 {
							v += 0.25 * float64(upY[ou])
						}
						gy[o] = T(v)
					}
				}
			}
		}
	})
	return nil
}

// ssimPool mirrors ssim_pool(x, planes, h, w, out): pytorch-msssim's
// avg_pool2d(kernel 2, padding (h%2, w%2)) with the padding counted in the
// divisor: for r < ceil(h/2), c < ceil(w/2),
//
//	out[p, r, c] = Σ_{a,b ∈ {0,1}} x[p, 2r - h%2 + a, 2c - w%2 + b] / 4
//
// over the terms inside the image, added row by row.
func ssimPool[T Float](a argv) error {
	x, planes, h, w, out := fbuf[T](a, 0), a.int(1), a.int(2), a.int(3), fbuf[T](a, 4)
	hu, wu := (h+1)/2, (w+1)/2
	parallelFor(planes, max(1, 1<<16/max(h*w, 1)), func(lo, hi int) {
		for p := lo; p < hi; p++ {
			ssimPoolPlane(x[p*h*w:], out[p*hu*wu:], h, w)
		}
	})
	return nil
}

// ssimPoolPlane is ssimPool on one plane.
func ssimPoolPlane[T Float](xp, out []T, h, w int) {
	hu, wu := (h+1)/2, (w+1)/2
	{
		for r := range hu {
			for c := range wu {
				i, j := 2*r-h%2, 2*c-w%2
				var s float64
				if i >= 0 {
					if j >= 0 {
						s += float64(xp[i*w+j])
					}
					s += float64(xp[i*w+j+1])
				}
				if j >= 0 {
					s += float64(xp[(i+1)*w+j])
				}
				s += float64(xp[(i+1)*w+j+1])
				out[r*wu+c] = T(0.25 * s)
			}
		}
	}
}
