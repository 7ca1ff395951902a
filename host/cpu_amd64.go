//go:build amd64 && !purego

package host

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the CPU and the operating system support
// AVX2 and FMA3, which the vector loops in *_amd64.s need. golang.org/x/sys/cpu
// reports a feature only when the OS also saves the registers it uses
// (XGETBV), so a kernel without AVX state support turns the loops off.
var hasAVX2FMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports whether the CPU and the operating system support
// AVX-512F (with AVX2 and FMA3), which the 16-lane loops need.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F
