package readmetest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// readmes are the files whose ```go blocks are checked, relative to the
// module root.
var readmes = []string{"README.md", "cmd/lossbench/README.md"}

// goBlocks returns the ```go blocks of markdown text with the line each
// starts on.
func goBlocks(text string) (blocks []string, lines []int) {
	var cur []string
	in := false
	for i, l := range strings.Split(text, "\n") {
		switch t := strings.TrimSpace(l); {
		case !in && t == "```go":
			in, cur = true, nil
			lines = append(lines, i+1)
		case in && t == "```":
			in = false
			blocks = append(blocks, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, l)
		}
	}
	return blocks, lines
}

func TestGoBlocks(t *testing.T) {
	blocks, lines := goBlocks("text\n```go\npackage main\n```\n```sh\nls\n```\n  ```go\nx\n  ```\n")
	require.Equal(t, []string{"package main\n", "x\n"}, blocks)
	require.Equal(t, []int{2, 8}, lines)
}

// TestReadmeCompiles writes every ```go block as a program of a temporary
// module that replaces this module by the checkout, builds them all and
// runs each on the host device. It needs the go command and the module's
// dependencies in the module cache (go mod download); it uses no network.
func TestReadmeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs: skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	var progs []string
	for _, name := range readmes {
		text, err := os.ReadFile(filepath.Join(root, name))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		blocks, lines := goBlocks(string(text))
		for i, b := range blocks {
			where := fmt.Sprintf("%s:%d", name, lines[i])
			require.True(t, strings.HasPrefix(b, "package main\n"),
				"%s: a README Go block must be a complete program starting with \"package main\"", where)
			prog := fmt.Sprintf("p%d", len(progs))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, prog), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, prog, "main.go"), []byte(b), 0o644))
			progs = append(progs, where)
		}
	}
	if len(progs) == 0 {
		t.Skip("no Go blocks in the READMEs")
	}
	mod := "module readmecheck\n\ngo 1.22\n\nrequire github.com/lossengine/lossengine v0.0.0\n\n" +
		"replace github.com/lossengine/lossengine => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644))
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))

	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "LOSSENGINE_DEVICE=host")
	bin := filepath.Join(dir, "bin")
	build := exec.Command(goCmd, "build", "-o", bin+string(filepath.Separator), "./...")
	build.Dir, build.Env = dir, env
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the README programs (p<i> is the i-th block: %v):\n%s", progs, out)
	for i, where := range progs {
		run := exec.Command(filepath.Join(bin, fmt.Sprintf("p%d", i)))
		run.Env = env
		var buf bytes.Buffer
		run.Stdout, run.Stderr = &buf, &buf
		require.NoError(t, run.Run(), "running the block at %s:\n%s", where, buf.String())
		t.Logf("%s: %s", where, strings.TrimSpace(buf.String()))
	}
}
