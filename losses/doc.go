// Package losses is lossengine's public API: loss functions that return
// the loss value and its gradients, on any device.
//
// # One shape for every loss
//
// Every loss X is one Go function with one arguments struct and one
// options struct:
//
//	func X(dev device.Device, a XArgs, opt XOptions) error
//
// X is the torch.nn.functional name in Go's camel case (CrossEntropy,
// NLLLoss, CTCLoss, MSELoss, Softmax; the source's name where PyTorch has
// none: CategoricalHinge, DistillKL, LogCosh). Losses that share their
// tensors share an Args type (ElementwiseArgs, LabelArgs,
// ClassTargetArgs, RowArgs, SoftmaxArgs); every options type is the
// function's name plus Options, and its zero value means PyTorch's
// defaults (reduction mean, ignore_index −100, no weights, no smoothing).
//
// The fields of an Args struct are Tensors named after PyTorch's
// arguments: inputs (Input, Target, Var, LogProbs, ...), the loss (Loss),
// other results (LSE, LogLikelihood, Output) and gradients, named Grad
// plus the input's name (GradInput, GradTarget, GradVar, GradLogProbs).
// A gradient is computed only when its tensor is given, so a zero Tensor
// means "not needed".
//
// # Tensors: buffer form and slice form
//
// A Tensor is a device.Buffer with its shape; dimensions are read from the
// shapes, never passed apart. The same call takes tensors already on the
// device (NewTensor: nothing is copied, the buffer form a training
// backend uses) or Go slices (HostTensor: on the host device they are used
// in place; on an accelerator they are copied there and the results
// copied back):
//
//	loss, grad := make([]float32, 1), make([]float32, n*c)
//	err := losses.CrossEntropy(dev, losses.CrossEntropyArgs{
//		Input:     losses.HostTensor(logits, n, c),
//		Target:    losses.HostTensor(targets, n), // []int32
//		Loss:      losses.HostTensor(loss),
//		GradInput: losses.HostTensor(grad, n, c),
//	}, losses.CrossEntropyOptions{LabelSmoothing: 0.1})
//
// Tensors are row-major: element (i, j) of input [N, C] is input[i*C+j].
// Class targets, lengths and masks are int32. Device kernels take float32;
// the host device also takes float64 and then computes in float64 end to
// end: it is the reference.
//
// With reduction None the gradient is that of the sum of the per-sample
// losses (an upstream gradient of ones).
//
// # One declaration per loss
//
// Each loss is declared once (register, next to its function): its name,
// its function, its Args (whose `loss` struct tags give each tensor's
// PyTorch name, role and dtype), its options (whose json tags give
// PyTorch's keyword names) and its kernels. Declarations lists them;
// Lookup finds one; Decl.Call runs one on named tensors and allocates its
// outputs; Decl.DecodeOptions reads its options from JSON. `lossbench
// eval`, the sweep, the equivalence table and the PyTorch cross-check
// enumerate the declarations, so a new loss is its kernel body, its host
// mirror, its function and declaration, and its tests.
//
// # Errors and determinism
//
// Arguments are validated once, before anything is launched, with the same
// error text on every backend (an *ArgError naming the argument, matching
// ErrInvalidArgument). A call that fails validation writes nothing.
//
// Reductions over the batch use fixed trees and no floating-point atomics:
// the same call twice gives bitwise-identical results on a device.
package losses
