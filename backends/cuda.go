//go:build !cudaplugin

package backends

// The CUDA backend, linked in (or registered as missing without -tags cuda).
import _ "github.com/lossengine/lossengine/device/cuda"
