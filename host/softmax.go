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
	if invTau == 1 {
		// No scaled copy needed: run allocation-free (ctc_loss's logits path).
		j := lseJobs[T]().get()
		j.x, j.out, j.rows, j.cols, j.grain = x, out, rows, cols, rowsGrain(cols)
		runPar(&j.p, j, (rows+j.grain-1)/j.grain)
		j.x, j.out = nil, nil
		lseJobs[T]().put(j)
		return nil
	}
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		buf := make([]T, cols)
		for r := lo; r < hi; r++ {
			row := scaled(buf, x[r*cols:(r+1)*cols], invTau)
			out[r] = rowLSE(row)
		}
	})
	return nil
}

// lseJob is logsumexp_rows with inv_tau 1; item i is rows [i·grain, (i+1)·grain).
type lseJob[T Float] struct {
	p                 par
	x, out            []T
	rows, cols, grain int
}

func (j *lseJob[T]) item(i int) {
	x32, is32 := any(j.x).([]float32)
	out32, _ := any(j.out).([]float32)
	for r := i * j.grain; r < min((i+1)*j.grain, j.rows); r++ {
		if is32 {
			out32[r] = rowLSE32(x32[r*j.cols : (r+1)*j.cols])
		} else {
			j.out[r] = rowLSE(j.x[r*j.cols : (r+1)*j.cols])
		}
	}
}

// rowLSE32 is rowLSE for float32 in one pass over the row: the reference
// is the largest of (up to) 16 sampled values instead of the row's
// maximum, so the sum (in four float64 lanes) includes exp(0) = 1 and
// every term exp(x − ref) with x − ref <= 88 is exact to float32
// precision. A value more than 88 above the reference, a NaN, or a row of
// −Inf sends the row to rowLSE (max first). With ctcVec the row goes
// through rowLSE32Vec (ctcvec.go), the maximum and the sum in one vector
// loop each, tails included.
func rowLSE32(row []float32) float32 {
	if len(row) == 0 {
		return float32(math.Inf(-1))
	}
	if ctcVec {
		return rowLSE32Vec(row)
	}
	ref := float32(math.Inf(-1))
	step := max(1, len(row)/16)
	for i := 0; i < len(row); i += step {
		ref = max(ref, row[i])
	}
	if !(ref > -math.MaxFloat32 && ref < math.MaxFloat32) { // −Inf, +Inf or NaN
		return rowLSE(row)
	}
	var s0, s1, s2, s3 float64
	hi := ref + 88
	over := false
	i := 0
	for ; i+4 <= len(row); i += 4 {
		v := row[i : i+4 : i+4]
		if v[0] > hi || v[1] > hi || v[2] > hi || v[3] > hi {
			over = true
			break
		}
		s0 += float64(expNeg(v[0] - ref))
		s1 += float64(expNeg(v[1] - ref))
		s2 += float64(expNeg(v[2] - ref))
		s3 += float64(expNeg(v[3] - ref))
	}
	for ; i < len(row) && !over; i++ {
		if row[i] > hi {
			over = true
			break
		}
		s0 += float64(expf(row[i] - ref))
	}
	if over {
		return rowLSE(row)
	}
	return float32(float64(ref) + math.Log((s0+s1)+(s2+s3)))
}

var (
	lseJobs32 jobPool[lseJob[float32]]
	lseJobs64 jobPool[lseJob[float64]]
)

func lseJobs[T Float]() *jobPool[lseJob[T]] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(&lseJobs32).(*jobPool[lseJob[T]])
	}
	return any(&lseJobs64).(*jobPool[lseJob[T]])
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
//	z = x[r,:] * inv_tau, m = max_c z_c, s = Σ_c exp(z_c - m)
//	y[r,c] = exp(z_c - m) / s      if log_out == 0 (softmax)
//	y[r,c] = (z_c - m) - log(s)    if log_out != 0 (log-softmax)
//
// (that is, exp(z_c − lse(z)) and z_c − lse(z), without rounding
// lse(z) = m + log(s) to the spacing of m). A row with a NaN or +Inf
// element, or all −Inf, gives NaN.
// y may be x (in place).
func softmaxRows[T Float](a argv) error {
	x, rows, cols, invTau, logOut, y := fbuf[T](a, 0), a.int(1), a.int(2), T(a.real(3)), a.int(4) != 0, fbuf[T](a, 5)
	parallelFor(rows, rowsGrain(cols), func(lo, hi int) {
		buf := make([]T, cols)
		for r := lo; r < hi; r++ {
			row := scaled(buf, x[r*cols:(r+1)*cols], invTau)
			out := y[r*cols : (r+1)*cols]
			// exp(z − m)/s and (z − m) − log s, with m the row's maximum
			// and s = Σ exp(z − m), rather than through l = m + log s:
			// l rounded to T's spacing at m is far coarser than a
			// confident row's log-probabilities near 0.
			m := rowMax(row)
			if math.IsInf(float64(m), -1) || m != m {
				l := rowLSE(row) // −Inf or NaN: the outputs are NaN
				for c, z := range row {
					if logOut {
						out[c] = z - l
					} else {
						out[c] = T(math.Exp(float64(z - l)))
					}
				}
				continue
			}
			if !logOut {
				inv := T(1 / expShiftSum(out, row, m)) // exp(z − m), m = max(row)
				for c := range out {
					out[c] *= inv
				}
				continue
			}
			ls := T(math.Log(expShiftSum(nil, row, m)))
			for c, z := range row {
				out[c] = (z - m) - ls
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
			c0 := 0
			if logOut { // float32 with AVX2: the first len &^ 7 (or 15) in a vector loop
				if y32, ok := any(yr).([]float32); ok {
					c0 = softmaxBwdLogVec(as32(dxr), y32, as32(dyr), float32(st), float32(invTau))
				}
			}
			for c := c0; c < len(yr); c++ {
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
