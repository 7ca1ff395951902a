package device

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Backend is what a backend package registers.
type Backend interface {
	// Name is the selection prefix: "host", "opencl" or "cuda".
	Name() string
	// Devices lists the devices present. An error means the backend's
	// runtime (OpenCL platform, CUDA driver) is unusable here.
	Devices() ([]Info, error)
	// Open opens the index-th device.
	Open(index int) (Device, error)
}

// EnvVar is the environment variable consulted when no name is given.
const EnvVar = "LOSSENGINE_DEVICE"

var (
	mu       sync.Mutex
	backends = map[string]Backend{}
	missing  = map[string]string{} // name -> build tag
)

// Register makes a compiled-in backend available. Backend packages call it
// from init.
func Register(b Backend) {
	mu.Lock()
	defer mu.Unlock()
	backends[b.Name()] = b
	delete(missing, b.Name())
}

// RegisterMissing records a backend that exists but was not compiled in, and
// the build tag that adds it. The !tag twin files of backend packages call it.
func RegisterMissing(name, tag string) {
	mu.Lock()
	defer mu.Unlock()
	if _, ok := backends[name]; !ok {
		missing[name] = tag
	}
}

// BackendStatus is one row of List.
type BackendStatus struct {
	Name     string
	Compiled bool
	Tag      string // build tag that compiles it in ("" for host)
	Devices  []Info // present devices
	Err      error  // why no device is present, if none is
}

// List says which backends were compiled in and which devices are present.
func List() []BackendStatus {
	mu.Lock()
	var out []BackendStatus
	var bs []Backend
	for _, b := range backends {
		bs = append(bs, b)
	}
	for name, tag := range missing {
		out = append(out, BackendStatus{Name: name, Tag: tag,
			Err: fmt.Errorf("%w: rebuild with -tags %s", ErrNotCompiled, tag)})
	}
	mu.Unlock()
	for _, b := range bs {
		infos, err := b.Devices()
		st := BackendStatus{Name: b.Name(), Compiled: true, Devices: infos, Err: err}
		if err == nil && len(infos) == 0 {
			st.Err = fmt.Errorf("%w: %s", ErrNotPresent, b.Name())
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return rank(out[i].Name) < rank(out[j].Name) })
	return out
}

func rank(name string) int {
	switch name {
	case "cuda":
		return 0
	case "opencl":
		return 1
	case "host":
		return 2
	}
	return 3
}

// Open opens a device by name: "host", "opencl", "opencl:N", "cuda",
// "cuda:N" or "auto". An empty name reads LOSSENGINE_DEVICE, then means
// "auto". "auto" picks the first CUDA device, else the first OpenCL GPU,
// else the host.
func Open(name string) (Device, error) {
	name = strings.TrimSpace(strings.ToLower(name))
	if name == "" {
		name = strings.TrimSpace(strings.ToLower(os.Getenv(EnvVar)))
	}
	if name == "" || name == "auto" {
		return openAuto()
	}
	base, idx := name, 0
	if i := strings.IndexByte(name, ':'); i >= 0 {
		base = name[:i]
		n, err := strconv.Atoi(name[i+1:])
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w %q: the index after ':' must be a non-negative integer", ErrUnknown, name)
		}
		idx = n
	}
	mu.Lock()
	b, ok := backends[base]
	tag, isMissing := missing[base]
	mu.Unlock()
	if !ok {
		if isMissing {
			return nil, fmt.Errorf("%w: %q needs the %q build tag (go build -tags %s)", ErrNotCompiled, base, tag, tag)
		}
		return nil, fmt.Errorf("%w %q: valid names are %s", ErrUnknown, name, strings.Join(validNames(), ", "))
	}
	infos, err := b.Devices()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNotPresent, base, err)
	}
	if idx >= len(infos) {
		return nil, fmt.Errorf("%w: %s has %d device(s), index %d asked for", ErrNotPresent, base, len(infos), idx)
	}
	return b.Open(idx)
}

func validNames() []string {
	mu.Lock()
	defer mu.Unlock()
	names := []string{"auto"}
	for n := range backends {
		names = append(names, n)
		if n != "host" {
			names = append(names, n+":N")
		}
	}
	for n := range missing {
		names = append(names, n+" (needs -tags "+n+")")
	}
	sort.Strings(names)
	return names
}

func openAuto() (Device, error) {
	mu.Lock()
	cuda, opencl, host := backends["cuda"], backends["opencl"], backends["host"]
	mu.Unlock()
	if cuda != nil {
		if infos, err := cuda.Devices(); err == nil && len(infos) > 0 {
			if d, err := cuda.Open(0); err == nil {
				return d, nil
			}
		}
	}
	if opencl != nil {
		if infos, err := opencl.Devices(); err == nil {
			for i, in := range infos {
				if in.Kind == GPU {
					if d, err := opencl.Open(i); err == nil {
						return d, nil
					}
				}
			}
		}
	}
	if host == nil {
		return nil, fmt.Errorf("%w: no backend registered (import lossengine/backends)", ErrNotPresent)
	}
	return host.Open(0)
}
