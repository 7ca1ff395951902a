// Package lossgorgonia makes lossengine's losses gorgonia operations, so
// that a gorgonia graph can end in any declared loss and train through it
// with gorgonia.Grad and a TapeMachine.
//
// Loss builds the node of a loss named as in lossengine's declaration
// table (losses.Lookup); CrossEntropy, CTCLoss and Elementwise are its
// typed forms. The node's value is the loss, a scalar of the first input's
// dtype (the loss's reduction must be Mean or Sum). Its gradient flows to
// the first input only (input, log_probs: the model's output); the other
// inputs (targets, lengths) are data.
//
// # What runs where
//
// The forward calls the loss through its declaration (Decl.Call), which
// computes the loss and the gradient in one call; the backward node
// (built by SymDiff) calls it again and scales the gradient by the
// upstream one. The loss is thus computed twice per step: the op does not
// cache the forward's gradient, because gorgonia may run a graph's forward
// without its backward and an op value is shared by every node built from
// it. Float64 tensors need the host device; accelerators take float32.
// Integer inputs (class indices, CTC targets and lengths) may be
// tensor.Int or tensor.Int32; they are converted to int32.
//
// On the host device the values' backing arrays are used in place; on an
// accelerator they are copied there and the results copied back (see the
// package documentation of losses for the buffer form that avoids it).
//
// Both of gorgonia's differentiation paths are implemented: symbolic
// (SymDiff, used by gorgonia.Grad and a TapeMachine) and automatic
// (DoDiff, used by a LispMachine, which adds the gradient to the first
// input's dual value in place).
package lossgorgonia
