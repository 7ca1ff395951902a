// Command lossbench checks and times lossengine's losses on a device, and
// evaluates single cases for cross-checks against PyTorch.
//
// Usage:
//
//	lossbench [flags]        benchmark sweep (see -h for the byte model)
//	lossbench devices        list backends and devices
//	lossbench eval           evaluate one JSON case read from stdin
//	lossbench losses         list the declared losses (-json: as JSON)
//	lossbench version        the module version and the Go toolchain
//
// Exit status: 0 success, 1 a failed check or a runtime error, 2 a usage
// or input error (an unknown flag, subcommand or device name), 3 (eval) a
// case beyond a resource limit. Help (-h, help) goes to stdout.
//
// The sweep first checks each kernel's result against the host device
// computing in float64, and refuses to time a kernel that disagrees.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command: it returns the exit status (0 success, 1 a
// failed check or runtime error, 2 a usage or input error).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "devices":
			return cmdDevices(args[1:], stdout, stderr)
		case "eval":
			return cmdEval(args[1:], stdin, stdout, stderr)
		case "losses":
			return cmdLosses(args[1:], stdout, stderr)
		case "sweep", "bench":
			return cmdSweep(args[1:], stdout, stderr)
		case "help":
			fmt.Fprint(stdout, mainUsage)
			return 0
		case "version":
			fmt.Fprintln(stdout, version())
			return 0
		}
	}
	return cmdSweep(args, stdout, stderr)
}

// version is "lossbench <module version> <go version> <os>/<arch>".
func version() string {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	return fmt.Sprintf("lossbench %s %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// flagOutput is where a subcommand's flag set writes: stdout when help is
// asked for (-h, -help), stderr for the usage that follows a bad flag.
func flagOutput(args []string, stdout, stderr io.Writer) io.Writer {
	if slices.ContainsFunc(args, func(a string) bool {
		return a == "-h" || a == "-help" || a == "--help" || a == "--h"
	}) {
		return stdout
	}
	return stderr
}

const mainUsage = `lossbench checks and times lossengine losses on a device.

Usage:
  lossbench [sweep flags]   check, then time, a sweep of losses (the default)
  lossbench devices [-json] list backends, whether compiled in, and devices
  lossbench eval [-device name] [-pretty] < case.json
                            evaluate one case (loss, gradients) as JSON
  lossbench losses [-json]  list every declared loss: inputs, options, grads
  lossbench version         the module version and the Go toolchain

lossbench devices prints, for each backend (cuda, opencl, host), whether
this binary has it compiled in (else the build tag that adds it) and its
devices: the name to pass to -device (host, cuda:N, opencl:N), the
description, then the backend, the kind (cpu, gpu, ...), the memory, the
compute units (multiprocessors, OpenCL compute units, GOMAXPROCS) and
whether the device computes in float64. A backend without devices says
why ("no device: ..."). -json writes the same as a JSON array.

Exit status: 0 success; 1 a failed check or runtime error; 2 a usage or
input error (unknown flag, subcommand or device name); 3 (eval) a case
beyond a resource limit.

Run "lossbench -h" for the sweep's flags and byte model, and
"lossbench eval -h" for the JSON case format.
`

const evalUsage = `Usage: lossbench eval [flags] < case.json

Reads one JSON case on stdin and writes the result on stdout:

  {"loss": "cross_entropy",
   "options": {"reduction": "mean", "ignore_index": -100,
               "label_smoothing": 0.1, "weight": [...]},
   "inputs": {"input":  {"shape": [N, C], "data": [...]},
              "target": {"shape": [N], "data": [...]}},
   "device": "host", "dtype": "float64"}
  ->
  {"loss": 2.3, "grads": {"input": {"shape": [N, C], "data": [...]}}}

Data are flat, row-major. A missing shape means [len(data)]. Non-finite
values are the strings "inf", "-inf", "nan" (any case), in and out.
"device" defaults to the -device flag, then $LOSSENGINE_DEVICE, then auto.
"dtype" is float32 or float64; the default is float64 on the host device
and float32 elsewhere; float64 is host-only.

Every loss that package losses declares is available ("lossbench losses"
lists them with their inputs, options and gradients): inputs and options
take PyTorch's names; "grads" holds d loss / d input for each float input
("grads.input" of softmax, log_softmax and logsumexp is the gradient of
sum(grad_output * output), and their result is in "output", with no
"loss"); with reduction none, "loss" is an array. An input that may be
float or int32 (cross_entropy's target) is float when it has the shape of
the first float input (probabilities), else int32 (class indices). Other
results (lse, log_likelihood) are in "outputs".

Exit status: 0 success; 2 a bad case (bad JSON, a field name not spelled
exactly, null for a tensor, shape or dimension, an unknown loss, input or
option, bad shapes or values, an error from package losses); 3 a case
beyond a resource limit (larger than -max-bytes, out of memory); 1 an
internal or device failure. The message, on stderr, quotes at most 80
bytes of the input.

Flags:
`
