// Package losstest is the equivalence suite: one table of cases, written
// once, that runs every declared loss on every available device in
// float32 and compares the loss, the gradients and the other results with
// the host path computing in float64.
//
// Each case names its loss and runs it through the loss's declaration
// (losses.Lookup(name).Call, named input tensors and an options value);
// its results are gathered by name into Outputs (OutputsOf). The
// elementwise rows are generated for every declared loss that launches
// the pointwise_loss kernel (Elementwise), so a new elementwise loss gets
// them without an edit here.
//
// Cases cover shapes that are not multiples of any block size, empty
// batches, 1×1, C up to 131072, extreme logits (±1e4, -Inf), all-ignored
// and all-masked batches, sample weights and masks, nan_policy error and
// label smoothing with class weights; for ctc_loss, variable lengths
// within a batch, empty targets and inputs, impossible sequences (with
// and without zero_infinity), repeated labels, blank anywhere, padded and
// concatenated targets, logits input, batch-major layout, more states than
// a block has threads, and L = 200 over T = 1000 (compared with a
// tolerance that allows for float32 log-alpha; see ctcCases); for
// seq_cross_entropy, both normalisations, padding and all-padding
// batches. Each case also runs twice and requires bitwise-identical
// results (determinism).
//
// TestEquivalence (in this package) runs the table on every compiled-in
// backend's devices; a backend with no device present is skipped with the
// reason, never passed silently. Build with -tags opencl or -tags cuda to
// include those backends. TestEveryLossHasCases fails for a declared loss
// with no case; TestEveryKernelIsDeclared for a manifest kernel that no
// declaration launches (or a declared kernel missing from the manifest);
// TestDeclaredKernelsCoverLaunches for a case that launches a kernel its
// declaration does not list.
package losstest
