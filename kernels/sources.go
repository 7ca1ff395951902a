package kernels

import (
	"embed"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

//go:embed lemath.h src/*.h opencl/*.cl
var sources embed.FS

// Header returns the shared math header lemath.h.
func Header() string {
	b, _ := sources.ReadFile("lemath.h")
	return string(b)
}

// OpenCLSource returns the OpenCL program for all families: every
// kernels/opencl/*.cl file, in name order, with its #include lines
// replaced by the included files (lemath.h, then the family's body
// src/<family>.h). Each file is inlined once, at its first #include, and
// is preceded by a #line directive naming it, so that build logs point
// into the right file.
func OpenCLSource() string {
	fams := openCLFamilies()
	seen := map[string]bool{}
	var sb strings.Builder
	for _, fam := range fams {
		if err := inline(&sb, "opencl/"+fam+".cl", "", seen); err != nil {
			// The embedded sources are fixed at build time, and
			// TestOpenCLSource resolves every include.
			panic(err)
		}
	}
	return sb.String()
}

// OpenCLFamilySource returns the OpenCL program of one family: the file
// kernels/opencl/<family>.cl with its includes inlined, as in
// OpenCLSource.
func OpenCLFamilySource(family string) (string, error) {
	var sb strings.Builder
	if err := inline(&sb, "opencl/"+family+".cl", "", map[string]bool{}); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// OpenCLFiles returns the names and contents of kernels/opencl/*.cl, as
// written (their #include lines unresolved).
func OpenCLFiles() map[string]string {
	out := map[string]string{}
	ents, _ := sources.ReadDir("opencl")
	for _, e := range ents {
		b, _ := sources.ReadFile("opencl/" + e.Name())
		out[e.Name()] = string(b)
	}
	return out
}

// openCLFamilies returns the base names of kernels/opencl/*.cl, sorted.
func openCLFamilies() []string {
	ents, _ := sources.ReadDir("opencl")
	var fams []string
	for _, e := range ents {
		if name, ok := strings.CutSuffix(e.Name(), ".cl"); ok {
			fams = append(fams, name)
		}
	}
	sort.Strings(fams)
	return fams
}

var includeRE = regexp.MustCompile(`^\s*#\s*include\s*"([^"]+)"`)

// inline writes the embedded file name to sb, replacing each
// `#include "file"` line (file relative to name's folder) with that
// file's contents, inlined the same way unless seen already holds it.
// from is the including file ("" for the top one), for errors.
func inline(sb *strings.Builder, name, from string, seen map[string]bool) error {
	b, err := sources.ReadFile(name)
	if err != nil {
		if from != "" {
			return fmt.Errorf("kernels: %s includes %s, which is not embedded: %w", from, name, err)
		}
		return fmt.Errorf("kernels: no OpenCL source %s: %w", name, err)
	}
	seen[name] = true
	fmt.Fprintf(sb, "#line 1 \"%s\"\n", name)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, line := range lines {
		m := includeRE.FindStringSubmatch(line)
		if m == nil {
			sb.WriteString(line)
			sb.WriteByte('\n')
			continue
		}
		inc := path.Join(path.Dir(name), m[1])
		if path.IsAbs(m[1]) || strings.HasPrefix(inc, "../") {
			return fmt.Errorf("kernels: %s:%d: #include %q is outside package kernels", name, i+1, m[1])
		}
		if !seen[inc] {
			if err := inline(sb, inc, name, seen); err != nil {
				return err
			}
		}
		if i+1 < len(lines) { // back to name's own numbering
			fmt.Fprintf(sb, "#line %d \"%s\"\n", i+2, name)
		}
	}
	return nil
}
