package losses

import (
	"fmt"
	"math"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Total variation of images [N, C, H, W] (kernels/*/tv.*, host/tv.go):
// per image, over its channels and pixels, phi of the difference of each
// pixel with its right neighbour and with the one below.

// TVNorm is the norm of TotalVariation: piq's norm_type.
type TVNorm int

const (
	// TVL1 sums |d| (anisotropic TV: kornia's total_variation, piq's "l1").
	// It is the zero value.
	TVL1 TVNorm = TVNorm(kernelspec.TVL1)
	// TVL2 is the square root of the image's sum of d² (piq's "l2").
	TVL2 TVNorm = TVNorm(kernelspec.TVL2)
	// TVL2Squared sums d² (piq's "l2_squared").
	TVL2Squared TVNorm = TVNorm(kernelspec.TVL2Squared)
)

func (t TVNorm) String() string {
	switch t {
	case TVL1:
		return "l1"
	case TVL2:
		return "l2"
	case TVL2Squared:
		return "l2_squared"
	}
	return fmt.Sprintf("TVNorm(%d)", int(t))
}

// UnmarshalText parses "l1", "l2" or "l2_squared" (piq's names).
func (t *TVNorm) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "l1", "":
		*t = TVL1
	case "l2":
		*t = TVL2
	case "l2_squared":
		*t = TVL2Squared
	default:
		return fmt.Errorf("%w: norm_type %q: want l1, l2 or l2_squared", ErrInvalidArgument, b)
	}
	return nil
}

// MarshalText writes piq's name of the norm.
func (t TVNorm) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// TVArgs are the tensors of TotalVariation.
type TVArgs struct {
	Input Tensor `loss:"input,in"` // [N, C, H, W]
	// Loss is one element, or [N] with reduction None.
	Loss Tensor `loss:"loss,out"`
	// GradInput, when given, receives d loss / d input; it may not alias
	// Input.
	GradInput Tensor `loss:"grad_input,grad"`
}

// TotalVariationOptions are the options of TotalVariation. The zero value
// is the l1 norm (kornia's total_variation) with the mean over the images
// (piq's default reduction).
type TotalVariationOptions struct {
	// Reduction: Mean averages the N per-image values, Sum adds them,
	// None returns them ([N]).
	Reduction Reduction `json:"reduction"`
	// NormType: l1 (the zero value), l2 or l2_squared.
	NormType TVNorm `json:"norm_type"`
}

// tvChunk is the number of pixels of an image per block of tv_partial.
const tvChunk = 16 * kernelspec.BlockSize

// TotalVariation computes the total variation of each image of input
// [N, C, H, W],
//
//	tv_i = Σ_{c,h,w} phi(x[i,c,h,w+1] − x[i,c,h,w]) + phi(x[i,c,h+1,w] − x[i,c,h,w])
//
// with phi(d) = |d| (l1) or d² (l2_squared), or for l2 the square root of
// the sum of d², then reduces over the images. The gradient of |d| at 0
// is 0 (torch.abs), and that of l2 at an image of zero variation is 0
// (PyTorch's autograd gives NaN there). Launches tv_partial, tv_image,
// tv_grad, reduce_sum.
func TotalVariation(dev device.Device, a TVArgs, opt TotalVariationOptions) error {
	const name = "total_variation"
	if dev == nil || isNilDevice(dev) {
		return argErr(name, "device", "is nil")
	}
	s := stage{dev: dev, loss: name}
	return s.finish(tvStaged(&s, a, opt))
}

func tvStaged(s *stage, a TVArgs, opt TotalVariationOptions) error {
	const name = "total_variation"
	red, norm := opt.Reduction, opt.NormType
	if !red.valid() {
		return argErr(name, "reduction", "unknown reduction %d", int(red))
	}
	if norm != TVL1 && norm != TVL2 && norm != TVL2Squared {
		return argErr(name, "norm_type", "unknown norm %d", int(norm))
	}
	if !a.Input.Present() {
		return argErr(name, "input", "buffer is nil")
	}
	if len(a.Input.Shape) != 4 {
		return argErr(name, "input", "has shape %v: want [N, C, H, W]", a.Input.Shape)
	}
	n, c, h, w := a.Input.Shape[0], a.Input.Shape[1], a.Input.Shape[2], a.Input.Shape[3]
	if !a.Loss.Present() {
		return argErr(name, "loss", "buffer is nil")
	}
	if err := checkLoss(name, a.Loss, red, n); err != nil {
		return err
	}
	if a.GradInput.Present() && !sameShape(a.GradInput.Shape, a.Input.Shape) {
		return argErr(name, "grad_input", "has shape %v, want %v", a.GradInput.Shape, a.Input.Shape)
	}
	ft := a.Input.DType()
	if err := floatType(name, "input", s.dev, ft); err != nil {
		return err
	}
	for _, t := range []struct {
		arg string
		t   Tensor
	}{{"loss", a.Loss}, {"grad_input", a.GradInput}} {
		if t.t.Present() && t.t.DType() != ft {
			return argErr(name, t.arg, "dtype is %s, want the input's %s", t.t.DType(), ft)
		}
	}
	if a.GradInput.Present() && sameMemory(a.GradInput.Buf, a.Input.Buf) {
		return argErr(name, "grad_input", "shares memory with input: the gradient reads the neighbours of each pixel")
	}
	var x, loss, gx device.Buffer
	if err := s.bind(in("input", a.Input, &x), out("loss", a.Loss, &loss), out("grad_input", a.GradInput, &gx)); err != nil {
		return err
	}
	dev := s.dev
	m := c * h * w
	if n == 0 || m == 0 {
		// Nothing to difference: every image's variation is 0 (the mean
		// of no image is NaN), whatever the empty dimensions.
		switch {
		case red == None && n > 0:
			return writeFloats(dev, loss, make([]float64, n))
		case red == Mean && n == 0:
			return writeFloats(dev, loss, []float64{math.NaN()})
		case red != None:
			return writeFloats(dev, loss, []float64{0})
		}
		return nil
	}
	chunks := max(1, (m+tvChunk-1)/tvChunk)
	if err := checkWorkspace(dev, name, (int64(n)*int64(chunks)+2*int64(n))*int64(ft.Size())); err != nil {
		return err
	}
	var tmp []device.Buffer
	defer func() { pool.put(tmp...) }()
	get := func(k int) (device.Buffer, error) {
		b, err := pool.get(dev, ft, k)
		if err == nil {
			tmp = append(tmp, b)
		}
		return b, err
	}
	factor, err := get(n)
	if err != nil {
		return err
	}
	rows := loss
	if red != None {
		if rows, err = get(n); err != nil {
			return err
		}
	}
	{
		partial, err := get(n * chunks)
		if err != nil {
			return err
		}
		N, C, H, W, K := int32(n), int32(c), int32(h), int32(w), int32(norm)
		if err := dev.Launch("tv_partial", blocksGrid(n*chunks), x, N, C, H, W, int32(chunks), K, partial); err != nil {
			return err
		}
		if err := dev.Launch("tv_image", blocksGrid(n), partial, N, int32(chunks), K, rows, factor); err != nil {
			return err
		}
		if gx != nil {
			scale := 1.0
			if red == Mean {
				scale = 1 / float64(n)
			}
			if err := dev.Launch("tv_grad", partialGrid(n*m), x, factor, N, C, H, W, K, scale, gx); err != nil {
				return err
			}
		}
	}
	switch red {
	case None:
		return nil
	case Sum:
		return dev.Launch("reduce_sum", oneBlock, rows, int32(n), 1.0, int32(0), rows, loss)
	}
	return dev.Launch("reduce_sum", oneBlock, rows, int32(n), 1/float64(n), int32(0), rows, loss)
}

func (o TotalVariationOptions) reduction() Reduction { return o.Reduction }

func init() {
	register("total_variation", "TotalVariation", TotalVariation, func(a TVArgs, o TotalVariationOptions) map[string][]int {
		return map[string][]int{"loss": lossShape(o.Reduction, firstDim(a.Input.Shape))}
	}, "tv_partial", "tv_image", "tv_grad", "reduce_sum")
}
