// Package backends links every backend compiled into the binary: the host
// backend always, OpenCL with -tags opencl and CUDA with -tags cuda. Without
// the tag, a backend registers itself as missing, so that selecting it names
// the tag to add. With -tags cuda,cudaplugin, CUDA is the loader of package
// device/cudaload instead, which loads the CUDA backend as a plugin once the
// driver is known to work, so the binary starts on machines without one.
// Import it for its side effects:
//
//	import _ "github.com/lossengine/lossengine/backends"
//
// Package losses imports it, so users of losses need not.
package backends

import (
	_ "github.com/lossengine/lossengine/device/opencl"
	_ "github.com/lossengine/lossengine/host"
)
