// Package kerneltest is the kernel conformance suite: one table of kernel
// cases, written once, that every backend runs against the host mirrors,
// in the manner of gonum's testblas or testing/fstest.
//
// Run launches each case on the device under test and, with the same
// arguments, on the host mirror (host.Default), then compares every buffer
// argument of the launch: outputs within the tolerance the case gives for
// that argument, the other float buffers exactly (or, where both sides
// computed them in an earlier launch, within that launch's tolerance),
// int32 buffers exactly. A kernel's inputs are the mirror's results of the
// kernel before it, so that each kernel is compared on its own. A backend's test is a few lines:
//
//	func TestKernels(t *testing.T) { kerneltest.Run(t, openTheDevice(t)) }
//
// The tolerances are the same on every device. The table merges the
// CUDA and OpenCL copies it replaces; where they held one check to
// different tolerances it keeps the stricter one that passes on PoCL
// (mostly the OpenCL copy's: the CUDA copy used 1e-4 relative, 1e-6 of the
// largest value, nearly throughout), and says so where a case needs more.
//
// The families (subtests of Run) are softmax, cross_entropy, pointwise,
// reduce, rowloss, scale_rows, ctc, ctc_nan, determinism and sizes. When all
// of them ran, Run fails if a kernel of the manifest was never compared.
// The sizes family (sizes.go) holds Launch to the manifest's size rules:
// for every kernel, a launch with exactly the buffer lengths it needs runs
// and writes nothing past them, and one buffer an element short, a
// negative size or a bad scalar is refused with device.ErrBadArguments,
// without a panic and with every buffer unchanged.
// Bench times the CTC kernels on a device.
//
// The package's own test runs the suite on the host device, where the
// device under test and the mirror are the same code: there it checks the
// harness, the case generators and the checks that do not need a second
// implementation (the float64 mirror in ctc_nan, CTC self-consistency,
// determinism), not the mirrors themselves.
package kerneltest
