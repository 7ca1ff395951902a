// Command lossbench checks and times lossengine's losses on a device, and
// evaluates single cases for cross-checks against PyTorch.
//
// Usage:
//
//	lossbench [flags]        benchmark sweep (see -h for the byte model)
//	lossbench devices        list backends and devices
//	lossbench eval           evaluate one JSON case read from stdin
//
// The sweep first checks each kernel's result against the host device
// computing in float64, and refuses to time a kernel that disagrees.
package main

import (
	"fmt"
	"io"
	"os"
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
		case "sweep", "bench":
			return cmdSweep(args[1:], stdout, stderr)
		case "help":
			fmt.Fprint(stdout, mainUsage)
			return 0
		}
	}
	return cmdSweep(args, stdout, stderr)
}

const mainUsage = `lossbench checks and times lossengine losses on a device.

Usage:
  lossbench [sweep flags]   check, then time, a sweep of losses (the default)
  lossbench devices [-json] list backends, whether compiled in, and devices
  lossbench eval [-device name] [-pretty] < case.json
                            evaluate one case (loss, gradients) as JSON

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

Losses and ops (inputs; options):
  cross_entropy  input [N, C], target [N] class indices;
                 reduction (none|mean|sum), ignore_index, label_smoothing,
                 weight [C], nan_policy (propagate|error).
                 grads: input. With reduction none, "loss" is an array [N].
  mse_loss       input, target of equal shape; reduction, nan_policy.
                 grads: input, target. With none, "loss" is flat, shaped as input.
  softmax, log_softmax, logsumexp
                 input (at least 1-D), optional grad_output shaped like the
                 output (default ones); dim (must be the last: -1 or ndim-1),
                 temperature (x/temperature), keepdim (logsumexp only).
                 "output" holds the op's result; grads.input is the gradient
                 of sum(grad_output * output); there is no "loss".
  ctc_loss       log_probs [T, N, C] ([N, T, C] with batch_first), targets
                 [N, S] (padded) or 1-D (concatenated), input_lengths [N],
                 target_lengths [N]; blank (default 0), reduction,
                 zero_infinity, and lossengine's logits (true: log_probs
                 holds raw logits, log_softmax folded in, gradient w.r.t.
                 them), batch_first, grad_mode (exact | pytorch: the exact
                 d loss/d log_probs, or PyTorch's softmax-minus-occupation).
                 grads: log_probs. With reduction none, "loss" is [N].
  seq_cross_entropy
                 input [N, T, V] decoder logits, target [N, T] token ids;
                 ignore_index (the padding, default -100), label_smoothing,
                 normalization (token | sequence). grads: input.

Any error (bad JSON, unknown loss, input or option, bad shapes, an error
from package losses) is written to stderr with exit status 2.

Flags:
`
