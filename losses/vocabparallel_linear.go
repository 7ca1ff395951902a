package losses

import (
	"fmt"
	"math"

	"github.com/lossengine/lossengine/collective"
	"github.com/lossengine/lossengine/device"
)

const vplName = "vocab_parallel_linear_cross_entropy"

// VocabParallelLinearCrossEntropyArgs are the tensors of one rank of the
// vocabulary-parallel fused linear + cross-entropy.
type VocabParallelLinearCrossEntropyArgs struct {
	Hidden Tensor // [N, H], the same on every rank
	// Weight is this rank's rows [VocabStart, VocabStart+Vs) of the output
	// embedding [V, H]; Bias [Vs] (optional) its slice of the bias.
	Weight, Bias Tensor
	Target       Tensor // [N] int32, the full-vocabulary targets, the same on every rank
	Loss         Tensor // one element, or [N] with reduction None; includes the z-loss term
	ZLoss        Tensor // the z-loss term alone, shaped like Loss (optional)
	// GradHidden [N, H] is the whole gradient w.r.t. hidden: the ranks'
	// parts added by one SUM all-reduce of N·H values. GradWeight [Vs, H]
	// and GradBias [Vs] are this rank's rows.
	GradHidden, GradWeight, GradBias Tensor
}

// VocabParallelLinearCrossEntropyOptions: the options of
// VocabParallelCrossEntropy (this rank's Weight slice [Vs], VocabSize,
// VocabStart, ...) and the tile height. ChunkRows 0 chooses the most rows
// whose tile of ⌈V / ranks⌉ columns fits LinearCEChunkBytes (the same on
// every rank).
type VocabParallelLinearCrossEntropyOptions struct {
	VocabParallelCrossEntropyOptions
	ChunkRows int `json:"chunk_rows"`
}

// VocabParallelLinearCrossEntropy is LinearCrossEntropy with the output
// embedding split by rows across the ranks of comm (tensor parallelism of
// a language model's output layer): rank q holds the rows [v0_q, v0_q +
// Vs_q) of weight (and of bias), the ranges tile [0, V), and every rank
// holds the same hidden states and targets. Every rank gets the same loss
// and z-loss, the whole gradient w.r.t. hidden, and the gradient of its
// own weight and bias rows; the result equals LinearCrossEntropy with the
// whole weight up to rounding, and no rank stores more than a tile of
// R × Vs logits.
//
// Collectives: two before the tiles (a MAX of the ranks' agreement on N,
// H, V, the tile height and the options, with a refusal flag, and a SUM
// of each rank's part of the mean's divisor Σ w[t]); per tile of R rows
// a MAX of the R row maxima and one SUM of the packed partials [R, 5]
// (vp_ce_max, vp_ce_partials, as VocabParallelCrossEntropy); none for the
// tile's gradient (vp_ce_rows with the global divisors, then matmul as in
// LinearCrossEntropy); and last one SUM of grad_hidden [N, H]. Every sum
// is taken in a fixed order and the communicators combine ranks in rank
// order: reruns are bitwise identical. comm nil is one rank holding the
// whole vocabulary. Class weights with both z_loss and reduction mean
// are supported; the per-tile losses are added on the host in tile order
// (one read-back of two values per tile, of R values with None).
func VocabParallelLinearCrossEntropy(dev device.Device, comm collective.Communicator,
	a VocabParallelLinearCrossEntropyArgs, opt VocabParallelLinearCrossEntropyOptions) error {
	if dev == nil || isNilDevice(dev) {
		return argErr(vplName, "device", "is nil")
	}
	s := stage{dev: dev, loss: vplName}
	return s.finish(vplStaged(&s, comm, a, opt))
}

func vplStaged(s *stage, comm collective.Communicator, a VocabParallelLinearCrossEntropyArgs,
	opt VocabParallelLinearCrossEntropyOptions) error {
	o := opt.VocabParallelCrossEntropyOptions
	r := vpRun{opt: o, comm: comm, size: 1, red: o.Reduction, ign: o.ignoreIndex()}
	if comm != nil {
		if r.size = comm.Size(); r.size < 1 {
			return argErr(vplName, "comm", "has size %d", r.size)
		}
		r.rank = comm.Rank()
	}
	n, h, vs, err := checkLinear(vplName, s.dev, linearTensors{a.Hidden, a.Weight, a.Bias, a.Target, a.Loss, a.ZLoss,
		Tensor{}, a.GradHidden, a.GradWeight, a.GradBias}, o.Reduction)
	if err != nil {
		return err
	}
	r.n, r.vs = n, vs
	ft := a.Hidden.DType()
	if opt.ChunkRows < 0 || opt.ChunkRows > maxInt32 {
		return argErr(vplName, "chunk_rows", "must be in [0, 2^31), got %d", opt.ChunkRows)
	}
	// Values: a refusal here still joins the first collective.
	verr := vplErr(vpCheckValues(&r))
	var tg []int32
	if verr == nil && n > 0 {
		tg = make([]int32, n)
		if err := a.Target.Buf.Device().Read(tg, a.Target.Buf); err != nil {
			return fmt.Errorf("losses: %s: target: %w", vplName, err)
		}
		verr = vplErr(checkTargets(vplName, tg, r.v, r.ign))
	}
	rows := opt.ChunkRows
	if rows == 0 {
		rows = LinearCEChunkBytes / max(1, ((r.v+r.size-1)/r.size)*ft.Size())
		if rows >= 64 {
			rows -= rows % 64
		}
	}
	rows = max(1, min(rows, n))
	if verr == nil && int64(rows)*int64(vs) > maxInt32 {
		verr = argErr(vplName, "chunk_rows", "a tile of %d rows × Vs = %d exceeds the int32 range of the kernels", rows, vs)
	}
	if verr == nil {
		words := int64(rows)*int64(vs) + 7*int64(rows) + int64(n) + 16 + int64(len(o.Weight))
		verr = checkWorkspace(s.dev, vplName, words*int64(ft.Size()))
	}
	if r.size == 1 && verr != nil {
		return verr
	}
	if verr == nil {
		verr = s.bind(in("hidden", a.Hidden, &r.x), in("target", a.Target, &r.tg), out("loss", a.Loss, &r.loss),
			out("z_loss", a.ZLoss, &r.zl))
	}
	b := vplBufs{rows: rows, h: h, tg: tg}
	if verr == nil {
		verr = s.bind(in("weight", a.Weight, &b.weight), in("bias", a.Bias, &b.bias),
			out("grad_hidden", a.GradHidden, &b.gh), out("grad_weight", a.GradWeight, &b.gw), out("grad_bias", a.GradBias, &b.gb))
	}
	if r.size == 1 && verr != nil {
		return verr
	}
	r.ft = ft
	return vplLaunch(s.dev, &r, &b, verr)
}

// vplErr names a vocab_parallel_cross_entropy error after this loss.
func vplErr(err error) error {
	if ae, ok := err.(*ArgError); ok {
		return &ArgError{Loss: vplName, Arg: ae.Arg, Msg: ae.Msg, Err: ae.Err}
	}
	return err
}

type vplBufs struct {
	weight, bias, gh, gw, gb device.Buffer
	rows, h                  int
	tg                       []int32
}

func vplLaunch(dev device.Device, r *vpRun, b *vplBufs, verr error) (err error) {
	bufs := callBufs{dev: dev, ft: r.ft}
	defer bufs.release()
	alloc := func(n int) (device.Buffer, error) { return bufs.exact(max(n, 1)) }
	exact := bufs.exact
	o, n, h, vs, rows := r.opt, r.n, b.h, r.vs, b.rows
	// 1. Agreement: (a, −a) pairs of N, H, V, the tile height, the options
	// and the rank count under MAX agree iff max(a) = −max(−a); the last
	// value is the refusal flag. 2. The mean's divisor Σ w[t] (SUM), each
	// rank adding the rows whose target it owns.
	var tw, cnt float64
	for _, t := range b.tg {
		if int(t) == r.ign {
			continue
		}
		cnt++
		if k := int(t) - r.v0; k >= 0 && k < vs {
			if o.Weight != nil {
				tw += o.Weight[k]
			} else {
				tw++
			}
		}
	}
	if r.size > 1 {
		agree := []float64{float64(n), float64(h), float64(r.v), float64(rows), float64(r.size), float64(o.Reduction),
			float64(r.ign), o.LabelSmoothing, o.Softcap, o.ZLoss, float64(b2i(o.Weight != nil)), float64(b2i(b.bias != nil))}
		hv := make([]float64, 2*len(agree)+1)
		for i, x := range agree {
			hv[2*i], hv[2*i+1] = x, -x
		}
		if verr != nil {
			hv[len(hv)-1] = 1
		}
		hb, err := exact(len(hv))
		if err != nil {
			return err
		}
		if err := collective.WriteFloat64(hb, hv); err != nil {
			return err
		}
		if err := r.comm.AllReduce(hb, collective.Max); err != nil {
			if verr != nil {
				return verr
			}
			return vplErr(vpCommErr(err))
		}
		got, err := collective.ReadFloat64(hb)
		if err != nil {
			return err
		}
		if verr != nil {
			return verr
		}
		if got[len(got)-1] != 0 {
			return argErr(vplName, "comm", "another rank refused its arguments")
		}
		for i := range agree {
			if got[2*i] != -got[2*i+1] {
				return argErr(vplName, "comm", "the ranks disagree on N, H, V, the tile height, the rank count or an option")
			}
		}
		wb, err := exact(1)
		if err != nil {
			return err
		}
		if err := collective.WriteFloat64(wb, []float64{tw}); err != nil {
			return err
		}
		if err := r.comm.AllReduce(wb, collective.Sum); err != nil {
			return vplErr(vpCommErr(err))
		}
		w, err := collective.ReadFloat64(wb)
		if err != nil {
			return err
		}
		tw = w[0]
	}
	// The global divisors, as vp_ce_denom writes them.
	mean := o.Reduction == Mean
	dce, dz := 1.0, 1.0
	if mean {
		dce, dz = tw, cnt
	}
	denom, err := alloc(4)
	if err != nil {
		return err
	}
	if err := writeFloats(dev, denom, []float64{tw, cnt, dce, dz}); err != nil {
		return err
	}
	cw := denom
	if o.Weight != nil {
		if cw, err = alloc(vs); err != nil {
			return err
		}
		if err := writeFloats(dev, cw, o.Weight); err != nil {
			return err
		}
	}
	hasGrad := b.gh != nil || b.gw != nil || b.gb != nil
	var tile, mx, parts, lrows, zrows, lc, zc, ones device.Buffer
	if n > 0 {
		for _, p := range []struct {
			dst *device.Buffer
			n   int
		}{{&tile, rows * vs}, {&lrows, rows}, {&zrows, rows}, {&lc, 1}, {&zc, 1}} {
			if *p.dst, err = alloc(p.n); err != nil {
				return err
			}
		}
		if b.gb != nil {
			if ones, err = alloc(rows); err != nil {
				return err
			}
			one := make([]float64, rows)
			for i := range one {
				one[i] = 1
			}
			if err := writeFloats(dev, ones, one); err != nil {
				return err
			}
		}
	}
	mm := linearMM{dev: dev, bias: b.bias}
	if mm.bias == nil {
		mm.bias = denom
	}
	none := o.Reduction == None
	var lossSum, zSum float64
	var lossRows, zRows []float64
	if none {
		lossRows, zRows = make([]float64, n), make([]float64, n)
	}
	ign, hasW := int32(r.ign), b2i(o.Weight != nil)
	smooth := b2i(o.LabelSmoothing != 0)
	for r0 := 0; r0 < n; r0 += rows {
		m := min(rows, n-r0)
		if err := mm.run(r.x, b.weight, tile, m, vs, h, false, true, 0, b.bias != nil, r0, 0, 0); err != nil {
			return err
		}
		// The tile's row maxima and partials, each all-reduced over the
		// ranks (exact lengths: every rank has the same tiles).
		if mx, err = exact(m); err != nil {
			return err
		}
		if err := dev.Launch("vp_ce_max", rowGrid(m), tile, r.tg, int32(m), int32(vs), int32(r0), ign, o.Softcap, mx); err != nil {
			return err
		}
		if r.size > 1 {
			if err := r.comm.AllReduce(mx, collective.Max); err != nil {
				return vplErr(vpCommErr(err))
			}
		}
		if parts, err = exact(5 * m); err != nil {
			return err
		}
		if err := dev.Launch("vp_ce_partials", rowGrid(m), tile, r.tg, cw, int32(m), int32(vs), int32(r0), int32(r.v0),
			hasW, ign, smooth, o.Softcap, mx, parts); err != nil {
			return err
		}
		if r.size > 1 {
			if err := r.comm.AllReduce(parts, collective.Sum); err != nil {
				return vplErr(vpCommErr(err))
			}
		}
		if err := dev.Launch("vp_ce_rows", rowGrid(m), tile, r.tg, cw, int32(m), int32(vs), int32(r0), int32(r.v0),
			int32(r.v), hasW, ign, o.LabelSmoothing, o.Softcap, o.ZLoss, mx, parts, denom, b2i(hasGrad), tile,
			b2i(none), lrows, zrows); err != nil {
			return err
		}
		if none {
			l, z := make([]float64, m), make([]float64, m)
			if err := readFloats(dev, l, lrows); err != nil {
				return err
			}
			if err := readFloats(dev, z, zrows); err != nil {
				return err
			}
			copy(lossRows[r0:], l)
			copy(zRows[r0:], z)
		} else {
			if err := dev.Launch("vp_ce_reduce", oneBlock, lrows, zrows, int32(m), b2i(o.ZLoss != 0), denom, lc, zc); err != nil {
				return err
			}
			v := make([]float64, 1)
			if err := readFloats(dev, v, lc); err != nil {
				return err
			}
			lossSum += v[0]
			if err := readFloats(dev, v, zc); err != nil {
				return err
			}
			zSum += v[0]
		}
		bufs.free(mx, parts) // this tile's
		// This rank's part of grad_hidden[r0:r0+m], its grad_weight and
		// grad_bias rows.
		if err := mm.grads(tile, r.x, b.weight, ones, b.gh, b.gw, b.gb, m, h, vs, r0); err != nil {
			return err
		}
	}
	if n == 0 {
		if err := mm.zeroGrads(b.gw, b.gb, vs, h); err != nil {
			return err
		}
		if mean {
			lossSum, zSum = math.NaN(), math.NaN()
		}
	}
	if b.gh != nil && r.size > 1 && n*h > 0 {
		if err := r.comm.AllReduce(b.gh, collective.Sum); err != nil {
			return vplErr(vpCommErr(err))
		}
	}
	if none {
		if err := writeFloats(dev, r.loss, lossRows); err != nil {
			return err
		}
		if r.zl != nil {
			return writeFloats(dev, r.zl, zRows)
		}
		return nil
	}
	if err := writeFloats(dev, r.loss, []float64{lossSum}); err != nil {
		return err
	}
	if r.zl != nil {
		return writeFloats(dev, r.zl, []float64{zSum})
	}
	return nil
}

// readFloats reads a float buffer of either dtype into v.
func readFloats(dev device.Device, v []float64, b device.Buffer) error {
	if b.DType() == device.Float64 {
		return dev.Read(v, b)
	}
	f := make([]float32, len(v))
	if err := dev.Read(f, b); err != nil {
		return err
	}
	for i, x := range f {
		v[i] = float64(x)
	}
	return nil
}
