package losstest

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/internal/kernelspec"
	"github.com/lossengine/lossengine/losses"
)

// TestEquivalence runs the table on every device of every backend compiled
// into this test binary, against the host path in float64.
func TestEquivalence(t *testing.T) {
	cases := Cases()
	refs := make([]Outputs, len(cases))
	for i, c := range cases {
		ref, err := Reference(c)
		if err != nil {
			t.Fatalf("%s: host float64 reference: %v", c.Name, err)
		}
		refs[i] = ref
	}
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		info := dev.Info()
		ran := 0
		for i, c := range cases {
			got, err := c.Run(dev, false)
			if err != nil {
				t.Errorf("%s: %v", c.Name, err)
				continue
			}
			if msg := Compare(got, refs[i], c.Tol); msg != "" {
				t.Errorf("%s on %s: %s", c.Name, info.Name, msg)
			}
			if msg := AgreeLogLik(got.LogLik, 1e-5); msg != "" {
				t.Errorf("%s on %s: %s", c.Name, info.Name, msg)
			}
			again, err := c.Run(dev, false)
			if err != nil {
				t.Errorf("%s (second run): %v", c.Name, err)
				continue
			}
			if !Identical(got, again) {
				t.Errorf("%s on %s: two identical calls gave different bits", c.Name, info.Name)
			}
			ran++
		}
		t.Logf("%s (%s): %d equivalence cases ran, each twice", info.Name, info.Description, ran)
	})
}

// TestEveryLossHasCases requires every declared loss to have at least one
// row in the table, and every row to name a declared loss and be named
// uniquely.
func TestEveryLossHasCases(t *testing.T) {
	count := map[string]int{}
	seen := map[string]bool{}
	for _, c := range Cases() {
		if _, ok := losses.Lookup(c.Loss); !ok {
			t.Errorf("case %s runs %q, which is not a declared loss", c.Name, c.Loss)
		}
		if seen[c.Name] {
			t.Errorf("two cases are named %s", c.Name)
		}
		seen[c.Name] = true
		count[c.Loss]++
	}
	for _, name := range losses.Names() {
		if count[name] == 0 {
			t.Errorf("declared loss %s has no equivalence case: add its rows to Cases (internal/losstest)", name)
		}
	}
}

// TestEveryKernelIsDeclared requires every kernel of the manifest to be
// launched by some declared loss (Decl.Kernels), and every kernel a
// declaration lists to be in the manifest: a kernel no loss launches is
// tested by nothing here.
func TestEveryKernelIsDeclared(t *testing.T) {
	used := map[string][]string{}
	for _, d := range losses.Declarations() {
		if len(d.Kernels) == 0 {
			t.Errorf("%s declares no kernels", d.Name)
		}
		for _, k := range d.Kernels {
			used[k] = append(used[k], d.Name)
			if _, ok := kernelspec.Lookup(k); !ok {
				t.Errorf("%s declares kernel %q, which is not in kernelspec.Manifest", d.Name, k)
			}
		}
	}
	for _, k := range kernelspec.Manifest {
		if len(used[k.Name]) == 0 {
			t.Errorf("kernel %s (family %s) is launched by no declared loss", k.Name, k.Family)
		}
	}
}

// recorder is a device that records the kernels launched through it. Its
// buffers wrap those of the device it records, so that the losses stage
// host tensors onto it as onto an accelerator.
type recorder struct {
	device.Device
	launched map[string]bool
}

type recBuf struct {
	device.Buffer
	dev *recorder
}

func (b *recBuf) Device() device.Device { return b.dev }

func unwrap(b device.Buffer) device.Buffer {
	if r, ok := b.(*recBuf); ok {
		return r.Buffer
	}
	return b
}

func (r *recorder) Alloc(dt device.DType, n int) (device.Buffer, error) {
	b, err := r.Device.Alloc(dt, n)
	if err != nil {
		return nil, err
	}
	return &recBuf{b, r}, nil
}

func (r *recorder) Write(dst device.Buffer, src any) error { return r.Device.Write(unwrap(dst), src) }

func (r *recorder) Read(dst any, src device.Buffer) error { return r.Device.Read(dst, unwrap(src)) }

func (r *recorder) Copy(dst, src device.Buffer, n int) error {
	return r.Device.Copy(unwrap(dst), unwrap(src), n)
}

func (r *recorder) Launch(kernel string, grid device.Grid, args ...any) error {
	r.launched[kernel] = true
	in := make([]any, len(args))
	for i, a := range args {
		if b, ok := a.(device.Buffer); ok {
			a = unwrap(b)
		}
		in[i] = a
	}
	return r.Device.Launch(kernel, grid, in...)
}

// TestDeclaredKernelsCoverLaunches runs each case on the host device in
// float32 through a device that records every launch, and requires the
// kernels launched to be among those its loss declares (Decl.Kernels),
// and every declared kernel to be launched by some case of its loss.
func TestDeclaredKernelsCoverLaunches(t *testing.T) {
	hostDev, err := device.Open("host")
	if err != nil {
		t.Fatal(err)
	}
	launchedBy := map[string]map[string]bool{}
	for _, c := range Cases() {
		d, ok := losses.Lookup(c.Loss)
		if !ok {
			continue // TestEveryLossHasCases reports it
		}
		rec := &recorder{Device: hostDev, launched: map[string]bool{}}
		if _, err := c.Run(rec, false); err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if launchedBy[c.Loss] == nil {
			launchedBy[c.Loss] = map[string]bool{}
		}
		for k := range rec.launched {
			launchedBy[c.Loss][k] = true
			if !slices.Contains(d.Kernels, k) {
				t.Errorf("%s launched %s, which %s does not declare (%v)", c.Name, k, c.Loss, d.Kernels)
			}
		}
	}
	for _, d := range losses.Declarations() {
		var never []string
		for _, k := range d.Kernels {
			if launchedBy[d.Name] != nil && !launchedBy[d.Name][k] {
				never = append(never, k)
			}
		}
		if len(never) > 0 {
			sort.Strings(never)
			t.Logf("%s declares %s, which no case launches", d.Name, strings.Join(never, ", "))
		}
	}
}

// Check accepts the recorder's own live buffers.
func (r *recorder) Check(b device.Buffer) error {
	rb, ok := b.(*recBuf)
	if !ok || rb.dev != r {
		return device.ErrWrongDevice
	}
	return r.Device.Check(rb.Buffer)
}
