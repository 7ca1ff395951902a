package losstest

import (
	"fmt"
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

func init() { familyCases = append(familyCases, contrastiveCases) }

// conCase runs a contrastive loss through its declaration; Grad is the
// gradients of every float input given, in the declaration's order, one
// after the other (nt_xent_loss's z1 and z2, info_nce_loss's three).
func conCase(name, loss string, tol float64, ins inputs, opt any) Case {
	c := declCase(name, loss, tol, ins, opt)
	c.Run = func(dev device.Device, f64 bool) (Outputs, error) {
		d, _ := losses.Lookup(loss)
		ts := map[string]losses.Tensor{}
		for n, v := range ins {
			switch {
			case v.isInt:
				ts[n] = losses.HostTensor(v.i, v.shape...)
			case f64:
				ts[n] = losses.HostTensor(v.f, v.shape...)
			default:
				ts[n] = losses.HostTensor(to32(v.f), v.shape...)
			}
		}
		res, err := d.Call(dev, ts, opt)
		if err != nil {
			return Outputs{}, err
		}
		var o Outputs
		o.Loss = losses.Floats(res["loss"])
		for _, p := range d.Params {
			if g, ok := res[p.Name]; ok && p.Role == losses.Grad {
				o.Grad = append(o.Grad, losses.Floats(g)...)
			}
		}
		return o, nil
	}
	return c
}

// conEmb returns n rows of d float32-exact normal values; dup copies row 0
// to row 1 (a duplicate embedding), zero clears the last row.
func conEmb(r *rand.Rand, n, d int, dup, zero bool) []float64 {
	x := logits(r, n*d, 1)
	if dup && n > 1 {
		copy(x[d:2*d], x[:d])
	}
	if zero && n > 2 {
		clear(x[(n-1)*d:])
	}
	return x
}

func conLabelsOf(r *rand.Rand, b, classes int) []int32 {
	l := make([]int32, b)
	for i := range l {
		l[i] = int32(r.IntN(classes))
	}
	return l
}

func contrastiveCases() []Case {
	var cs []Case
	r := rand.New(rand.NewPCG(2024, 5))
	const tol = 2e-5
	for _, sh := range [][2]int{{1, 8}, {2, 3}, {17, 19}, {131, 40}, {64, 128}} {
		n, d := sh[0], sh[1]
		z1, z2 := conEmb(r, n, d, true, true), conEmb(r, n, d, false, false)
		cs = append(cs, conCase(fmt.Sprintf("nt_xent_loss/two-view/N=%d/D=%d", n, d), "nt_xent_loss", tol,
			inputs{"embeddings": fl(z1, n, d), "z2": fl(z2, n, d)}, losses.NTXentOptions{}))
		for li, classes := range []int{3, 1, 1 << 20} { // some classes, one class only, every label distinct
			if n < 2 && classes != 3 {
				continue
			}
			lab := conLabelsOf(r, n, classes)
			if classes == 1<<20 {
				for i := range lab {
					lab[i] = int32(i)
				}
				if n < 2 {
					continue
				}
				lab[1] = lab[0] // one positive pair among distinct labels
			}
			cs = append(cs, conCase(fmt.Sprintf("nt_xent_loss/labels/B=%d/D=%d/%d", n, d, li), "nt_xent_loss", tol,
				inputs{"embeddings": fl(conEmb(r, n, d, true, true), n, d), "labels": ints(lab, n)},
				// the default eps is the element type's machine epsilon (optax's): one eps for both types
				losses.NTXentOptions{Eps: ptr(1e-6)}))
		}
		m := 2*n + 3
		if n > 1 { // B = 1 in-batch: one logit, loss and gradient 0 (a unit test)
			cs = append(cs, conCase(fmt.Sprintf("info_nce_loss/in-batch/B=%d/D=%d", n, d), "info_nce_loss", tol,
				inputs{"query": fl(z1, n, d), "positive_key": fl(z2, n, d)}, losses.InfoNCEOptions{}))
		}
		cs = append(cs,
			conCase(fmt.Sprintf("info_nce_loss/negatives/B=%d/M=%d/D=%d", n, m, d), "info_nce_loss", tol,
				inputs{"query": fl(z1, n, d), "positive_key": fl(z2, n, d), "negative_keys": fl(conEmb(r, m, d, false, true), m, d)},
				losses.InfoNCEOptions{}))
		for _, v := range []int{1, 2, 3} {
			if n*v <= 2 {
				continue // no negative: loss and gradient 0 (a unit test)
			}
			f := conEmb(r, n*v, d, n >= 17, false) // a duplicate among few rows saturates the loss (gradient all cancellation)
			for _, mode := range []string{"all", "one"} {
				cs = append(cs,
					conCase(fmt.Sprintf("supcon_loss/B=%d/V=%d/D=%d/%s", n, v, d, mode), "supcon_loss", tol,
						inputs{"features": fl(f, n, v, d)}, losses.SupConOptions{ContrastMode: mode}),
					conCase(fmt.Sprintf("supcon_loss/labels/B=%d/V=%d/D=%d/%s", n, v, d, mode), "supcon_loss", tol,
						inputs{"features": fl(f, n, v, d), "labels": ints(conLabelsOf(r, n, 4), n)},
						losses.SupConOptions{ContrastMode: mode, Temperature: ptr(0.1)}))
			}
		}
	}
	// τ = 0.01 at D = 2048: logits up to 100, no overflow; views near each other.
	n, d := 24, 2048
	z1 := conEmb(r, n, d, false, false)
	for q := range d { // sample 1 near sample 0: a large negative logit
		z1[d+q] = float64(float32(z1[q] + 0.3*r.NormFloat64()))
	}
	z2 := make([]float64, n*d)
	for i := range z2 {
		z2[i] = z1[i] + 8*r.NormFloat64()
	}
	cs = append(cs, conCase("nt_xent_loss/two-view/cold/N=24/D=2048", "nt_xent_loss", 1e-4,
		inputs{"embeddings": fl(z1, n, d), "z2": fl(roundTo32(z2), n, d)}, losses.NTXentOptions{Temperature: ptr(0.01)}))
	return cs
}
