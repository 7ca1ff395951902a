package losstest

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/losses"
)

// foreignBuf is a Buffer of another implementation that claims a device:
// every device must refuse it before it launches anything.
type foreignBuf struct {
	dev device.Device
	dt  device.DType
	n   int
}

func (b *foreignBuf) DType() device.DType   { return b.dt }
func (b *foreignBuf) Len() int              { return b.n }
func (b *foreignBuf) Device() device.Device { return b.dev }
func (b *foreignBuf) Release() error        { return nil }

// devTensors is one call's tensors as buffers of a device.
type devTensors struct {
	dev  device.Device
	ts   map[string]losses.Tensor
	outs []string // output names, sorted
}

// bits downloads every tensor's elements as bits.
func (d devTensors) bits() (map[string][]uint64, error) {
	out := map[string][]uint64{}
	for name, t := range d.ts {
		var v []uint64
		switch t.Buf.DType() {
		case device.Float32:
			s, err := device.Download[float32](d.dev, t.Buf, t.Buf.Len())
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			for _, x := range s {
				v = append(v, uint64(math.Float32bits(x)))
			}
		case device.Int32:
			s, err := device.Download[int32](d.dev, t.Buf, t.Buf.Len())
			if err != nil {
				return nil, fmt.Errorf("%s: %v", name, err)
			}
			for _, x := range s {
				v = append(v, uint64(uint32(x)))
			}
		}
		out[name] = v
	}
	return out, nil
}

// poison fills every output with values no loss writes, so that an
// output left as it was is one the call did not write.
func (d devTensors) poison() error {
	for _, name := range d.outs {
		b := d.ts[name].Buf
		v := make([]float32, b.Len())
		for i := range v {
			v[i] = float32(i) + 0.5
		}
		if len(v) > 0 {
			if err := d.dev.Write(b, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d devTensors) release() {
	for _, t := range d.ts {
		t.Buf.Release()
	}
}

// upload puts a case's inputs, and outputs shaped as the host call gives
// them, into buffers of dev (float32 and int32: the buffer form).
func upload(dev device.Device, c Case, hostOuts map[string]losses.Tensor) (devTensors, error) {
	d := devTensors{dev: dev, ts: map[string]losses.Tensor{}}
	for name, v := range c.ins {
		var b device.Buffer
		var err error
		if v.isInt {
			b, err = device.Upload(dev, v.i)
		} else {
			b, err = device.Upload(dev, to32(v.f))
		}
		if err != nil {
			d.release()
			return d, err
		}
		d.ts[name] = losses.NewTensor(b, v.shape...)
	}
	for name, t := range hostOuts {
		b, err := dev.Alloc(device.Float32, t.Len())
		if err != nil {
			d.release()
			return d, err
		}
		d.ts[name] = losses.NewTensor(b, t.Shape...)
		d.outs = append(d.outs, name)
	}
	sort.Strings(d.outs)
	return d, nil
}

// TestBadBuffers: on every device, for one non-empty case of every
// declared loss in the buffer form, each bad buffer in any tensor (input
// or output) — typed nil, released, of a foreign Buffer implementation
// that claims the device, of the wrong dtype, one element short — and any
// two outputs given the same buffer are each an *ArgError naming an
// argument (released and foreign ones also match device.ErrReleased and
// device.ErrWrongDevice), and every buffer of the call is bitwise
// unchanged afterwards: a call fails before it writes anything.
func TestBadBuffers(t *testing.T) {
	forEachDevice(t, func(t *testing.T, dev device.Device) {
		seen := map[string]bool{}
		for _, c := range Cases() {
			if c.ins == nil || seen[c.Loss] {
				continue
			}
			if badBufferCase(t, dev, c) {
				seen[c.Loss] = true
			}
		}
		for _, name := range losses.Names() {
			if !seen[name] {
				t.Errorf("%s: no case with data ran", name)
			}
		}
	})
}

// badBufferCase runs the bad-buffer table on c and reports whether c had
// data and succeeded as it is (else it is skipped for another case).
func badBufferCase(t *testing.T, dev device.Device, c Case) bool {
	t.Helper()
	d, _ := losses.Lookup(c.Loss)
	hostIns := map[string]losses.Tensor{}
	for name, v := range c.ins {
		if v.isInt {
			hostIns[name] = losses.HostTensor(slices.Clone(v.i), v.shape...)
		} else {
			if len(v.f) == 0 {
				return false
			}
			hostIns[name] = losses.HostTensor(to32(v.f), v.shape...)
		}
	}
	hostOuts, err := d.Call(host.Default(), hostIns, c.opt)
	if err != nil || len(hostOuts) < 1 {
		return false
	}
	all, err := upload(dev, c, hostOuts)
	if err != nil {
		t.Fatalf("%s: upload: %v", c.Name, err)
	}
	defer all.release()
	if call, err := d.Bind(all.ts, c.opt, nil); err != nil {
		t.Errorf("%s: the good call: %v", c.Name, err)
		return true
	} else if err := call(dev); err != nil {
		t.Errorf("%s: the good call: %v", c.Name, err)
		return true
	}

	run := func(what string, mod map[string]losses.Tensor, is error) {
		t.Helper()
		if err := all.poison(); err != nil {
			t.Fatal(err)
		}
		before, err := all.bits()
		if err != nil {
			t.Fatal(err)
		}
		call, err := d.Bind(mod, c.opt, nil)
		if err == nil {
			err = call(dev)
		}
		var ae *losses.ArgError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %s: got %v, want an *ArgError", c.Name, what, err)
			return
		}
		if is != nil && !errors.Is(err, is) {
			t.Errorf("%s: %s: got %q, want it to match %q", c.Name, what, err, is)
		}
		after, err := all.bits()
		if err != nil {
			t.Fatal(err)
		}
		for k := range before {
			if !slices.Equal(before[k], after[k]) {
				t.Errorf("%s: %s: failed with %q but changed %s", c.Name, what, err, k)
			}
		}
	}
	with := func(name string, b device.Buffer, shape []int) map[string]losses.Tensor {
		m := make(map[string]losses.Tensor, len(all.ts))
		for k, v := range all.ts {
			m[k] = v
		}
		m[name] = losses.Tensor{Buf: b, Shape: shape}
		return m
	}
	names := make([]string, 0, len(all.ts))
	for k := range all.ts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := all.ts[name]
		typedNil := reflect.Zero(reflect.TypeOf(v.Buf)).Interface().(device.Buffer)
		run("typed-nil "+name, with(name, typedNil, v.Shape), nil)

		released, err := dev.Alloc(v.Buf.DType(), v.Buf.Len())
		if err != nil {
			t.Fatal(err)
		}
		released.Release()
		run("released "+name, with(name, released, v.Shape), device.ErrReleased)

		foreign := &foreignBuf{dev: dev, dt: v.Buf.DType(), n: v.Buf.Len()}
		run("foreign "+name, with(name, foreign, v.Shape), device.ErrWrongDevice)

		wrong := device.Int32
		if v.Buf.DType() == device.Int32 {
			wrong = device.Float32
		}
		wb, err := dev.Alloc(wrong, v.Buf.Len())
		if err != nil {
			t.Fatal(err)
		}
		run("wrong dtype "+name, with(name, wb, v.Shape), nil)
		wb.Release()

		if v.Len() > 0 {
			sb, err := dev.Alloc(v.Buf.DType(), v.Len()-1)
			if err != nil {
				t.Fatal(err)
			}
			run("short "+name, with(name, sb, v.Shape), nil)
			sb.Release()
		}
	}
	for i, a := range all.outs {
		for _, b := range all.outs[i+1:] {
			run(b+" aliasing "+a, with(b, all.ts[a].Buf, all.ts[b].Shape), nil)
		}
	}
	return true
}

// forEachDevice runs f on every device present, as a subtest; a backend
// not compiled in or without a device is a skipped subtest.
func forEachDevice(t *testing.T, f func(t *testing.T, dev device.Device)) {
	for _, st := range device.List() {
		if !st.Compiled {
			t.Run(st.Name, func(t *testing.T) { t.Skipf("backend %s not compiled in: build with -tags %s", st.Name, st.Tag) })
			continue
		}
		if len(st.Devices) == 0 {
			t.Run(st.Name, func(t *testing.T) { t.Skipf("no %s device present: %v", st.Name, st.Err) })
			continue
		}
		for _, info := range st.Devices {
			t.Run(info.Name, func(t *testing.T) {
				dev, err := device.Open(info.Name)
				if err != nil {
					t.Fatalf("open %s: %v", info.Name, err)
				}
				f(t, dev)
			})
		}
	}
}
