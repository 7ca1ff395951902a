package kernels_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/kernels"
)

// kernelDecls finds `LE_KERNEL name(params)` declarations in the sources
// of a dialect and returns name -> parameter count, and name -> file base.
func kernelDecls(t *testing.T, dir, ext string) (map[string]int, map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`LE_KERNEL\s+([A-Za-z_]\w*)\s*\(([^)]*)\)`)
	params, family := map[string]int{}, map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n := 0
			if strings.TrimSpace(m[2]) != "" && strings.TrimSpace(m[2]) != "void" {
				n = len(strings.Split(m[2], ","))
			}
			params[m[1]] = n
			family[m[1]] = strings.TrimSuffix(filepath.Base(f), ext)
		}
	}
	return params, family
}

// TestParity fails when a manifest kernel is missing from the CUDA
// sources, the OpenCL sources or the host mirrors, when any of them has a
// kernel the manifest lacks, or when a declaration's parameter count or
// file differs from the manifest.
func TestParity(t *testing.T) {
	want := map[string]*kernels.Kernel{}
	for i := range kernels.Manifest {
		want[kernels.Manifest[i].Name] = &kernels.Manifest[i]
	}
	for _, d := range []struct{ dir, ext string }{{"cuda", ".cu"}, {"opencl", ".cl"}} {
		params, fam := kernelDecls(t, d.dir, d.ext)
		for name, k := range want {
			n, ok := params[name]
			if !ok {
				t.Errorf("kernel %s is missing from kernels/%s/%s%s", name, d.dir, k.Family, d.ext)
				continue
			}
			if n != len(k.Args) {
				t.Errorf("kernels/%s: %s has %d parameters, the manifest %d", d.dir, name, n, len(k.Args))
			}
			if fam[name] != k.Family {
				t.Errorf("kernels/%s: %s is in %s%s, the manifest says family %s", d.dir, name, fam[name], d.ext, k.Family)
			}
		}
		for name := range params {
			if want[name] == nil {
				t.Errorf("kernels/%s declares %s, which is not in the manifest", d.dir, name)
			}
		}
	}
	mirrors := host.MirrorNames()
	sort.Strings(mirrors)
	got := map[string]bool{}
	for _, m := range mirrors {
		got[m] = true
		if want[m] == nil {
			t.Errorf("host mirror %s is not in the manifest", m)
		}
	}
	for name := range want {
		if !got[name] {
			t.Errorf("kernel %s has no host mirror", name)
		}
	}
}

// TestHeaderShared checks that both dialects include the shared header.
func TestHeaderShared(t *testing.T) {
	for _, d := range []struct{ dir, ext string }{{"cuda", ".cu"}, {"opencl", ".cl"}} {
		files, _ := filepath.Glob(filepath.Join(d.dir, "*"+d.ext))
		if len(files) == 0 {
			t.Errorf("no %s sources in kernels/%s", d.ext, d.dir)
		}
		for _, f := range files {
			b, _ := os.ReadFile(f)
			if !strings.Contains(string(b), "lemath.h") {
				t.Errorf("%s does not include lemath.h", f)
			}
		}
	}
}
