package host

import (
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// TestMirrorParity fails when a manifest kernel has no host mirror or a
// mirror is not in the manifest (kernels.TestParity checks the two
// dialects against the manifest).
func TestMirrorParity(t *testing.T) {
	want := map[string]bool{}
	for _, k := range kernelspec.Manifest {
		want[k.Name] = true
		if _, ok := mirrors[k.Name]; !ok {
			t.Errorf("kernel %s has no host mirror", k.Name)
		}
	}
	for name := range mirrors {
		if !want[name] {
			t.Errorf("host mirror %s is not in the manifest", name)
		}
	}
}
