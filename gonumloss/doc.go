// Package gonumloss runs any declared loss of package losses on gonum
// matrices: the inputs are *mat.Dense and *mat.VecDense (float64), the
// loss comes back as a float64 and every gradient as a matrix of its
// input's shape, with no copying by hand.
//
// # Shapes
//
// A *mat.VecDense (any mat.Vector) of length n is a tensor of shape [n]; a
// *mat.Dense (any other mat.Matrix) with r rows and c columns is a tensor
// of shape [r, c]. A loss that wants another rank (ctc_loss's log_probs
// [T, N, C], an image batch [N, C, H, W], a scalar) takes Reshape(m,
// shape...): the matrix's elements in row-major order, read with the given
// shape.
//
// # Integer tensors
//
// The losses' int32 tensors (class indices, CTC targets and lengths,
// actions, masks) are passed as float64 matrices holding integral values;
// each value is checked and converted, and a non-integral or out-of-range
// value is an *losses.ArgError naming the tensor and the element. A tensor
// a loss takes either as floats or as indices (cross_entropy's target,
// dice_loss's target, the policy losses' actions) is read as indices when it
// is a vector (rank 1) or is wrapped by Indices, as floats otherwise.
//
// # Copies
//
// On a device that computes in float64 (the host), a *mat.Dense whose
// Stride equals its column count and a *mat.VecDense whose Inc is 1 are
// used in place: the loss reads the matrix's own memory. A view with a
// larger stride (a Slice of a wider matrix, a column, a ColView) is packed
// into a new contiguous slice first, and so is every other mat.Matrix
// (a transpose, a *mat.SymDense, ...). The outputs are allocated by the
// loss's declaration (losses.Decl.Call) and the result matrices wrap them
// without a copy. On a float32-only device (OpenCL, CUDA) the inputs are
// converted to float32, which the upload to the device needs anyway, and
// the results converted back.
//
// Integer tensors are always converted (one int32 copy).
//
// # Errors
//
// Every error of a bad input is an *losses.ArgError (errors.Is(err,
// losses.ErrInvalidArgument)): an unknown loss or input, a non-integral
// index, a Reshape whose shape does not hold the matrix's elements, and
// every shape the loss itself refuses.
package gonumloss
