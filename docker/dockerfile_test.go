package docker

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// instr is one Dockerfile instruction, its continuation lines joined.
type instr struct {
	line int    // the line it starts on, from 1
	cmd  string // the instruction, upper case: FROM, RUN, ...
	args string // the rest of the instruction
}

var instructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "FROM": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true,
	"ONBUILD": true, "RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true,
	"VOLUME": true, "WORKDIR": true,
}

// parse splits a Dockerfile into instructions: a line ending in a
// backslash continues on the next, comment lines (# first) are skipped,
// also inside a continuation, as Docker does; blank lines end nothing.
func parse(src string) ([]instr, error) {
	var out []instr
	var cur *instr
	for i, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cont := strings.HasSuffix(line, `\`)
		if cont {
			line = strings.TrimSpace(strings.TrimSuffix(line, `\`))
		}
		if cur == nil {
			word, rest, _ := strings.Cut(line, " ")
			cmd := strings.ToUpper(word)
			if !instructions[cmd] {
				return nil, fmt.Errorf("line %d: unknown instruction %q", i+1, word)
			}
			cur = &instr{line: i + 1, cmd: cmd, args: strings.TrimSpace(rest)}
		} else {
			cur.args += " " + line
		}
		if !cont {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: %s continues past the end of the file", cur.line, cur.cmd)
	}
	return out, nil
}

// stage is one FROM ... AS name of a Dockerfile.
type stage struct {
	name   string // "" when unnamed
	base   string // the image or earlier stage it starts from, ARGs expanded
	parent int    // index of the earlier stage it starts from, or -1
	body   []instr
	args   map[string]string // ARG defaults in scope: global ones, then the stage's
}

// checker checks Dockerfiles against a repository tree.
type checker struct {
	root   string       // the repository root (the build context)
	ignore []ignoreRule // .dockerignore
	stat   func(string) (os.FileInfo, error)
}

var (
	argRef     = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	digestRe   = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	releaseTag = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+([-._+][A-Za-z0-9._-]+)?$`)
	hex64      = regexp.MustCompile(`^[0-9a-f]{64}$`)
	scriptRef  = regexp.MustCompile(`(^|[\s"'=])(scripts/[A-Za-z0-9_./-]*[A-Za-z0-9_-])`)
	urlRe      = regexp.MustCompile(`https?://`)
	pipeInto   = regexp.MustCompile(`\b(curl|wget)\b[^|&;]*\|\s*(tar|sh|bash|python3?|unzip)\b`)
)

// expand replaces $NAME and ${NAME} by the ARG defaults in args; it
// reports the names it could not resolve.
func expand(s string, args map[string]string) (string, []string) {
	var missing []string
	out := argRef.ReplaceAllStringFunc(s, func(m string) string {
		sub := argRef.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if v, ok := args[name]; ok {
			return v
		}
		missing = append(missing, name)
		return m
	})
	return out, missing
}

// check parses src (the Dockerfile name) and returns its stages and every
// problem found, each prefixed with name:line.
func (c *checker) check(name, src string) ([]stage, []string) {
	ins, err := parse(src)
	if err != nil {
		return nil, []string{name + ": " + err.Error()}
	}
	var probs []string
	bad := func(in instr, format string, a ...any) {
		probs = append(probs, fmt.Sprintf("%s:%d: %s: %s", name, in.line, in.cmd, fmt.Sprintf(format, a...)))
	}
	global := map[string]string{}
	var stages []stage
	for _, in := range ins {
		if len(stages) == 0 && in.cmd != "FROM" {
			if in.cmd != "ARG" {
				bad(in, "only ARG may come before the first FROM")
				continue
			}
			k, v, _ := strings.Cut(in.args, "=")
			global[k] = v
			continue
		}
		if in.cmd == "FROM" {
			stages = append(stages, c.from(in, global, stages, bad))
			continue
		}
		st := &stages[len(stages)-1]
		st.body = append(st.body, in)
		switch in.cmd {
		case "ARG":
			k, v, hasDefault := strings.Cut(in.args, "=")
			if !hasDefault {
				// ARG NAME (no default) re-declares a global one in the stage.
				if gv, ok := global[k]; ok {
					v = gv
				}
			}
			st.args[k] = v
		case "RUN":
			c.run(in, st, bad)
		case "CMD", "ENTRYPOINT", "SHELL":
			if strings.HasPrefix(in.args, "[") {
				var argv []string
				if err := json.Unmarshal([]byte(in.args), &argv); err != nil {
					bad(in, "exec form is not a JSON array of strings: %v", err)
					continue
				}
				if in.cmd != "SHELL" {
					c.scripts(in, strings.Join(argv, " "), argv[:min(1, len(argv))], bad)
				}
			} else if in.cmd != "SHELL" {
				c.scripts(in, in.args, commandWords(in.args), bad)
			}
		case "COPY", "ADD":
			c.copy(in, stages, bad)
		}
	}
	if len(stages) == 0 {
		probs = append(probs, name+": no FROM")
	}
	return stages, probs
}

// from checks a FROM: the image pinned to an exact release (and digest
// well formed), or an earlier stage; a stage name used once.
func (c *checker) from(in instr, global map[string]string, stages []stage, bad func(instr, string, ...any)) stage {
	f := strings.Fields(in.args)
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		f = f[1:]
	}
	st := stage{parent: -1, args: map[string]string{}}
	for k, v := range global {
		st.args[k] = v
	}
	switch {
	case len(f) == 3 && strings.EqualFold(f[1], "AS"):
		st.name = strings.ToLower(f[2])
		for _, s := range stages {
			if s.name == st.name {
				bad(in, "stage %q is named twice", st.name)
			}
		}
	case len(f) != 1:
		bad(in, "want FROM image [AS name], have %q", in.args)
		return st
	}
	img, missing := expand(f[0], global)
	st.base = img
	if len(missing) > 0 {
		bad(in, "%s: no ARG before FROM gives %s", f[0], strings.Join(missing, ", "))
		return st
	}
	for i, s := range stages {
		if s.name != "" && s.name == strings.ToLower(img) {
			st.parent = i
			return st
		}
	}
	if img == "scratch" {
		return st
	}
	ref, digest, hasDigest := strings.Cut(img, "@")
	if hasDigest && !digestRe.MatchString(digest) {
		bad(in, "%s: digest %q is not sha256: and 64 hex digits", img, digest)
	}
	tag := ""
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		tag = ref[i+1:]
	}
	switch {
	case tag == "":
		bad(in, "%s: no tag (latest by default): pin an exact release", img)
	case tag == "latest":
		bad(in, "%s: latest is not a release: pin an exact one", img)
	case !releaseTag.MatchString(tag):
		bad(in, "%s: tag %q is not an exact release (major.minor.patch)", img, tag)
	}
	return st
}

// run checks a RUN: downloads checked against a SHA-256 ARG, pip
// packages pinned, scripts present.
func (c *checker) run(in instr, st *stage, bad func(instr, string, ...any)) {
	text := in.args
	if strings.HasPrefix(text, "[") {
		var argv []string
		if err := json.Unmarshal([]byte(text), &argv); err != nil {
			bad(in, "exec form is not a JSON array of strings: %v", err)
			return
		}
		c.scripts(in, strings.Join(argv, " "), argv[:min(1, len(argv))], bad)
		return
	}
	c.scripts(in, text, commandWords(text), bad)
	if regexp.MustCompile(`\b(curl|wget)\b`).MatchString(text) && urlRe.MatchString(text) {
		if pipeInto.MatchString(text) {
			bad(in, "a download is piped straight into a program: save it and check its SHA-256 first")
		}
		if !strings.Contains(text, "sha256sum -c") {
			bad(in, "downloads with curl/wget but checks no SHA-256 (sha256sum -c)")
		}
		ok := false
		for _, m := range argRef.FindAllStringSubmatch(text, -1) {
			name := m[1] + m[2]
			if !strings.HasSuffix(name, "SHA256") {
				continue
			}
			if v, found := st.args[name]; !found || !hex64.MatchString(v) {
				bad(in, "checksum ARG %s has no 64-hex-digit default in this stage", name)
				continue
			}
			ok = true
		}
		if !ok {
			bad(in, "downloads with curl/wget but names no checksum ARG (…SHA256) with its value")
		}
	}
	for _, cmd := range splitCommands(text) {
		w := strings.Fields(cmd)
		for i := 0; i+1 < len(w); i++ {
			if (w[i] == "pip" || w[i] == "pip3" || strings.HasSuffix(w[i], "pip")) && w[i+1] == "install" ||
				w[i] == "-m" && w[i+1] == "pip" {
				c.pinnedPip(in, w[i+1:], st.args, bad)
				break
			}
		}
	}
}

// pinnedPip requires every package a pip install names to be pinned
// with ==.
func (c *checker) pinnedPip(in instr, words []string, args map[string]string, bad func(instr, string, ...any)) {
	skipNext := map[string]bool{"--index-url": true, "--extra-index-url": true, "-i": true, "-r": true, "-c": true, "--target": true}
	for i := 0; i < len(words); i++ {
		w := strings.Trim(words[i], `"'`)
		switch {
		case w == "pip" || w == "install":
		case skipNext[w]:
			i++
		case strings.HasPrefix(w, "-"):
		default:
			v, _ := expand(w, args)
			if !regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.+!-]*$`).MatchString(v) {
				bad(in, "pip package %s is not pinned (name==version)", w)
			}
		}
	}
}

// copy checks COPY and ADD: --from an earlier stage, sources present in
// the repository and not left out by .dockerignore, URLs with a checksum.
func (c *checker) copy(in instr, stages []stage, bad func(instr, string, ...any)) {
	f := strings.Fields(in.args)
	fromStage := false
	checksum := false
	for len(f) > 0 && strings.HasPrefix(f[0], "--") {
		k, v, _ := strings.Cut(f[0], "=")
		switch k {
		case "--from":
			fromStage = true
			found := false
			for _, s := range stages[:len(stages)-1] {
				if s.name != "" && s.name == strings.ToLower(v) {
					found = true
				}
			}
			if !found {
				bad(in, "--from=%s names no earlier stage", v)
			}
		case "--checksum":
			checksum = true
		}
		f = f[1:]
	}
	if len(f) < 2 {
		bad(in, "want sources and a destination, have %q", in.args)
		return
	}
	if fromStage {
		return
	}
	for _, src := range f[:len(f)-1] {
		if urlRe.MatchString(src) {
			if in.cmd != "ADD" || !checksum {
				bad(in, "%s: a URL needs ADD --checksum=sha256:...", src)
			}
			continue
		}
		clean := filepath.ToSlash(filepath.Clean(src))
		if strings.HasPrefix(clean, "../") || clean == ".." {
			bad(in, "%s is outside the build context", src)
			continue
		}
		if strings.ContainsAny(clean, "*?[") {
			continue
		}
		if _, err := c.stat(filepath.Join(c.root, clean)); err != nil {
			bad(in, "%s is not in the repository", src)
			continue
		}
		if clean != "." && ignored(c.ignore, clean) {
			bad(in, "%s is left out of the build context by .dockerignore", src)
		}
	}
}

// scripts checks every scripts/... path in text: present in the
// repository and kept by .dockerignore; those in cmds (the words a shell
// runs as commands) executable.
func (c *checker) scripts(in instr, text string, cmds []string, bad func(instr, string, ...any)) {
	run := map[string]bool{}
	for _, w := range cmds {
		run[strings.TrimPrefix(w, "./")] = true
	}
	for _, m := range scriptRef.FindAllStringSubmatch(text, -1) {
		p := m[2]
		fi, err := c.stat(filepath.Join(c.root, p))
		if err != nil {
			bad(in, "%s is not in the repository", p)
			continue
		}
		if ignored(c.ignore, p) {
			bad(in, "%s is left out of the build context by .dockerignore", p)
		}
		if run[p] && (fi.IsDir() || fi.Mode()&0o111 == 0) {
			bad(in, "%s is run as a command but is not executable", p)
		}
	}
}

// splitCommands splits a shell command line at &&, ||, ;, | and newlines.
func splitCommands(s string) []string {
	return regexp.MustCompile(`&&|\|\||;|\||\n`).Split(s, -1)
}

// commandWords returns the word each simple command of a shell line runs
// (after any NAME=value assignments).
func commandWords(s string) []string {
	var out []string
	for _, cmd := range splitCommands(s) {
		for _, w := range strings.Fields(cmd) {
			w = strings.Trim(w, `"'()`)
			if w == "" || w == "then" || w == "do" || w == "else" || w == "!" || regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(w) {
				continue
			}
			out = append(out, w)
			break
		}
	}
	return out
}

// ignoreRule is one line of .dockerignore.
type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

// parseIgnore reads .dockerignore patterns: # comments, ! exceptions, *
// and ? within a path element, ** across elements, a leading / ignored.
func parseIgnore(src string) []ignoreRule {
	var out []ignoreRule
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = strings.TrimSpace(line[1:])
		}
		line = strings.Trim(filepath.ToSlash(filepath.Clean(line)), "/")
		var b strings.Builder
		b.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch {
			case strings.HasPrefix(line[i:], "**/"):
				b.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				b.WriteString(".*")
				i++
			case line[i] == '*':
				b.WriteString("[^/]*")
			case line[i] == '?':
				b.WriteString("[^/]")
			default:
				b.WriteString(regexp.QuoteMeta(line[i : i+1]))
			}
		}
		b.WriteString("$")
		r.re = regexp.MustCompile(b.String())
		out = append(out, r)
	}
	return out
}

// ignored reports whether .dockerignore leaves path (slash-separated,
// relative to the context) out: the last rule matching it or a folder
// above it decides.
func ignored(rules []ignoreRule, path string) bool {
	out := false
	parts := strings.Split(path, "/")
	for _, r := range rules {
		for i := 1; i <= len(parts); i++ {
			if r.re.MatchString(strings.Join(parts[:i], "/")) {
				out = !r.negate
				break
			}
		}
	}
	return out
}

func repoChecker(t *testing.T) *checker {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root is the docker folder's parent")
	ign, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	require.NoError(t, err, "the repository has a .dockerignore")
	return &checker{root: root, ignore: parseIgnore(string(ign)), stat: os.Stat}
}

// chain returns the stages the final stage of a file is built from,
// itself first.
func chain(stages []stage, i int) []stage {
	var out []stage
	for ; i >= 0; i = stages[i].parent {
		out = append(out, stages[i])
	}
	return out
}

func names(stages []stage) []string {
	var out []string
	for _, s := range stages {
		out = append(out, s.name)
	}
	return out
}

// TestDockerfiles checks each Dockerfile of this folder with the rules
// above, and what each image must be: the stages its header documents as
// --target names, the CPU image's final stage without the CUDA toolkit,
// the CUDA image's final stage on the runtime image with torch.
func TestDockerfiles(t *testing.T) {
	c := repoChecker(t)
	files, err := filepath.Glob("*.Dockerfile")
	require.NoError(t, err)
	sort.Strings(files)
	require.Equal(t, []string{"cpu.Dockerfile", "cuda.Dockerfile"}, files)
	all := map[string][]stage{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		stages, probs := c.check(f, string(src))
		require.Empty(t, probs, "%s", f)
		for _, s := range stages {
			require.Contains(t, string(src), "#   "+s.name, "%s: stage %s is not documented as a target in the header", f, s.name)
		}
		all[f] = stages
	}

	cpu := all["cpu.Dockerfile"]
	require.Equal(t, []string{"deps", "cuda-compile", "test"}, names(cpu))
	final := chain(cpu, len(cpu)-1)
	require.Equal(t, []string{"test", "deps"}, names(final))
	skip := false
	for _, s := range final {
		for _, in := range s.body {
			require.NotRegexp(t, `install-deps\.sh cuda|nvidia-cuda-toolkit|cuda-compile\.sh`, in.args,
				"cpu.Dockerfile:%d: the final image would carry the CUDA toolkit", in.line)
			if in.cmd == "ENV" && strings.Contains(in.args, "LOSSENGINE_SKIP_CUDA=1") {
				skip = true
			}
		}
	}
	require.True(t, skip, "the CPU image's test run must skip the CUDA compile step (LOSSENGINE_SKIP_CUDA=1)")
	// The final stage waits for the compile check by copying its marker.
	require.Contains(t, joined(cpu[2].body), "COPY --from=cuda-compile")
	require.Contains(t, joined(cpu[1].body), "scripts/cuda-compile.sh")

	cuda := all["cuda.Dockerfile"]
	require.Equal(t, []string{"build", "gpu"}, names(cuda))
	require.Regexp(t, `^nvidia/cuda:[0-9.]+-devel-`, cuda[0].base)
	require.Regexp(t, `^nvidia/cuda:[0-9.]+-runtime-`, cuda[1].base)
	require.Contains(t, joined(cuda[0].body), "scripts/gpu-check.sh build")
	gpu := joined(cuda[1].body)
	require.Contains(t, gpu, "COPY --from=build")
	require.Contains(t, gpu, "torch==${TORCH_VERSION}")
	require.Regexp(t, `^[0-9]+\.[0-9]+\.[0-9]+$`, cuda[1].args["TORCH_VERSION"])
	// The torch wheels are those of the base image's CUDA release.
	m := regexp.MustCompile(`^nvidia/cuda:([0-9]+)\.([0-9]+)\.`).FindStringSubmatch(cuda[1].base)
	require.NotNil(t, m)
	require.True(t, strings.HasSuffix(cuda[1].args["TORCH_INDEX"], "/cu"+m[1]+m[2]),
		"TORCH_INDEX %s is not for CUDA %s.%s", cuda[1].args["TORCH_INDEX"], m[1], m[2])
}

func joined(body []instr) string {
	var b strings.Builder
	for _, in := range body {
		b.WriteString(in.cmd + " " + in.args + "\n")
	}
	return b.String()
}

// TestCheckerRejects: each snippet breaks one rule, and the checker must
// say so.
func TestCheckerRejects(t *testing.T) {
	c := repoChecker(t)
	const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ name, src, want string }{
		{"no tag", "FROM golang\n", "no tag"},
		{"latest", "FROM golang:latest\n", "latest is not a release"},
		{"bare major", "FROM golang:1-bookworm\n", "not an exact release"},
		{"major.minor only", "FROM golang:1.26\n", "not an exact release"},
		{"bad digest", "FROM golang:1.26.8@sha256:1234\n", "is not sha256"},
		{"unresolved ARG", "FROM ${IMG}\n", "no ARG before FROM gives IMG"},
		{"ARG default unpinned", "ARG IMG=ubuntu\nFROM ${IMG}\n", "no tag"},
		{"RUN before FROM", "RUN true\nFROM golang:1.26.8\n", "only ARG may come before"},
		{"unknown instruction", "FROM golang:1.26.8\nRUNN true\n", "unknown instruction"},
		{"continuation at EOF", "FROM golang:1.26.8\nRUN true \\\n", "continues past the end"},
		{"stage named twice", "FROM golang:1.26.8 AS a\nFROM golang:1.26.8 AS a\n", "named twice"},
		{"COPY --from later stage", "FROM golang:1.26.8 AS a\nCOPY --from=b /x /x\nFROM golang:1.26.8 AS b\n", "--from=b names no earlier stage"},
		{"COPY --from itself", "FROM golang:1.26.8 AS a\nCOPY --from=a /x /x\n", "--from=a names no earlier stage"},
		{"COPY missing file", "FROM golang:1.26.8\nCOPY nothere.txt /x\n", "nothere.txt is not in the repository"},
		{"COPY ignored file", "FROM golang:1.26.8\nCOPY .git /x\n", "left out of the build context"},
		{"COPY outside context", "FROM golang:1.26.8\nCOPY ../x /x\n", "outside the build context"},
		{"ADD URL without checksum", "FROM golang:1.26.8\nADD https://example.com/a.tgz /a\n", "needs ADD --checksum"},
		{"download unchecked", "FROM golang:1.26.8\nRUN curl -fsSLo /a https://example.com/a.tgz && tar xf /a\n", "checks no SHA-256"},
		{"download piped", "FROM golang:1.26.8\nARG A_SHA256=" + sum + "\nRUN curl -fsSL https://example.com/a.tgz | tar -xz \\\n && echo \"${A_SHA256}  x\" | sha256sum -c -\n", "piped straight into"},
		{"checksum not an ARG", "FROM golang:1.26.8\nRUN wget -O /a https://example.com/a && echo \"" + sum + "  /a\" | sha256sum -c -\n", "names no checksum ARG"},
		{"checksum ARG short", "FROM golang:1.26.8\nARG A_SHA256=abc\nRUN curl -o /a https://example.com/a && echo \"${A_SHA256}  /a\" | sha256sum -c -\n", "A_SHA256 has no 64-hex-digit default"},
		{"checksum ARG of another stage", "FROM golang:1.26.8 AS a\nARG A_SHA256=" + sum + "\nFROM golang:1.26.8\nRUN curl -o /a https://example.com/a && echo \"${A_SHA256}  /a\" | sha256sum -c -\n", "A_SHA256 has no 64-hex-digit default"},
		{"pip unpinned", "FROM golang:1.26.8\nRUN python3 -m pip install --no-cache-dir torch\n", "torch is not pinned"},
		{"pip ARG unpinned", "FROM golang:1.26.8\nARG V=\nRUN pip install \"torch==${V}\"\n", "is not pinned"},
		{"missing script", "FROM golang:1.26.8\nRUN scripts/nothere.sh\n", "scripts/nothere.sh is not in the repository"},
		{"missing script in CMD", "FROM golang:1.26.8\nCMD [\"scripts/nothere.sh\"]\n", "scripts/nothere.sh is not in the repository"},
		{"script not executable", "FROM golang:1.26.8\nRUN true && scripts/cuda-env.sh\n", "scripts/cuda-env.sh is run as a command but is not executable"},
		{"script not executable in CMD", "FROM golang:1.26.8\nCMD [\"scripts/benchpeer.py\"]\n", "is run as a command but is not executable"},
		{"CMD bad JSON", "FROM golang:1.26.8\nCMD [\"scripts/test.sh\"\n", "not a JSON array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := c.check("snippet", tc.src)
			require.NotEmpty(t, probs, "the checker accepted a bad Dockerfile")
			require.Contains(t, strings.Join(probs, "\n"), tc.want)
		})
	}
}

// TestCheckerAccepts: snippets that follow the rules pass, so the
// rejections above are not the checker refusing everything.
func TestCheckerAccepts(t *testing.T) {
	c := repoChecker(t)
	const sum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct{ name, src string }{
		{"release tag", "FROM golang:1.26.8-bookworm\n"},
		{"tag and digest", "FROM golang:1.26.8-bookworm@sha256:" + sum + "\n"},
		{"registry with port", "FROM registry.example.com:5000/team/img:2.0.1\n"},
		{"ARG image", "# a comment\nARG IMG=nvidia/cuda:12.4.1-runtime-ubuntu22.04\nFROM ${IMG} AS run\n"},
		{"stage chain", "FROM golang:1.26.8 AS a\nRUN touch /x\nFROM a AS b\nFROM golang:1.26.8\nCOPY --from=b /x /x\n"},
		{"checked download", "FROM golang:1.26.8\nARG V=1\nARG A_SHA256=" + sum + "\n" +
			"RUN curl -fsSL -o /a \"https://example.com/a-${V}.zip\" \\\n  # a comment inside the continuation\n && echo \"${A_SHA256}  /a\" | sha256sum -c - \\\n && unzip /a\n"},
		{"global checksum ARG redeclared", "ARG A_SHA256=" + sum + "\nFROM golang:1.26.8\nARG A_SHA256\nRUN curl -o /a https://example.com/a && echo \"${A_SHA256}  /a\" | sha256sum -c -\n"},
		{"pinned pip", "FROM golang:1.26.8\nARG V=2.5.1\nRUN python3 -m pip install --index-url https://download.pytorch.org/whl/cu124 \"torch==${V}\"\n"},
		{"scripts", "FROM golang:1.26.8\nCOPY scripts/install-deps.sh scripts/\nRUN X=1 scripts/install-deps.sh && . scripts/cuda-env.sh\nCMD [\"scripts/test.sh\"]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := c.check("snippet", tc.src)
			require.Empty(t, probs)
		})
	}
}

// TestDockerignore checks the .dockerignore matcher on known cases, and
// that the repository's .dockerignore keeps what the images need.
func TestDockerignore(t *testing.T) {
	rules := parseIgnore("# comment\n.git\n**/*.test\n/gpu-check\nbuild/*\n!build/keep\ndocs/*.md\n")
	for path, want := range map[string]bool{
		".git": true, ".git/HEAD": true, "a/.git": false,
		"x.test": true, "losses/losses.test": true, "losses/test.go": false,
		"gpu-check": true, "gpu-check/lossbench": true, "scripts/gpu-check.sh": false,
		"build/a": true, "build/keep": false, "build": false,
		"docs/a.md": true, "docs/sub/a.md": false, "docs": false,
	} {
		require.Equal(t, want, ignored(rules, path), "%s", path)
	}

	c := repoChecker(t)
	for _, p := range []string{"go.mod", "go.sum", "scripts/test.sh", "scripts/install-deps.sh", "scripts/gpu-check.sh",
		"docker/cpu.Dockerfile", "docker/dockerfile_test.go", ".dockerignore", "losses/testdata/fuzz", "kernels/cuda"} {
		require.False(t, ignored(c.ignore, p), "%s is needed in the images", p)
	}
	require.True(t, ignored(c.ignore, ".git"))
}
