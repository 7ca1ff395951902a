package kerneltest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// suite is one Run on one device.
type suite struct {
	d      device.Device
	mu     sync.Mutex
	counts map[string]int // launches compared with the mirror, per kernel
}

func (s *suite) ran(name string) {
	s.mu.Lock()
	s.counts[name]++
	s.mu.Unlock()
}

// family is one subtest of Run.
type family struct {
	name string
	run  func(*testing.T, *suite)
}

// addFamily adds a later family's subtest (run after the first ones, in
// the order of the files' init functions: file name order) and its size
// cases (nil: none).
func addFamily(name string, run func(*testing.T, *suite), sizes func() []sizeCase) {
	families = append(families, family{name, run})
	if sizes != nil {
		laterSizeCases = append(laterSizeCases, sizes)
	}
}

// families are the subtests of Run, in order.
var families = []family{
	{"softmax", testSoftmax},
	{"cross_entropy", testCrossEntropy},
	{"pointwise", testPointwise},
	{"reduce", testReduce},
	{"rowloss", testRowLoss},
	{"scale_rows", testScaleRows},
	{"ctc", testCTC},
	{"ctc_nan", testCTCNaN},
	{"determinism", testDeterminism},
	{"sizes", testSizes},
}

// Run runs every kernel case on d, each compared with the host mirror,
// one subtest per family. When every family ran (no -run filter left one
// out), it fails if some kernel of the manifest was never compared.
func Run(t *testing.T, d device.Device) {
	s := &suite{d: d, counts: map[string]int{}}
	all := true
	for _, f := range families {
		entered := false
		t.Run(f.name, func(t *testing.T) {
			entered = true
			f.run(t, s)
		})
		all = all && entered
	}
	var b strings.Builder
	total := 0
	for _, name := range kernelspec.Names() {
		fmt.Fprintf(&b, "\n  %-26s %d", name, s.counts[name])
		total += s.counts[name]
		if all && s.counts[name] == 0 && !t.Failed() {
			t.Errorf("kernel %s was never compared with its host mirror", name)
		}
	}
	t.Logf("%s (%s): kernel cases compared with the host mirrors: %d launches%s", d.Info().Name, d.Info().Description, total, b.String())
}

// Bench times ctc_alpha and ctc_beta_grad on d (see ctcBench).
func Bench(b *testing.B, d device.Device) { ctcBench(b, d) }
