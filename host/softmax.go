package host

import "math"

func init() {
	register("logsumexp_rows", logsumexpRows[float32], logsumexpRows[float64])
	register("logsumexp_backward_rows", logsumexpBackwardRows[float32], logsumexpBackwardRows[float64])
	register("softmax_rows", softmaxRows[float32], softmaxRows[float64])
	register("softmax_backward_rows", softmaxBackwardRows[float32], softmaxBackwardRows[float64])
}

const rowGrain = 1 << 15 // elements per goroutine, at least

func rowsGrain(cols int) int { return max(1, rowGrain/max(cols, 1)) }

// scaled returns x*invTau into buf (or x itself when invTau is 1).
func scaled[T Float](buf, x []T, invTau T) []T {
	if invTau == 1 {
		return x
	}
	buf = buf[:len(x)]
	for i, v := range x {
		buf[i] = v * invTau
	}
	return buf
}

// logsumexpRows mirrors logsumexp_rows(x, rows, cols, inv_tau, lse):
//
//	lse[r] = log Σ_c exp(x[r*cols+c] * inv_tau)
//
// for r < rows, computed stably (max subtracted). A row of -Inf gives -Inf;
// a NaN gives NaN; cols == 0 gives -Inf.
func logsumexpRows[T Float](a argv) error {
	x, rows, cols, invTau, out := fbuf[T](a, 0), a.int(1), a.int(2), T(a.real(3)), fbuf[T](a, 4)
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		buf := make([]T, cols)
		for r := lo; r < hi; r++ {
			row := scaled(buf, x[r*cols:(r+1)*cols], invTau)
			out[r] = rowLSE(row)
		}
	})
	return nil
}

// rowLSE is log Σ exp(row) with the max subtracted.
func rowLSE[T Float](row []T) T {
	m := rowMax(row)
	if math.IsInf(float64(m), -1) || m != m {
		return m
	}
	return T(float64(m) + math.Log(expShiftSum[T](nil, row, m)))
}

// logsumexpBackwardRows mirrors logsumexp_backward_rows(x, lse, dlse, rows,
// cols, inv_tau, dx):
//
//	dx[r,c] = dlse[r] * inv_tau * exp(x[r,c]*inv_tau - lse[r])
//
// the gradient of lse[r] = log Σ_c exp(x[r,c]*inv_tau) scaled by dlse[r].
func logsumexpBackwardRows[T Float](a argv) error {
	x, lse, dl, rows, cols, invTau, dx := fbuf[T](a, 0), fbuf[T](a, 1), fbuf[T](a, 2), a.int(3), a.int(4), T(a.real(5)), fbuf[T](a, 6)
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			g := dl[r] * invTau
			for c := r * cols; c < (r+1)*cols; c++ {
				dx[c] = g * expT(x[c]*invTau-lse[r])
			}
		}
	})
	return nil
}

// softmaxRows mirrors softmax_rows(x, rows, cols, inv_tau, log_out, y):
//
//	z = x[r,:] * inv_tau
//	y[r,c] = exp(z_c - lse(z))     if log_out == 0 (softmax)
//	y[r,c] = z_c - lse(z)          if log_out != 0 (log-softmax)
//
// y may be x (in place).
func softmaxRows[T Float](a argv) error {
	x, rows, cols, invTau, logOut, y := fbuf[T](a, 0), a.int(1), a.int(2), T(a.real(3)), a.int(4) != 0, fbuf[T](a, 5)
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		buf := make([]T, cols)
		for r := lo; r < hi; r++ {
			row := scaled(buf, x[r*cols:(r+1)*cols], invTau)
			l := rowLSE(row)
			out := y[r*cols : (r+1)*cols]
			for c, z := range row {
				if logOut {
					out[c] = z - l
				} else {
					out[c] = expT(z - l)
				}
			}
		}
	})
	return nil
}

// softmaxBackwardRows mirrors softmax_backward_rows(y, dy, rows, cols,
// inv_tau, log_out, dx), given the forward output y and the upstream
// gradient dy:
//
//	softmax:      dx[r,c] = inv_tau * y[r,c] * (dy[r,c] - Σ_k dy[r,k]*y[r,k])
//	log-softmax:  dx[r,c] = inv_tau * (dy[r,c] - exp(y[r,c]) * Σ_k dy[r,k])
//
// dx may be dy (in place).
func softmaxBackwardRows[T Float](a argv) error {
	y, dy, rows, cols, invTau, logOut, dx := fbuf[T](a, 0), fbuf[T](a, 1), a.int(2), a.int(3), T(a.real(4)), a.int(5) != 0, fbuf[T](a, 6)
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, dyr, dxr := y[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols], dx[r*cols:(r+1)*cols]
			var s float64
			for c := range yr {
				if logOut {
					s += float64(dyr[c])
				} else {
					s += float64(dyr[c]) * float64(yr[c])
				}
			}
			st := T(s)
			for c := range yr {
				if logOut {
					dxr[c] = invTau * (dyr[c] - expT(yr[c])*st)
				} else {
					dxr[c] = invTau * yr[c] * (dyr[c] - st)
				}
			}
		}
	})
	return nil
}
