// Package kernelspec is the manifest of lossengine's kernels: each kernel's
// name, family (the base name of kernels/src/<family>.h and
// host/<family>.go), argument kinds and size rules, with the launch
// constants the kernels and their callers share (block size, op codes,
// flags, reductions). Every backend's Launch checks its arguments against
// it, kinds with CheckArgs and sizes with CheckSizes, before it queues
// anything; the parity tests hold the kernel bodies and the host mirrors
// to it. It is internal: users call the losses, not the kernels.
//
// # Size rules
//
// Each buffer argument has a Need: the number of elements the kernel body
// and its host mirror may touch, as a function of the launch's int32
// arguments and of its grid's block count, named "blocks" in a rule. A rule
// is a product of arguments and constants ("n*c", "3*N*s_max"), or a
// formula a product cannot state, such as a broadcast
// ("min(w_len, ceil(n/w_stride))") or the CTC layouts
// ("(T-1)*stride_t + (N-1)*stride_n + C"). A rule may be gated by an int32
// argument ("n*c if has_grad") or by flag bits ("n if flags&FlagGradInput"):
// where the gate is 0 the kernel does not touch the buffer, and any buffer,
// even an empty one, may stand in. A rule asks for what the kernel may
// touch over every value that device memory can hold; where a kernel reads
// a buffer at indices it reads from another buffer (a class weight at a
// target's value), the rule is the range the kernel guards those indices
// to (weight: c). Rules are evaluated in int64 with products that saturate
// (no buffer is long enough for a product that overflows), and a negative
// result is refused.
//
// Kernel.Sizes lists the int32 arguments that count or space elements
// (rows, columns, lengths, strides); a launch with one of them negative is
// refused, whether or not a product of them would come out positive.
// Kernel.Requires states the other conditions on the scalars that a kernel
// needs to stay within its buffers: the CTC blank inside [0, C) and s_max
// at least 1 where a sequence has frames, and a bound of MaxIntLoop on the
// arguments that end a loop whose int index steps by BlockSize (scale_rows'
// c, the CTC kernels' C and s_max), where the last step would overflow and
// the index turn negative. (A broadcast's len and stride, which le_bcast
// divides by, must be at least 1 wherever it is read: its Need says so.)
//
// Grids. Every kernel that takes a block per row (or per sequence, or per
// broadcast value) guards its block index: a block past the last row runs
// its loops zero times and writes nothing, so a grid larger than the rows
// touches nothing more and no rule bounds it. The grid-stride kernels take
// any grid; their per-block partial outputs (out with FlagReduce, counts)
// need one element per block. The host mirrors compute every row whatever
// the grid, so a rule covers all rows even where a smaller grid would
// leave some untouched on an accelerator.
//
// What a launch cannot check. The CTC kernels read targets (and
// target_next, laid out alike) at target_offsets[n] + j for
// j < target_lengths[n], index x by the label values, and address states
// up to 2*target_lengths[n] + 1, which must not exceed s_max: all of these
// are values in device memory, which a launch cannot bound without reading
// them back. Those two buffers have no Need (Arg.Unchecked says why);
// package losses validates the targets, offsets and lengths on the host
// before it launches (and the host mirror checks each sequence and gives
// NaN for one out of range), and each kernel clamps input_lengths[n] to
// [0, T]. Class-index targets of the cross-entropy and row-wise kernels
// are read from device memory as well, but those kernels use a target
// only inside [0, c).
//
// CheckSizes allocates nothing unless it fails. Its errors, which the
// backends wrap in device.ErrBadArguments, name the kernel, the argument,
// the rule and both sizes, e.g.
//
//	kernels: cross_entropy_rows: grad needs 21 elements (n*c if has_grad), the buffer has 20
package kernelspec
