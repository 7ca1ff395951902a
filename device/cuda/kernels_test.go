//go:build cuda

package cuda_test

import (
	"testing"

	"github.com/lossengine/lossengine/internal/kerneltest"
)

// TestKernels runs the kernel suite on GPU 0.
func TestKernels(t *testing.T) { kerneltest.Run(t, openGPU(t)) }

// BenchmarkCTC times the CTC kernels on GPU 0.
func BenchmarkCTC(b *testing.B) { kerneltest.Bench(b, openGPU(b)) }
