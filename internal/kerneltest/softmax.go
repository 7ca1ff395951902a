package kerneltest

import (
	"fmt"
	"testing"
)

// Tolerances of the softmax family (and of lse wherever it is an output).
var (
	lseTol     = tol{rel: 2e-5, abs: 2e-8}
	lseGradTol = tol{rel: 2e-5, abs: 2e-9}
	// The kernels form log-softmax as (z − m) − log(s) with s = Σ exp(z − m)
	// added in float32, so log(s) carries s's rounding (a few 2⁻²⁴) as an
	// absolute error, as PyTorch's float32 log_softmax does; the float32
	// host mirror adds s in float64. Hence the floors, 3e-7 on y and 1e-7
	// on dx; the worst differences seen on PoCL are 6.5e-8 and 6e-8.
	softmaxTol    = tol{rel: 5e-5, abs: 5e-9, floor: 3e-7}
	softmaxDxTol  = tol{rel: 5e-5, abs: 5e-8, floor: 1e-7}
	softmaxShapes = []shape{{1, 1}, {2, 3}, {5, 3}, {4, 0}, {0, 5}, {7, 1000}, {5, 257}, {3, 131072}}
)

// softmaxCase is one input of the softmax family.
type softmaxCase struct {
	shape
	// variant: "plain"; "-inf" (-inf entries and an all -inf row 1);
	// "nan" (the same and a NaN in row 0); "mixed" (-inf entries, an all
	// -inf row 2, a NaN in row 3 and a +inf in row 4, so that those rows'
	// lse is NaN).
	variant string
	invTau  float64
}

func softmaxCases() []softmaxCase {
	var out []softmaxCase
	for _, s := range softmaxShapes {
		for _, v := range []string{"plain", "-inf", "nan", "mixed"} {
			if v != "plain" && s.rows*s.cols == 0 || v == "mixed" && s.rows*s.cols < 1000 {
				continue
			}
			for _, inv := range []float64{1, 0.5, 2} {
				out = append(out, softmaxCase{s, v, inv})
			}
		}
	}
	return out
}

func (c softmaxCase) input(i int) []float32 {
	rng := newRand(1, i)
	rows, cols := c.rows, c.cols
	x := randn(rng, rows*cols, 3)
	switch c.variant {
	case "-inf", "nan":
		special(rng, x, c.shape, c.variant == "nan")
	case "mixed":
		x[1], x[5], x[cols+7] = negInf, negInf, negInf
		for k := 0; k < cols && rows >= 3; k++ {
			x[2*cols+k] = negInf
		}
		if rows >= 5 {
			x[3*cols+cols/2] = nan
			x[4*cols+cols-1] = posInf
		}
	}
	return x
}

// testSoftmax compares the four softmax-family kernels with their mirrors,
// for both output kinds, out of place and in place; the backward kernels
// get the mirror's forward results.
func testSoftmax(t *testing.T, s *suite) {
	for i, c := range softmaxCases() {
		t.Run(fmt.Sprintf("%v/%s/inv_tau=%g", c.shape, c.variant, c.invTau), func(t *testing.T) {
			r := s.rig(t)
			xs := c.input(i)
			rng := newRand(2, i)
			n, rows := len(xs), c.rows
			R, C, inv := int32(c.rows), int32(c.cols), c.invTau
			x := r.buf(xs)
			yTol, dxTol := softmaxTol, softmaxDxTol
			if c.invTau > 1 {
				// Sharper rows (|inv_tau·x| up to about 46): log-softmax
				// y = inv_tau·x − lse keeps only the absolute precision of
				// lse, and the backward pass inherits it; PoCL needs the
				// abs term of 1e-6 here (4e-8 and 7e-7 at worst).
				yTol.abs, dxTol.abs = 1e-6, 1e-6
			}

			r.launch("logsumexp_rows", rows, x, R, C, inv, zeros(max(rows, 1)))
			r.compare(exact, on("lse", lseTol))
			lse := r.mirror("lse")
			dlse := r.buf(randn(rng, max(rows, 1), 1))
			r.launch("logsumexp_backward_rows", rows, x, lse, dlse, R, C, inv, zeros(n))
			r.compare(exact, on("dx", lseGradTol))
			xc := r.buf(xs)
			r.launch("logsumexp_backward_rows", rows, xc, lse, dlse, R, C, inv, xc) // dx = x
			r.compare(exact, on("dx", lseGradTol))

			for _, logOut := range []int32{0, 1} {
				r.launch("softmax_rows", rows, x, R, C, inv, logOut, zeros(n))
				r.compare(exact, on("y", yTol))
				y := r.mirror("y")
				xc := r.buf(xs)
				r.launch("softmax_rows", rows, xc, R, C, inv, logOut, xc) // y = x
				r.compare(exact, on("y", yTol))

				dy := r.buf(randn(rng, n, 1))
				r.launch("softmax_backward_rows", rows, y, dy, R, C, inv, logOut, zeros(n))
				r.compare(exact, on("dx", dxTol))
				r.launch("softmax_backward_rows", rows, y, dy, R, C, inv, logOut, dy) // dx = dy
				r.compare(exact, on("dx", dxTol))
			}
		})
	}
}
