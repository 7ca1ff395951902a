package losses

import (
	"fmt"
	"strings"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// Float is the element type of float tensors.
type Float = device.Float

// Reduction says how per-sample losses are combined. The zero value is Mean.
type Reduction int

const (
	Mean Reduction = Reduction(kernelspec.ReductionMean) // average (weighted where the loss has weights)
	Sum  Reduction = Reduction(kernelspec.ReductionSum)  // sum
	None Reduction = Reduction(kernelspec.ReductionNone) // one loss per sample
	// BatchMean (kl_div only) divides the sum by the batch size, PyTorch's
	// reduction="batchmean".
	BatchMean Reduction = 3
)

func (r Reduction) String() string {
	switch r {
	case Mean:
		return "mean"
	case Sum:
		return "sum"
	case None:
		return "none"
	case BatchMean:
		return "batchmean"
	}
	return fmt.Sprintf("Reduction(%d)", int(r))
}

// ParseReduction parses "mean", "sum" or "none" (PyTorch's names).
func ParseReduction(s string) (Reduction, error) {
	switch strings.ToLower(s) {
	case "mean", "":
		return Mean, nil
	case "sum":
		return Sum, nil
	case "none":
		return None, nil
	case "batchmean":
		return BatchMean, nil
	}
	return 0, fmt.Errorf("%w: reduction %q: want none, mean, sum or batchmean", ErrInvalidArgument, s)
}

func (r Reduction) valid() bool { return r == Mean || r == Sum || r == None }

// NaNPolicy says what to do with NaN in the inputs. The zero value
// propagates NaN into the results, as PyTorch does.
type NaNPolicy int

const (
	NaNPropagate NaNPolicy = iota
	// NaNError rejects inputs that contain NaN with an error naming the
	// argument. On an accelerator this costs one extra read of the input.
	NaNError
)

// DefaultIgnoreIndex is PyTorch's default ignore_index.
const DefaultIgnoreIndex = -100

// Index returns a pointer to i, for options such as IgnoreIndex.
func Index(i int) *int { return &i }

// Value returns a pointer to v, for options such as HuberLossOptions.Delta.
func Value(v float64) *float64 { return &v }

// UnmarshalText parses PyTorch's names: none, mean, sum, batchmean.
func (r *Reduction) UnmarshalText(b []byte) error {
	v, err := ParseReduction(string(b))
	if err != nil {
		return fmt.Errorf("%q is not one of none, mean, sum", string(b))
	}
	*r = v
	return nil
}

// MarshalText writes PyTorch's name.
func (r Reduction) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (p NaNPolicy) String() string {
	switch p {
	case NaNPropagate:
		return "propagate"
	case NaNError:
		return "error"
	}
	return fmt.Sprintf("NaNPolicy(%d)", int(p))
}

// UnmarshalText parses propagate or error.
func (p *NaNPolicy) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "", "propagate":
		*p = NaNPropagate
	case "error":
		*p = NaNError
	default:
		return fmt.Errorf("%q is not one of propagate, error", string(b))
	}
	return nil
}

// MarshalText writes propagate or error.
func (p NaNPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }
