//go:build amd64 && !purego

package host

// cpuid and xgetbv are in cpu_amd64.s.
func cpuid(eaxIn, ecxIn uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// hasAVX2FMA reports whether the CPU and the operating system support
// AVX2 and FMA3, which the vector loops in *_amd64.s need.
var hasAVX2FMA = detectAVX2FMA()

// hasAVX512 reports whether the CPU and the operating system support
// AVX-512F (with AVX2 and FMA3), which the 16-lane loops need.
var hasAVX512 = hasAVX2FMA && detectAVX512()

func detectAVX512() bool {
	if lo, _ := xgetbv(); lo&0xe6 != 0xe6 { // XMM, YMM, opmask and ZMM state
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<16) != 0 // AVX-512F
}

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if c1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if lo, _ := xgetbv(); lo&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0 // AVX2
}
