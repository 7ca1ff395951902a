//go:build cuda && cudaplugin

// Command plugin is the CUDA backend built as a Go plugin, for binaries
// built with -tags cuda,cudaplugin (see package device/cudaload):
//
//	. scripts/cuda-env.sh
//	go build -tags cuda,cudaplugin -buildmode=plugin -o lossengine-cuda.so ./device/cuda/plugin
//
// Loading it runs gorgonia.org/cu's init (cuInit) and package cuda's init,
// which registers the real "cuda" backend in place of the loader's. The
// plugin and the binary must be built by the same Go release from the same
// source with the same build tags and flags; the loader reports a mismatch
// as the reason CUDA is unavailable.
package main

import (
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/device/cuda"
)

// Backend is the symbol the loader looks up.
func Backend() device.Backend { return cuda.Backend() }

func main() {}
