package kernels_test

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

// segment is one file's own text within a dialect file expanded by
// expand.
type segment struct {
	file string // path relative to kernels/, slash-separated
	text string
}

var includeLine = regexp.MustCompile(`(?m)^\s*#\s*include\s*"([^"]+)".*$`)

// expand returns the text of a dialect file (path relative to kernels/)
// and of the files it includes, recursively and once each, as segments
// in inclusion order: the file's own text with its #include lines
// removed first, then each included file's. Quoted includes are resolved
// relative to the including file's folder, as nvcc does and as
// kernels.OpenCLSource does in the embedded files.
func expand(t *testing.T, file string) []segment {
	t.Helper()
	var out []segment
	seen := map[string]bool{}
	var walk func(f string)
	walk = func(f string) {
		seen[f] = true
		b, err := os.ReadFile(filepath.FromSlash(f))
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		own := includeLine.ReplaceAllString(string(b), "")
		out = append(out, segment{f, own})
		for _, m := range includeLine.FindAllStringSubmatch(string(b), -1) {
			inc := path.Join(path.Dir(f), m[1])
			if !seen[inc] {
				walk(inc)
			}
		}
	}
	walk(file)
	return out
}

// kernelDecls finds the `LE_KERNEL name(params)` declarations that the
// sources of a dialect (dir/*ext, with their includes) compile, and
// returns name -> parameter count, name -> family (the base name of the
// dialect file that reaches it) and name -> the file that declares it.
func kernelDecls(t *testing.T, dir, ext string) (params map[string]int, family, declFile map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no %s sources in kernels/%s", ext, dir)
	}
	re := regexp.MustCompile(`LE_KERNEL\s+([A-Za-z_]\w*)\s*\(([^)]*)\)`)
	params, family, declFile = map[string]int{}, map[string]string{}, map[string]string{}
	for _, f := range files {
		fam := strings.TrimSuffix(filepath.Base(f), ext)
		for _, seg := range expand(t, filepath.ToSlash(f)) {
			for _, m := range re.FindAllStringSubmatch(seg.text, -1) {
				if prev, ok := family[m[1]]; ok && prev != fam {
					t.Errorf("kernels/%s: %s is compiled by both %s%s and %s%s", dir, m[1], prev, ext, fam, ext)
				}
				n := 0
				if strings.TrimSpace(m[2]) != "" && strings.TrimSpace(m[2]) != "void" {
					n = len(strings.Split(m[2], ","))
				}
				params[m[1]] = n
				family[m[1]] = fam
				declFile[m[1]] = seg.file
			}
		}
	}
	return params, family, declFile
}

// TestParity fails when a manifest kernel is missing from the CUDA
// sources or the OpenCL sources (host.TestMirrorParity checks the host
// mirrors), when either has a kernel the manifest lacks, or when a declaration's parameter count or
// family differs from the manifest. Each dialect file
// (cuda/<family>.cu, opencl/<family>.cl) is read with its includes, and
// every kernel must be declared in the family's one body,
// src/<family>.h.
func TestParity(t *testing.T) {
	want := map[string]*kernelspec.Kernel{}
	for i := range kernelspec.Manifest {
		want[kernelspec.Manifest[i].Name] = &kernelspec.Manifest[i]
	}
	for _, d := range []struct{ dir, ext string }{{"cuda", ".cu"}, {"opencl", ".cl"}} {
		params, fam, decl := kernelDecls(t, d.dir, d.ext)
		for name, k := range want {
			n, ok := params[name]
			if !ok {
				t.Errorf("kernel %s is not compiled by kernels/%s/%s%s (it belongs in src/%s.h)", name, d.dir, k.Family, d.ext, k.Family)
				continue
			}
			if n != len(k.Args) {
				t.Errorf("kernels/%s: %s has %d parameters, the manifest %d", d.dir, name, n, len(k.Args))
			}
			if fam[name] != k.Family {
				t.Errorf("kernels/%s: %s is compiled by %s%s, the manifest says family %s", d.dir, name, fam[name], d.ext, k.Family)
			}
			if body := "src/" + k.Family + ".h"; decl[name] != body {
				t.Errorf("kernels/%s: %s is declared in %s, not in the family's body %s", d.dir, name, decl[name], body)
			}
		}
		for name := range params {
			if want[name] == nil {
				t.Errorf("kernels/%s declares %s, which is not in the manifest", d.dir, name)
			}
		}
	}
}

// TestHeaderShared checks that every dialect file includes the shared
// header lemath.h first and then its family's body src/<family>.h, and
// that every body is the body of a manifest family.
func TestHeaderShared(t *testing.T) {
	fams := map[string]bool{}
	for _, f := range kernelspec.Families() {
		fams[f] = true
	}
	for _, d := range []struct{ dir, ext string }{{"cuda", ".cu"}, {"opencl", ".cl"}} {
		files, _ := filepath.Glob(filepath.Join(d.dir, "*"+d.ext))
		if len(files) == 0 {
			t.Errorf("no %s sources in kernels/%s", d.ext, d.dir)
		}
		got := map[string]bool{}
		for _, f := range files {
			fam := strings.TrimSuffix(filepath.Base(f), d.ext)
			got[fam] = true
			segs := expand(t, filepath.ToSlash(f))
			var inc []string
			for _, s := range segs[1:] {
				inc = append(inc, s.file)
			}
			if len(inc) < 2 || inc[0] != "lemath.h" || !slices.Contains(inc, "src/"+fam+".h") {
				t.Errorf("%s includes %v; want lemath.h, then src/%s.h", f, inc, fam)
			}
		}
		for fam := range fams {
			if !got[fam] {
				t.Errorf("family %s has no kernels/%s/%s%s", fam, d.dir, fam, d.ext)
			}
		}
	}
	bodies, _ := filepath.Glob(filepath.Join("src", "*.h"))
	for _, b := range bodies {
		if fam := strings.TrimSuffix(filepath.Base(b), ".h"); !fams[fam] {
			t.Errorf("%s is the body of no manifest family", b)
		}
	}
}
