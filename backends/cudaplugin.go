//go:build cudaplugin

package backends

// The CUDA plugin loader: the binary does not link gorgonia.org/cu.
import _ "github.com/lossengine/lossengine/device/cudaload"
