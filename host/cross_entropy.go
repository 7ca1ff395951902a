package host

import (
	"math"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() {
	register("cross_entropy_weight_sum", crossEntropyWeightSum[float32], crossEntropyWeightSum[float64])
	register("cross_entropy_rows", crossEntropyRows[float32], crossEntropyRows[float64])
	register("cross_entropy_rows_ext", crossEntropyRowsExt[float32], crossEntropyRowsExt[float64])
}

// crossEntropyWeightSum mirrors cross_entropy_weight_sum(target, weight, n,
// c, has_weight, ignore_index, reduction, denom):
//
//	denom[0] = Σ_{i<n, target[i] != ignore_index} w(target[i])
//	denom[1] = denom[0] if reduction == mean, else 1
//
// with w(k) = weight[k] if has_weight, else 1, and w(k) = NaN for a target
// outside [0, c) (only reachable with SkipTargetCheck). denom[1] is the
// divisor of cross_entropy_rows' gradient (a divisor, not a factor 1/s,
// which overflows for a subnormal weight sum); an all-ignored batch under
// mean gives denom = [0, 0] (and the ignored rows' gradient stays 0).
// The kernel adds in a fixed tree; the mirror in index order.
func crossEntropyWeightSum[T Float](a argv) error {
	tg, w, n, c, hasW, ign, red, denom := a.ints(0), fbuf[T](a, 1), a.int(2), a.int(3), a.int(4) != 0, a.int(5), int32(a.int(6)), fbuf[T](a, 7)
	var s float64
	for i := 0; i < n; i++ {
		t := int(tg[i])
		if t == ign {
			continue
		}
		if t < 0 || t >= c {
			s = math.NaN()
		} else if hasW {
			s += float64(w[t])
		} else {
			s++
		}
	}
	denom[0] = T(s)
	denom[1] = 1
	if red == kernelspec.ReductionMean {
		denom[1] = T(s)
	}
	return nil
}

// crossEntropyRows mirrors cross_entropy_rows(x, target, weight, n, c,
// has_weight, ignore_index, label_smoothing, denom, has_grad, grad,
// loss_rows, has_lse, lse): fused softmax cross-entropy over logits
// x [n, c] with integer targets, one row per block. For row i with target
// t (t != ignore_index), ε = label_smoothing, w(k) = weight[k] or 1,
// W = Σ_k w(k), L = log Σ_k exp(x[i,k]), p_k = exp(x[i,k] - L):
//
//	loss_rows[i] = (1-ε) w(t) (L - x[i,t]) + ε/c Σ_k w(k) (L - x[i,k])
//	grad[i,k]    = ( p_k ((1-ε) w(t) + ε W / c) - (1-ε) w(t) [k==t] - ε w(k) / c ) / denom[1]
//	lse[i]       = L                                   (if has_lse)
//
// Ignored rows get loss_rows[i] = 0 and a zero gradient row (lse is still
// written). A target outside [0, c) (only reachable with SkipTargetCheck)
// gives a NaN loss and a NaN gradient row. The gradient is written only if has_grad; grad may be x (in
// place). Probabilities are never stored apart from the gradient row.
func crossEntropyRows[T Float](a argv) error {
	return ceRows[T](a, ceExt[T]{})
}

// crossEntropyRowsExt mirrors cross_entropy_rows_ext(x, target, weight, n,
// c, has_weight, ignore_index, label_smoothing, denom, has_grad, grad,
// loss_rows, has_lse, lse, softcap, z_loss, zdenom, has_z, z_rows,
// has_acc, acc_rows, row0): crossEntropyRows on the soft-capped logits
// x'_k = s·tanh(x[i,k]/s) (s = softcap; none when 0), with PaLM's z-loss
// z_i = z_loss·L² added to each counted row, and the accuracy. With
// L = log Σ_k exp(x'_k), p_k = exp(x'_k − L):
//
//	loss_rows[i] = ce_i + z_i·r,  r = denom[1]/zdenom[1] (1 when they are equal)
//	grad[i,k]    = (ce gradient w.r.t. x'_k + 2 z_loss L p_k / zdenom[1]) · (1 − tanh²(x[i,k]/s))
//	z_rows[i]    = z_i                               (if has_z)
//	acc_rows[i]  = 1 if t is the first index of the largest x'_k, else 0   (if has_acc)
//
// where ce_i and its gradient are crossEntropyRows' on x'. r gives the
// z-loss the divisor zdenom[1] (the number of counted rows) when
// loss_rows are added and divided by denom[1] (Σ w(t)). Ignored rows have
// z 0 and accuracy 0. x and grad hold rows row0 .. row0+n−1 of a larger
// batch: row i's target and per-row outputs are at row0 + i. The factor 1 − tanh² is computed here as 1/cosh²,
// which keeps its relative accuracy where tanh saturates.
func crossEntropyRowsExt[T Float](a argv) error {
	e := ceExt[T]{softcap: a.real(14), z: a.real(15)}
	zdenom := fbuf[T](a, 16)
	if a.int(3) > 0 {
		e.zdiv = float64(zdenom[1])
		e.r = 1
		if d := fbuf[T](a, 8); d[1] != zdenom[1] {
			e.r = float64(d[1]) / float64(zdenom[1])
		}
	}
	if a.int(17) != 0 {
		e.zRows = fbuf[T](a, 18)
	}
	if a.int(19) != 0 {
		e.accRows = fbuf[T](a, 20)
	}
	e.row0 = a.int(21)
	return ceRows[T](a, e)
}

// ceExt are cross_entropy_rows_ext's epilogues (all off in the zero value).
type ceExt[T Float] struct {
	softcap, z float64
	zdiv, r    float64 // zdenom[1], and denom[1]/zdenom[1]
	zRows      []T     // per-row z-losses, or nil
	accRows    []T     // per-row accuracies, or nil
	row0       int     // the first row's index in target and the per-row outputs
}

func ceRows[T Float](a argv, e ceExt[T]) error {
	x, tg, w := fbuf[T](a, 0), a.ints(1), fbuf[T](a, 2)
	n, c, hasW, ign, eps := a.int(3), a.int(4), a.int(5) != 0, a.int(6), a.real(7)
	denom, hasGrad, grad, loss, hasLSE, lseOut := fbuf[T](a, 8), a.int(9) != 0, fbuf[T](a, 10), fbuf[T](a, 11), a.int(12) != 0, fbuf[T](a, 13)
	// Row i's target and per-row outputs sit at row0 + i.
	r0 := e.row0
	tg, loss = tg[r0:], loss[r0:]
	if hasLSE {
		lseOut = lseOut[r0:]
	}
	if e.zRows != nil {
		e.zRows = e.zRows[r0:]
	}
	if e.accRows != nil {
		e.accRows = e.accRows[r0:]
	}
	var div float64 // denom[1]: read only for the gradient, as the kernel reads it
	if hasGrad && n > 0 {
		div = float64(denom[1])
	}
	var wsum float64 // W
	if hasW {
		for _, v := range w[:c] {
			wsum += float64(v)
		}
	} else {
		wsum = float64(c)
	}
	wk := func(k int) float64 {
		if hasW {
			return float64(w[k])
		}
		return 1
	}
	sc := e.softcap
	parallelFor(n, rowsGrain(c), func(lo, hi int) {
		var capped, sech2 []T // soft-capped row and 1 − tanh², with softcap
		if sc > 0 {
			capped, sech2 = make([]T, c), make([]T, c)
		}
		for i := lo; i < hi; i++ {
			row := x[i*c : (i+1)*c]
			if sc > 0 {
				for k, v := range row {
					u := float64(v) / sc
					capped[k] = T(sc * math.Tanh(u))
					ch := math.Cosh(u)
					sech2[k] = T(1 / (ch * ch))
				}
				row = capped
			}
			t := int(tg[i])
			ignored := t == ign
			if e.zRows != nil {
				e.zRows[i] = 0
			}
			if e.accRows != nil {
				e.accRows[i] = 0
			}
			if !ignored && (t < 0 || t >= c) {
				loss[i] = T(math.NaN())
				if hasGrad {
					for k := range grad[i*c : (i+1)*c] {
						grad[i*c+k] = T(math.NaN())
					}
				}
				if hasLSE {
					lseOut[i] = rowLSE(row)
				}
				continue
			}
			m := rowMax(row)
			// Σ_k w(k) x[i,k] for the smoothing term, read before an
			// in-place gradient overwrites the row.
			var wx float64
			if eps != 0 && !ignored {
				for k, v := range row {
					wx += wk(k) * float64(v)
				}
			}
			var xt float64
			if !ignored {
				xt = float64(row[t])
				if e.accRows != nil && xt == xt {
					correct := T(1)
					for k, v := range row {
						if float64(v) > xt || float64(v) == xt && k < t {
							correct = 0
							break
						}
					}
					e.accRows[i] = correct
				}
			}
			var gr []T
			if hasGrad && !ignored {
				gr = grad[i*c : (i+1)*c]
			}
			var L float64
			if math.IsInf(float64(m), -1) || m != m {
				L = float64(m)
				if gr != nil {
					for k := range gr {
						gr[k] = T(math.NaN())
					}
					gr = nil
				}
			} else {
				L = float64(m) + math.Log(expShiftSum(gr, row, m))
			}
			if hasLSE {
				lseOut[i] = T(L)
			}
			if ignored {
				loss[i] = 0
				if hasGrad {
					clear(grad[i*c : (i+1)*c])
				}
				continue
			}
			wt := wk(t)
			l := (1 - eps) * wt * (L - xt)
			if eps != 0 {
				l += eps / float64(c) * (wsum*L - wx)
			}
			zl := e.z * L * L
			if e.z != 0 {
				l += zl * e.r
			}
			if e.zRows != nil {
				e.zRows[i] = T(zl)
			}
			loss[i] = T(l)
			if gr == nil {
				continue
			}
			// gr holds exp(x' - m); p_k = gr[k] * exp(m - L).
			pscale := math.Exp(float64(m) - L)
			cf := ((1-eps)*wt + eps*wsum/float64(c)) / div
			if e.z != 0 {
				cf += 2 * e.z * L / e.zdiv
			}
			coef := T(pscale * cf)
			epc := eps / float64(c)
			sm := T(epc / div)
			if hasW && eps != 0 {
				for k := range gr {
					gr[k] = gr[k]*coef - T(epc*(float64(w[k])/div))
				}
			} else {
				for k := range gr {
					gr[k] = gr[k]*coef - sm
				}
			}
			gr[t] -= T((1 - eps) * wt / div)
			if sc > 0 {
				for k := range gr {
					gr[k] *= sech2[k]
				}
			}
		}
	})
	return nil
}
