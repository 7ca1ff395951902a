package kernels

import (
	"embed"
	"strings"
)

//go:embed lemath.h opencl/*.cl
var sources embed.FS

// Header returns the shared math header lemath.h.
func Header() string {
	b, _ := sources.ReadFile("lemath.h")
	return string(b)
}

// OpenCLSource returns the OpenCL program for all families: lemath.h
// followed by every kernels/opencl/*.cl file (whose #include of lemath.h
// is dropped, the header being inlined).
func OpenCLSource() string {
	var sb strings.Builder
	sb.WriteString(Header())
	ents, _ := sources.ReadDir("opencl")
	for _, e := range ents {
		b, _ := sources.ReadFile("opencl/" + e.Name())
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#include") {
				continue
			}
			sb.WriteString(line)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// OpenCLFiles returns the names and contents of kernels/opencl/*.cl.
func OpenCLFiles() map[string]string {
	out := map[string]string{}
	ents, _ := sources.ReadDir("opencl")
	for _, e := range ents {
		b, _ := sources.ReadFile("opencl/" + e.Name())
		out[e.Name()] = string(b)
	}
	return out
}
