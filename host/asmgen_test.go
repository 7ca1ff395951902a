package host

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAsmgenFresh runs the generator of the vector loops into a temporary
// directory and checks that the committed assembly files are its output,
// byte for byte. The first run downloads the generator's modules (avo)
// into the module cache.
func TestAsmgenFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with the go command; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command: ", err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "internal", "asmgen"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Skip("generator not found: ", err)
	}
	out := t.TempDir()
	cmd := exec.Command(goCmd, "run", ".", "-out", out)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		if s := string(msg); strings.Contains(s, "dial tcp") || strings.Contains(s, "no such host") {
			t.Skipf("the generator's modules could not be downloaded:\n%s", s)
		}
		t.Fatalf("go run in internal/asmgen: %v\n%s", err, msg)
	}
	names, err := filepath.Glob(filepath.Join(out, "*.s"))
	if err != nil || len(names) == 0 {
		t.Fatalf("the generator wrote no assembly files (%v)", err)
	}
	for _, n := range names {
		want, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(n)
		got, err := os.ReadFile(base)
		if err != nil {
			t.Errorf("%s: %v; run go generate ./host", base, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the generator's output; run go generate ./host", base)
		}
	}
}
