// Package losstest is the equivalence suite: one table of cases, written
// once, that runs every loss on every available device in float32 and
// compares the loss and gradients with the host path computing in float64.
//
// Cases cover shapes that are not multiples of any block size, empty
// batches, 1×1, C up to 131072, extreme logits (±1e4, -Inf), all-ignored
// batches and label smoothing with class weights; for ctc_loss, variable
// lengths within a batch, empty targets and inputs, impossible sequences
// (with and without zero_infinity), repeated labels, blank anywhere,
// padded and concatenated targets, logits input, batch-major layout, more
// states than a block has threads, and L = 200 over T = 1000 (compared
// with a tolerance that allows for float32 log-alpha; see ctcCases). Each case also runs twice
// and requires bitwise-identical results (determinism).
//
// TestEquivalence (in this package) runs the table on every compiled-in
// backend's devices; a backend with no device present is skipped with the
// reason, never passed silently. Build with -tags opencl or -tags cuda to
// include those backends.
package losstest
