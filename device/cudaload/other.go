//go:build cudaplugin && !(linux && cgo)

package cudaload

import (
	"errors"
	"time"

	"github.com/lossengine/lossengine/device"
)

func init() { device.Register(loader{}) }

var errPlatform = errors.New("the CUDA plugin loader needs Linux and cgo")

// loader is a "cuda" backend that reports why it cannot load.
type loader struct{}

func (loader) Name() string                    { return "cuda" }
func (loader) Devices() ([]device.Info, error) { return nil, errPlatform }
func (loader) Open(int) (device.Device, error) { return nil, errPlatform }

// Stats says what the loader did (here: nothing).
type Stats struct {
	Driver, Plugin    string
	GPUs              int
	Probe, PluginLoad time.Duration
	Loaded            bool
}

// Load returns why CUDA is unavailable.
func Load() (Stats, error) { return Stats{}, errPlatform }
