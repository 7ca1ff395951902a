package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/lossengine/lossengine/host"
)

// evalTimeLimit bounds one case of FuzzEval: its cases are small, and a
// typical one takes well under a millisecond.
const evalTimeLimit = 2 * time.Second

// FuzzEval feeds arbitrary bytes to "lossbench eval": it must never panic
// or take long (evalTimeLimit), and must exit 0, 2 or 3 (1 only for an
// internal failure, which a case cannot cause on the host). The seeds
// include empty tensors with huge dimensions, whose outputs must be
// refused by the memory budget or returned at once.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		`{"loss": "mse_loss", "inputs": {"input": {"data": [1, 2]}, "target": {"data": [0, 0]}}}`,
		`{"loss": "cross_entropy", "inputs": {"input": {"shape": [2, 3], "data": [1, 2, 3, 0, 0, "-inf"]}, "target": {"shape": [2], "data": [2, 0]}}}`,
		`{"loss": "softmax", "inputs": {"input": {"shape": [2147483647, 0], "data": []}}}`,
		`{"loss": "log_softmax", "inputs": {"input": {"shape": [16777216, 0], "data": []}}}`,
		`{"loss": "logsumexp", "inputs": {"input": {"shape": [2147483647, 0], "data": []}}}`,
		`{"loss": "logsumexp", "inputs": {"input": {"shape": [147486743, 0], "data": []}}}`,
		`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [0, 1, 2000000], "data": []}, "targets": {"shape": [1, 0], "data": []}, "input_lengths": {"data": [0]}, "target_lengths": {"data": [0]}}}`,
		// once 46 s and 8 GiB each (a host table of C entries): a worker past
		// the fuzzer's 10 s limit per input
		`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [0, 0, 2147483647], "data": []}, "targets": {"shape": [0, 0], "data": []}, "input_lengths": {"data": []}, "target_lengths": {"data": []}}}`,
		`{"loss": "ctc_loss", "inputs": {"log_probs": {"shape": [0, 1, 2147483647], "data": []}, "targets": {"shape": [1, 2], "data": [5, 5]}, "input_lengths": {"data": [0]}, "target_lengths": {"data": [2]}}}`,
		`{"loss": "mse_loss", "inputs": {"input": {"shape": [2, 4611686018427387905], "data": [1]}, "target": {"shape": [2, 4611686018427387905], "data": [1]}}}`,
		// once 11 GB and 14 s (per-sequence counts for N empty sequences)
		`{"loss": "seq_cross_entropy", "options": {"normalization": "sequence"}, "inputs": {"input": {"shape": [715827882, 0, 1], "data": []}, "target": {"shape": [715827882, 0], "data": []}}}`,
		`{"loss": "nll_loss", "inputs": {"input": {"shape": [0, 2147483647], "data": []}, "target": {"shape": [0], "data": []}}}`,
		`{"loss": "seq_cross_entropy", "options": {"normalization": "sequence"}, "inputs": {"input": {"shape": [1, 1, 2], "data": [1, 2]}, "target": {"shape": [1, 1], "data": [1]}}}`,
		`{"loss": "poly_loss_cross_entropy", "inputs": {"input": {"shape": [1, 2], "data": [1, 2]}, "target": {"shape": [1, 2], "data": [0.5, 0.5]}}}`,
		`{"Loss": "mse_loss"}`, `{"loss": null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	// A small budget (in every fuzzing process) bounds what one input may
	// allocate and, with it, the work set by its outputs.
	old := host.SetMemoryBudget(4 << 20)
	defer host.SetMemoryBudget(old)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, errb bytes.Buffer
		t0 := time.Now()
		code := run([]string{"eval", "-device", "host"}, bytes.NewReader(in), &out, &errb)
		if d := time.Since(t0); d > evalTimeLimit {
			t.Errorf("took %v (limit %v) for %q", d, evalTimeLimit, in)
		}
		if code != 0 && code != 2 && code != 3 {
			t.Fatalf("exit %d for %q: %s", code, in, errb.String())
		}
		if code != 0 && (out.Len() != 0 || !strings.HasPrefix(errb.String(), "lossbench eval: ")) {
			t.Fatalf("exit %d with stdout %q and stderr %q", code, out.String(), errb.String())
		}
	})
}
