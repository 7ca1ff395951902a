package losses

import (
	"fmt"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/kernels"
)

// PointwiseBuffers are the device buffers of an elementwise loss between
// input and target of the same shape (N elements in all).
type PointwiseBuffers struct {
	Input, Target device.Buffer // [N] float
	N             int
	// Loss receives the loss: 1 element, or N with reduction None.
	Loss device.Buffer
	// GradInput and GradTarget, if not nil, receive d loss / d input and
	// d loss / d target [N]. Either may alias its own argument.
	GradInput, GradTarget device.Buffer
}

// MSEOptions are the options of mse_loss.
type MSEOptions struct {
	Reduction Reduction
	NaN       NaNPolicy
}

// pointwiseSpec describes one elementwise loss to the shared machinery.
type pointwiseSpec struct {
	name   string
	op     int32
	p0, p1 float64
	red    Reduction
	nan    NaNPolicy
}

// MSELoss computes mse_loss: l_i = (input_i - target_i)², reduced by
// opt.Reduction (Mean divides by N; the mean of nothing is NaN), and its
// gradients w.r.t. input and target. It runs one grid-stride kernel that
// writes the gradients and one partial sum per block, then one block that
// adds the partials: no workspace beyond MaxReduceBlocks floats.
func MSELoss(dev device.Device, b PointwiseBuffers, opt MSEOptions) error {
	return pointwise(dev, b, pointwiseSpec{name: "mse_loss", op: kernels.OpMSE, red: opt.Reduction, nan: opt.NaN})
}

// MSELossSlices is MSELoss on Go slices of equal length.
func MSELossSlices[T Float](dev device.Device, input, target []T, opt MSEOptions) (*Result[T], error) {
	return pointwiseSlices(dev, input, target, pointwiseSpec{name: "mse_loss", op: kernels.OpMSE, red: opt.Reduction, nan: opt.NaN})
}

func validatePointwise(dev device.Device, b PointwiseBuffers, sp pointwiseSpec) error {
	if dev == nil {
		return argErr(sp.name, "device", "is nil")
	}
	if err := checkSize(sp.name, "N", b.N); err != nil {
		return err
	}
	if !sp.red.valid() {
		return argErr(sp.name, "reduction", "unknown reduction %d", int(sp.red))
	}
	if b.Input == nil {
		return argErr(sp.name, "input", "buffer is nil")
	}
	ft := b.Input.DType()
	if !ft.IsFloat() {
		return argErr(sp.name, "input", "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return argErr(sp.name, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	nLoss := 1
	if sp.red == None {
		nLoss = b.N
	}
	for _, c := range []struct {
		arg string
		b   device.Buffer
		n   int
		opt bool
	}{{"input", b.Input, b.N, false}, {"target", b.Target, b.N, false}, {"loss", b.Loss, nLoss, false},
		{"grad_input", b.GradInput, b.N, true}, {"grad_target", b.GradTarget, b.N, true}} {
		if err := checkBuf(sp.name, c.arg, dev, c.b, ft, c.n, c.opt); err != nil {
			return err
		}
	}
	if sp.nan != NaNPropagate && sp.nan != NaNError {
		return argErr(sp.name, "nan_policy", "unknown NaN policy %d", int(sp.nan))
	}
	return nil
}

func pointwise(dev device.Device, b PointwiseBuffers, sp pointwiseSpec) error {
	if err := validatePointwise(dev, b, sp); err != nil {
		return err
	}
	if err := checkNaN(sp.name, "input", dev, sp.nan, b.Input, b.N); err != nil {
		return err
	}
	if err := checkNaN(sp.name, "target", dev, sp.nan, b.Target, b.N); err != nil {
		return err
	}
	return pointwiseLaunch(dev, b, sp)
}

func pointwiseLaunch(dev device.Device, b PointwiseBuffers, sp pointwiseSpec) error {
	ft := b.Input.DType()
	g := partialGrid(b.N)
	gs := 1.0
	if sp.red == Mean {
		gs = 1 / float64(b.N) // +Inf for N = 0: no element is touched
	}
	var flags int32
	gx, gy := b.GradInput, b.GradTarget
	if gx != nil {
		flags |= kernels.FlagGradInput
	} else {
		gx = b.Input
	}
	if gy != nil {
		flags |= kernels.FlagGradTarget
	} else {
		gy = b.Input
	}
	out := b.Loss
	if sp.red != None {
		flags |= kernels.FlagReduce
		p, err := pool.get(dev, ft, g.Blocks)
		if err != nil {
			return err
		}
		defer pool.put(p)
		out = p
	}
	if b.N > 0 || sp.red != None {
		if err := dev.Launch("pointwise_loss", g, sp.op, b.Input, b.Target, int32(b.N), sp.p0, sp.p1, gs, flags, gx, gy, out); err != nil {
			return err
		}
	}
	if sp.red == None {
		return nil
	}
	return dev.Launch("reduce_sum", oneBlock, out, int32(g.Blocks), gs, int32(0), out, b.Loss)
}

func pointwiseSlices[T Float](dev device.Device, input, target []T, sp pointwiseSpec) (*Result[T], error) {
	if dev == nil {
		return nil, argErr(sp.name, "device", "is nil")
	}
	if len(input) != len(target) {
		return nil, argErr(sp.name, "target", "has %d elements, want %d (the size of input)", len(target), len(input))
	}
	if floatDType[T]() == device.Float64 && !dev.Info().Float64 {
		return nil, argErr(sp.name, "input", "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	if sp.nan == NaNError {
		for _, a := range []struct {
			n string
			v []T
		}{{"input", input}, {"target", target}} {
			for i, v := range a.v {
				if v != v {
					return nil, argErr(sp.name, a.n, "%s[%d] is NaN (NaN policy is NaNError)", a.n, i)
				}
			}
		}
	}
	n := len(input)
	nLoss := 1
	if sp.red == None {
		nLoss = n
	}
	res := &Result[T]{Loss: make([]T, nLoss), Grad: make([]T, n), GradTarget: make([]T, n)}
	s := staged{dev: dev}
	defer s.release()
	b := PointwiseBuffers{N: n}
	var err error
	if b.Input, err = s.in(sp.name, "input", input); err != nil {
		return nil, err
	}
	if b.Target, err = s.in(sp.name, "target", target); err != nil {
		return nil, err
	}
	if b.Loss, err = s.out(sp.name, "loss", res.Loss); err != nil {
		return nil, err
	}
	if b.GradInput, err = s.out(sp.name, "grad_input", res.Grad); err != nil {
		return nil, err
	}
	if b.GradTarget, err = s.out(sp.name, "grad_target", res.GradTarget); err != nil {
		return nil, err
	}
	sp.nan = NaNPropagate // checked above
	if err := validatePointwise(dev, b, sp); err != nil {
		return nil, err
	}
	if err := pointwiseLaunch(dev, b, sp); err != nil {
		return nil, fmt.Errorf("losses: %s: %w", sp.name, err)
	}
	for _, p := range []struct {
		v any
		b device.Buffer
	}{{res.Loss, b.Loss}, {res.Grad, b.GradInput}, {res.GradTarget, b.GradTarget}} {
		if err := s.read(p.v, p.b); err != nil {
			return nil, err
		}
	}
	return res, nil
}
