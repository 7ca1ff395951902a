//go:build cudaplugin && linux && cgo

package cudaload

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef int (*le_init_fn)(unsigned int);
typedef int (*le_count_fn)(int *);
typedef int (*le_errname_fn)(int, const char **);

// le_probe opens the driver library lib, calls cuInit(0) and, if that
// succeeds, cuDeviceGetCount. It returns -1 when the library or a symbol is
// missing (dlerror's text in *msg), else the CUresult of the first failing
// call (its name in *msg when the driver can name it), else 0.
static int le_probe(const char *lib, int *count, const char **msg) {
	*msg = 0;
	void *h = dlopen(lib, RTLD_NOW | RTLD_GLOBAL);
	if (!h) { *msg = dlerror(); return -1; }
	le_init_fn init = (le_init_fn)dlsym(h, "cuInit");
	le_count_fn cnt = (le_count_fn)dlsym(h, "cuDeviceGetCount");
	le_errname_fn name = (le_errname_fn)dlsym(h, "cuGetErrorName");
	if (!init || !cnt) { *msg = "cuInit or cuDeviceGetCount missing from the driver library"; return -1; }
	int r = init(0);
	if (r == 0) r = cnt(count);
	if (r != 0 && name) name(r, msg);
	return r;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"plugin"
	"sync"
	"time"
	"unsafe"

	"github.com/lossengine/lossengine/device"
)

// DriverEnv names the driver library to open instead of libcuda.so.1.
const DriverEnv = "LOSSENGINE_CUDA_DRIVER"

// PluginEnv names the plugin file to load instead of lossengine-cuda.so
// next to the executable.
const PluginEnv = "LOSSENGINE_CUDA_PLUGIN"

// PluginName is the plugin's file name the loader looks for next to the
// executable.
const PluginName = "lossengine-cuda.so"

func init() { device.Register(loader{}) }

// loader is the "cuda" backend until the plugin replaces it.
type loader struct{}

func (loader) Name() string { return "cuda" }

func (loader) Devices() ([]device.Info, error) {
	b, err := load()
	if err != nil {
		return nil, err
	}
	return b.Devices()
}

func (loader) Open(index int) (device.Device, error) {
	b, err := load()
	if err != nil {
		return nil, err
	}
	return b.Open(index)
}

// Stats says what the loader did: how long the driver probe and the plugin
// load took, how many GPUs the driver counted, and which files it used.
type Stats struct {
	Driver, Plugin    string
	GPUs              int
	Probe, PluginLoad time.Duration
	Loaded            bool
}

var (
	loadOnce sync.Once
	loaded   device.Backend
	loadErr  error
	stats    Stats
)

// Load probes the driver and loads the plugin (once per process), and
// returns what happened; err is the reason CUDA is unavailable, if it is.
func Load() (Stats, error) {
	_, err := load()
	return stats, err
}

func load() (device.Backend, error) {
	loadOnce.Do(func() { loaded, loadErr = doLoad() })
	return loaded, loadErr
}

func doLoad() (device.Backend, error) {
	stats.Driver = "libcuda.so.1"
	if v := os.Getenv(DriverEnv); v != "" {
		stats.Driver = v
	}
	t0 := time.Now()
	n, err := probe(stats.Driver)
	stats.Probe = time.Since(t0)
	if err != nil {
		return nil, err
	}
	stats.GPUs = n
	path, err := pluginPath()
	stats.Plugin = path
	if err != nil {
		return nil, err
	}
	t0 = time.Now()
	p, err := plugin.Open(path)
	stats.PluginLoad = time.Since(t0)
	if err != nil {
		return nil, fmt.Errorf("loading the CUDA plugin %s (build it with the binary's Go release and tags: go build -tags cuda,cudaplugin -buildmode=plugin ./device/cuda/plugin): %w", path, err)
	}
	sym, err := p.Lookup("Backend")
	if err != nil {
		return nil, fmt.Errorf("the CUDA plugin %s: %w", path, err)
	}
	fn, ok := sym.(func() device.Backend)
	if !ok {
		return nil, fmt.Errorf("the CUDA plugin %s: Backend is a %T, not a func() device.Backend", path, sym)
	}
	stats.Loaded = true
	return fn(), nil
}

// probe opens the driver library and initialises it, as gorgonia.org/cu's
// init would, and returns the number of GPUs.
func probe(lib string) (int, error) {
	clib := C.CString(lib)
	defer C.free(unsafe.Pointer(clib))
	var count C.int
	var msg *C.char
	r := int(C.le_probe(clib, &count, &msg))
	text := ""
	if msg != nil {
		text = C.GoString(msg)
	}
	switch {
	case r == -1:
		return 0, fmt.Errorf("no CUDA driver: %s", text)
	case r != 0:
		if text == "" {
			text = "CUresult"
		}
		return 0, fmt.Errorf("the CUDA driver (%s) fails to initialise: %s (%d)", lib, text, r)
	}
	return int(count), nil
}

// pluginPath is $LOSSENGINE_CUDA_PLUGIN, else lossengine-cuda.so in the
// executable's directory.
func pluginPath() (string, error) {
	if v := os.Getenv(PluginEnv); v != "" {
		if _, err := os.Stat(v); err != nil {
			return v, fmt.Errorf("the CUDA plugin ($%s): %w", PluginEnv, err)
		}
		return v, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locating the CUDA plugin: %w", err)
	}
	path := filepath.Join(filepath.Dir(exe), PluginName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return path, fmt.Errorf("the CUDA driver works, but the CUDA plugin %s is not next to the executable (set $%s)", PluginName, PluginEnv)
		}
		return path, fmt.Errorf("the CUDA plugin: %w", err)
	}
	return path, nil
}
