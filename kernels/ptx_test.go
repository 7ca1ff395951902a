package kernels_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

var releaseRE = regexp.MustCompile(`release (\d+\.\d+)`)

// ptxBody drops the comment block nvcc writes at the top of a PTX file
// (compiler build, toolkit release), keeping the code.
func ptxBody(s string) string {
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "//") {
		i++
	}
	return strings.Join(lines[i:], "\n")
}

// TestPTXUpToDate regenerates the PTX of every kernels/cuda/*.cu with
// scripts/gen-ptx.sh into a temporary folder and fails when a committed
// kernels/cuda/*.ptx differs (run `go generate ./kernels/`). It needs
// nvcc of the release that wrote the committed PTX, and skips otherwise.
func TestPTXUpToDate(t *testing.T) {
	nvcc, err := exec.LookPath("nvcc")
	if err != nil {
		t.Skip("nvcc is not on PATH, so the committed PTX cannot be checked against the .cu sources (scripts/install-deps.sh cuda installs it)")
	}
	ver, err := exec.Command(nvcc, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("nvcc --version: %v\n%s", err, ver)
	}
	have := releaseRE.FindStringSubmatch(string(ver))
	if have == nil {
		t.Fatalf("no release number in nvcc --version:\n%s", ver)
	}
	srcs, err := filepath.Glob("cuda/*.cu")
	if err != nil || len(srcs) == 0 {
		t.Fatalf("no CUDA sources in kernels/cuda (%v)", err)
	}
	for _, src := range srcs {
		b, err := os.ReadFile(strings.TrimSuffix(src, ".cu") + ".ptx")
		if err != nil {
			t.Fatalf("%s has no committed PTX: run go generate ./kernels/ (%v)", src, err)
		}
		if m := releaseRE.FindStringSubmatch(string(b)); m != nil && m[1] != have[1] {
			t.Skipf("the committed PTX was written by nvcc release %s and this nvcc is release %s, whose PTX differs; check with %s", m[1], have[1], m[1])
		}
	}

	tmp := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "scripts", "gen-ptx.sh"), tmp)
	cmd.Env = append(os.Environ(), "NVCC="+nvcc)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/gen-ptx.sh: %v\n%s", err, out)
	}
	for _, src := range srcs {
		name := strings.TrimSuffix(filepath.Base(src), ".cu") + ".ptx"
		old, _ := os.ReadFile(filepath.Join("cuda", name))
		fresh, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatalf("gen-ptx.sh wrote no %s: %v", name, err)
		}
		if ptxBody(string(old)) != ptxBody(string(fresh)) {
			t.Errorf("kernels/cuda/%s is stale: run go generate ./kernels/ and commit the PTX", name)
		}
	}
	ptxs, _ := filepath.Glob("cuda/*.ptx")
	for _, p := range ptxs {
		if _, err := os.Stat(strings.TrimSuffix(p, ".ptx") + ".cu"); err != nil {
			t.Errorf("%s has no .cu source: delete it", p)
		}
	}
}

// TestPTXEntries checks, without nvcc, that the committed PTX of each
// family has an entry for every manifest kernel of the family, with one
// parameter of the right PTX type per manifest argument: .u64 for
// buffers, .u32 for Int, .f32 for Real.
func TestPTXEntries(t *testing.T) {
	ptx := map[string]string{}
	for _, fam := range kernelspec.Families() {
		b, err := os.ReadFile(filepath.Join("cuda", fam+".ptx"))
		if err != nil {
			t.Errorf("family %s: %v (run go generate ./kernels/)", fam, err)
			continue
		}
		ptx[fam] = string(b)
	}
	for _, k := range kernelspec.Manifest {
		src, ok := ptx[k.Family]
		if !ok {
			continue
		}
		re := regexp.MustCompile(`\.visible \.entry ` + k.Name + `\(([^)]*)\)`)
		m := re.FindStringSubmatch(src)
		if m == nil {
			t.Errorf("kernels/cuda/%s.ptx has no entry %s", k.Family, k.Name)
			continue
		}
		params := regexp.MustCompile(`\.param \.(\w+) `).FindAllStringSubmatch(m[1], -1)
		if len(params) != len(k.Args) {
			t.Errorf("%s: PTX entry has %d parameters, the manifest %d", k.Name, len(params), len(k.Args))
			continue
		}
		for i, a := range k.Args {
			want := map[kernelspec.ArgKind]string{kernelspec.FloatBuf: "u64", kernelspec.IntBuf: "u64", kernelspec.Int: "u32", kernelspec.Real: "f32"}[a.Kind]
			if params[i][1] != want {
				t.Errorf("%s argument %d (%s, %s): PTX type .%s, want .%s", k.Name, i, a.Name, a.Kind, params[i][1], want)
			}
		}
	}
}
