package kernels_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/kernels"
)

var comments = regexp.MustCompile(`(?s)/\*.*?\*/|//[^\n]*`)

// TestThinDialectFiles fails when a kernels/cuda/*.cu or
// kernels/opencl/*.cl file has code of its own: a kernel or function
// (LE_KERNEL, LE_FN, __global__, __device__, __kernel, a brace) or any
// line, outside comments, that is not a preprocessor directive. Every
// kernel body is written once, in src/<family>.h, and the dialect files
// only include it after lemath.h (dialect settings belong in lemath.h).
func TestThinDialectFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("cuda", "*.cu"))
	cl, _ := filepath.Glob(filepath.Join("opencl", "*.cl"))
	files = append(files, cl...)
	if len(files) == 0 {
		t.Fatal("no dialect files in kernels/cuda and kernels/opencl")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		code := comments.ReplaceAllString(string(b), "")
		for _, tok := range []string{"LE_KERNEL", "LE_FN", "__global__", "__device__", "__kernel", "{", "}"} {
			if strings.Contains(code, tok) {
				t.Errorf("%s has %q outside comments: kernel code belongs in src/%s.h", f, tok,
					strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)))
			}
		}
		for i, line := range strings.Split(code, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
				t.Errorf("%s:%d: %q is neither a comment nor a preprocessor directive", f, i+1, l)
			}
		}
	}
}

// TestOpenCLSource checks the program the OpenCL backend compiles: every
// #include resolved, lemath.h and each family's body inlined exactly once,
// and every manifest kernel declared exactly once; and that each family's
// own program (OpenCLFamilySource) declares that family's kernels.
func TestOpenCLSource(t *testing.T) {
	src := kernels.OpenCLSource()
	if strings.Contains(src, "#include") {
		t.Error("OpenCLSource has an #include line left")
	}
	inlined := []string{"lemath.h"}
	for _, fam := range kernelspec.Families() {
		inlined = append(inlined, "src/"+fam+".h", "opencl/"+fam+".cl")
	}
	for _, f := range inlined {
		if n := strings.Count(src, fmt.Sprintf("#line 1 %q\n", f)); n != 1 {
			t.Errorf("OpenCLSource inlines %s %d times, want once", f, n)
		}
	}
	if n := strings.Count(src, "#define LOSSENGINE_LEMATH_H"); n != 1 {
		t.Errorf("OpenCLSource has lemath.h's guard %d times, want once", n)
	}
	for _, k := range kernelspec.Manifest {
		re := regexp.MustCompile(`LE_KERNEL\s+` + k.Name + `\s*\(`)
		if n := len(re.FindAllString(src, -1)); n != 1 {
			t.Errorf("OpenCLSource declares %s %d times, want once", k.Name, n)
		}
		fsrc, err := kernels.OpenCLFamilySource(k.Family)
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(fsrc) {
			t.Errorf("OpenCLFamilySource(%q) does not declare %s", k.Family, k.Name)
		}
	}
	if _, err := kernels.OpenCLFamilySource("no_such_family"); err == nil {
		t.Error("OpenCLFamilySource of an unknown family: no error")
	}
}

// unrollSettings are the LE_UNROLL values each family is compiled with in
// the compile tests besides the dialect's own: the plain loop, an odd
// value that divides no row length, and CUDA's.
var unrollSettings = []int{1, 3, 8}

// unrollVariants returns the LE_UNROLL settings to compile family with:
// 0 for the dialect's own, and unrollSettings too if its body uses
// LE_UNROLL.
func unrollVariants(t *testing.T, family string) []int {
	b, err := os.ReadFile(filepath.Join("src", family+".h"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(comments.ReplaceAllString(string(b), ""), "LE_UNROLL") {
		return []int{0}
	}
	return append([]int{0}, unrollSettings...)
}

// TestCompileCUDA compiles every family's one body as CUDA with nvcc
// (cuda/<family>.cu, with the flags of scripts/gen-ptx.sh), with the
// dialect's LE_UNROLL and, for the bodies that use it, with each of
// unrollSettings, and checks that
// the PTX has an entry for each of the family's manifest kernels. It
// skips when nvcc is not on PATH.
func TestCompileCUDA(t *testing.T) {
	nvcc, err := exec.LookPath("nvcc")
	if err != nil {
		t.Skip("nvcc is not on PATH, so the CUDA dialect cannot be compiled here (scripts/install-deps.sh cuda installs it)")
	}
	tmp := t.TempDir()
	for _, fam := range kernelspec.Families() {
		for _, u := range unrollVariants(t, fam) {
			name := fmt.Sprintf("%s/LE_UNROLL=%d", fam, u)
			if u == 0 {
				name = fam + "/default"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := filepath.Join(tmp, fmt.Sprintf("%s-%d.ptx", fam, u))
				args := []string{"-ptx", "-arch=compute_70", "-fmad=false", "-prec-div=true", "-prec-sqrt=true", "-ftz=false", "-O3"}
				if u != 0 {
					args = append(args, fmt.Sprintf("-DLE_UNROLL=%d", u))
				}
				args = append(args, "-o", out, filepath.Join("cuda", fam+".cu"))
				if msg, err := exec.Command(nvcc, args...).CombinedOutput(); err != nil {
					t.Fatalf("nvcc %s: %v\n%s", strings.Join(args, " "), err, msg)
				}
				ptx, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range kernelspec.Manifest {
					if k.Family == fam && !strings.Contains(string(ptx), ".entry "+k.Name+"(") {
						t.Errorf("the PTX of %s has no entry %s", fam, k.Name)
					}
				}
			})
		}
	}
}
