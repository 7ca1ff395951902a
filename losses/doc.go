// Package losses is lossengine's public API: loss functions that return
// the loss value and its gradient, on any device.
//
// # Layouts and memory spaces
//
// Tensors are row-major: element (i, j) of input [N, C] is input[i*C+j].
// Class targets are int32. Each loss comes in two forms:
//
//   - a buffer form (CrossEntropy, MSELoss, LogSoftmax, ...) that works on
//     device.Buffers already on the device, writes the loss into a caller
//     buffer and the gradient into a caller buffer (or skips it when the
//     gradient buffer is nil), and never copies tensors to the host;
//   - a slice form (CrossEntropySlices, MSELossSlices, ...) that copies Go
//     slices to the device and the results back; on the host device it
//     wraps the slices without copying.
//
// Device kernels take float32. The host device also takes float64 and then
// computes in float64 end to end: it is the reference.
//
// # Conventions
//
// Names and meanings follow torch.nn.functional. Every options struct's
// zero value is valid and means PyTorch's defaults (reduction "mean",
// ignore_index -100, no weights, no smoothing). With reduction None the
// gradient returned is that of the sum of the per-sample losses (an
// upstream gradient of ones).
//
// Arguments are validated once, before anything is launched, with the same
// error text on every backend (an *ArgError naming the argument, matching
// ErrInvalidArgument). A call that fails validation writes nothing.
//
// Reductions over the batch use fixed trees and no floating-point atomics:
// the same call twice gives bitwise-identical results on a device.
package losses
