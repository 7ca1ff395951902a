// Package kernelspec is the manifest of lossengine's kernels: each kernel's
// name, family (the base name of kernels/src/<family>.h and
// host/<family>.go) and argument kinds, with the launch constants the
// kernels and their callers share (block size, op codes, flags,
// reductions). Every backend's Launch checks its arguments against it with
// CheckArgs; the parity tests hold the kernel bodies and the host mirrors
// to it. It is internal: users call the losses, not the kernels.
package kernelspec
