//go:build amd64 && !purego && linux

package host

import (
	"os"
	"strings"
	"testing"
)

// TestCPUFeaturesMatchKernel checks the feature bits that switch the vector
// loops on against the flags the Linux kernel reports for the first CPU
// (which lists a feature only when it also enables its register state).
func TestCPUFeaturesMatchKernel(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	flags := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				flags[f] = true
			}
			break
		}
	}
	if len(flags) == 0 {
		t.Skip("/proc/cpuinfo lists no flags")
	}
	if want := flags["avx"] && flags["avx2"] && flags["fma"]; hasAVX2FMA != want {
		t.Errorf("hasAVX2FMA = %v, /proc/cpuinfo says %v", hasAVX2FMA, want)
	}
	if want := flags["avx"] && flags["avx2"] && flags["fma"] && flags["avx512f"]; hasAVX512 != want {
		t.Errorf("hasAVX512 = %v, /proc/cpuinfo says %v", hasAVX512, want)
	}
}
