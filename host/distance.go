package host

import (
	"fmt"
	"math"
)

// SignedDistanceMap writes into dst [N, classes, d1, ..., dk] the signed
// distance maps of the label maps labels [N, d1, ..., dk] (shape), one per
// class, with the convention of the boundary loss (Kervadec et al., MIDL
// 2019; their one_hot2dist): for class k of image i, with S the pixels
// labelled k and ‖·‖ the Euclidean distance in physical units (spacing[a]
// along axis a; nil spacing: 1 on every axis),
//
//	outside S: +dist(x, S)                  (the distance to the nearest pixel of S)
//	inside S:  −(dist(x, ∁S) − 1)           (0 on S's pixels next to the outside)
//
// A class absent from an image (S empty) gets zeros, as in the reference,
// and so does a class that fills the image (∁S empty: no boundary, no
// distance). The distances are exact: the squared Euclidean distance
// transform of Felzenszwalb and Huttenlocher (2012), the lower envelope of
// parabolas along each axis in turn, in time linear in the number of
// pixels per class. Labels must lie in [0, classes). Images and classes
// run in parallel.
func SignedDistanceMap[T Float](dst []T, labels []int32, shape []int, classes int, spacing []float64) error {
	if len(shape) < 2 {
		return fmt.Errorf("shape %v: want [N, d1, ...] with at least one spatial dimension", shape)
	}
	if classes < 1 {
		return fmt.Errorf("classes = %d: want at least 1", classes)
	}
	n, spatial := shape[0], shape[1:]
	vol := 1
	for i, d := range shape {
		if d < 0 {
			return fmt.Errorf("shape %v: dimension %d is negative", shape, i)
		}
		if i > 0 {
			if d > 0 && vol > math.MaxInt32/d {
				return fmt.Errorf("shape %v: too many pixels", shape)
			}
			vol *= d
		}
	}
	if n > 0 && vol > 0 && (n > math.MaxInt32/vol || n*vol > math.MaxInt32/classes) {
		return fmt.Errorf("shape %v with %d classes: too many elements", shape, classes)
	}
	if len(labels) != n*vol {
		return fmt.Errorf("labels has %d elements, shape %v needs %d", len(labels), shape, n*vol)
	}
	if len(dst) != n*classes*vol {
		return fmt.Errorf("dst has %d elements, want N·classes·pixels = %d", len(dst), n*classes*vol)
	}
	sp := make([]float64, len(spatial))
	for a := range sp {
		sp[a] = 1
		if spacing != nil {
			if len(spacing) != len(spatial) {
				return fmt.Errorf("spacing has %d values, want one per spatial dimension (%d)", len(spacing), len(spatial))
			}
			sp[a] = spacing[a]
			if !(sp[a] > 0) || math.IsInf(sp[a], 1) {
				return fmt.Errorf("spacing[%d] = %v: want a positive finite value", a, sp[a])
			}
		}
	}
	for i, l := range labels {
		if l < 0 || int(l) >= classes {
			return fmt.Errorf("labels[%d] = %d is out of range [0, %d)", i, l, classes)
		}
	}
	if n == 0 || vol == 0 {
		return nil
	}
	parallelFor(n*classes, 1, func(lo, hi int) {
		e := newEDT(spatial, sp)
		for t := lo; t < hi; t++ {
			i, k := t/classes, int32(t%classes)
			lab := labels[i*vol : (i+1)*vol]
			out := dst[t*vol : (t+1)*vol]
			e.signed(lab, k, func(j int, v float64) { out[j] = T(v) })
		}
	})
	return nil
}

// edt holds the scratch of squared distance transforms over one shape.
type edt struct {
	dims    []int
	spacing []float64
	in, out []float64 // squared distances in, squared distances to S out (all pixels)
	line    []float64 // one line's values
	res     []float64 // one line's result
	v       []int     // parabola positions of the lower envelope
	z       []float64 // boundaries between them
}

func newEDT(dims []int, spacing []float64) *edt {
	vol, long := 1, 0
	for _, d := range dims {
		vol *= d
		long = max(long, d)
	}
	return &edt{dims: dims, spacing: spacing, in: make([]float64, vol), out: make([]float64, vol),
		line: make([]float64, long), res: make([]float64, long), v: make([]int, long), z: make([]float64, long+1)}
}

// signed calls set(j, value) for every pixel j of the signed distance map
// of class k over the labels of one image (see SignedDistanceMap).
func (e *edt) signed(lab []int32, k int32, set func(j int, v float64)) {
	inside := 0
	for _, l := range lab {
		if l == k {
			inside++
		}
	}
	if inside == 0 || inside == len(lab) {
		for j := range lab {
			set(j, 0)
		}
		return
	}
	// Distances to S, for the pixels outside.
	e.transform(lab, func(l int32) bool { return l == k })
	for j, l := range lab {
		if l != k {
			set(j, math.Sqrt(e.out[j]))
		}
	}
	// Distances to the outside, for the pixels inside.
	e.transform(lab, func(l int32) bool { return l != k })
	for j, l := range lab {
		if l == k {
			set(j, 1-math.Sqrt(e.out[j])) // −(d − 1), +0 on the border as in the reference
		}
	}
}

// transform sets e.out to the squared Euclidean distance of each pixel to
// the nearest pixel whose label satisfies target (there is at least one).
func (e *edt) transform(lab []int32, target func(int32) bool) {
	inf := math.Inf(1)
	for j, l := range lab {
		if target(l) {
			e.out[j] = 0
		} else {
			e.out[j] = inf
		}
	}
	// One axis at a time: the lines along axis a are spaced by stride.
	stride := 1
	for a := len(e.dims) - 1; a >= 0; a-- {
		d := e.dims[a]
		vol := len(lab)
		for start := 0; start < vol; start++ {
			if (start/stride)%d != 0 { // not the first pixel of its line
				continue
			}
			for q := range d {
				e.line[q] = e.out[start+q*stride]
			}
			e.line1D(d, e.spacing[a])
			for q := range d {
				e.out[start+q*stride] = e.res[q]
			}
		}
		stride *= d
	}
}

// line1D sets e.res[q] = min_r ((q − r)·h)² + e.line[r] for q < d: the
// lower envelope of the parabolas rooted at the finite e.line[r]
// (Felzenszwalb and Huttenlocher, Algorithm 1), positions scaled by h.
func (e *edt) line1D(d int, h float64) {
	f, v, z := e.line[:d], e.v, e.z
	kk := -1
	for q := range d {
		if math.IsInf(f[q], 1) {
			continue
		}
		pq := float64(q) * h
		for kk >= 0 {
			pv := float64(v[kk]) * h
			s := ((f[q] + pq*pq) - (f[v[kk]] + pv*pv)) / (2 * (pq - pv))
			if s <= z[kk] {
				kk--
				continue
			}
			kk++
			v[kk], z[kk] = q, s
			break
		}
		if kk < 0 {
			kk = 0
			v[0], z[0] = q, math.Inf(-1)
		}
		z[kk+1] = math.Inf(1)
	}
	if kk < 0 {
		for q := range d {
			e.res[q] = math.Inf(1)
		}
		return
	}
	j := 0
	for q := range d {
		pq := float64(q) * h
		for z[j+1] < pq {
			j++
		}
		dv := pq - float64(v[j])*h
		e.res[q] = dv*dv + f[v[j]]
	}
}
