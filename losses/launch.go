package losses

import (
	"fmt"
	"slices"
	"sync"

	_ "github.com/lossengine/lossengine/backends"
	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
	"github.com/lossengine/lossengine/internal/kernelspec"
)

// rowGrid is one block per row.
func rowGrid(rows int) device.Grid {
	return device.Grid{Blocks: rows, Threads: kernelspec.BlockSize}
}

// partialGrid is the grid of grid-stride kernels that write one partial sum
// per block. It depends only on n, so results do not depend on the device.
func partialGrid(n int) device.Grid {
	b := (n + kernelspec.BlockSize - 1) / kernelspec.BlockSize
	b = max(1, min(b, kernelspec.MaxReduceBlocks))
	return device.Grid{Blocks: b, Threads: kernelspec.BlockSize}
}

var oneBlock = device.Grid{Blocks: 1, Threads: kernelspec.BlockSize}

// scratch is a per-device pool of temporary buffers. Devices execute
// launches in the order queued, so a buffer can go back to the pool as soon
// as the launches that use it are queued.
//
// Policy: after a call, its scratch buffers go back to the pool for the
// next call while the device's pool stays within ScratchKeepBytes (and 16
// buffers per dtype); the others are released at once. A device's pooled buffers are released
// when the device closes (device.Closing), and by Trim.
type scratch struct {
	mu    sync.Mutex
	free  map[scratchKey][]device.Buffer
	bytes map[device.Device]int64 // pooled bytes per device
	// hooked are the devices whose Close trims the pool (device.OnClose).
	hooked map[device.Device]bool
}

type scratchKey struct {
	dev device.Device
	dt  device.DType
}

// ScratchKeepBytes bounds the scratch memory kept for a device between
// calls.
const ScratchKeepBytes = 64 << 20

var pool = scratch{free: map[scratchKey][]device.Buffer{}, bytes: map[device.Device]int64{}, hooked: map[device.Device]bool{}}

// get returns a buffer of at least n (and at least 1) elements.
func (p *scratch) get(dev device.Device, dt device.DType, n int) (device.Buffer, error) {
	n = max(n, 1)
	k := scratchKey{dev, dt}
	p.mu.Lock()
	list := p.free[k]
	for i, b := range list {
		if b.Len() >= n {
			list[i] = list[len(list)-1]
			p.free[k] = list[:len(list)-1]
			p.bytes[dev] -= bufBytes(b)
			p.mu.Unlock()
			return b, nil
		}
	}
	p.mu.Unlock()
	return dev.Alloc(dt, n)
}

func bufBytes(b device.Buffer) int64 { return int64(b.Len()) * int64(b.DType().Size()) }

func (p *scratch) put(bs ...device.Buffer) {
	var drop []device.Buffer
	p.mu.Lock()
	for _, b := range bs {
		if b == nil {
			continue
		}
		dev := b.Device()
		k := scratchKey{dev, b.DType()}
		if len(p.free[k]) >= 16 || p.bytes[dev]+bufBytes(b) > ScratchKeepBytes {
			drop = append(drop, b)
			continue
		}
		if !p.hooked[dev] {
			p.hooked[dev] = true
			device.OnClose(dev, func() {
				pool.mu.Lock()
				delete(pool.hooked, dev)
				pool.mu.Unlock()
				Trim(dev)
			})
		}
		p.free[k] = append(p.free[k], b)
		p.bytes[dev] += bufBytes(b)
	}
	p.mu.Unlock()
	for _, b := range drop {
		b.Release()
	}
}

// Trim releases the scratch buffers the losses keep for dev between calls
// (see ScratchBytes). Closing a device trims it.
func Trim(dev device.Device) {
	var drop []device.Buffer
	pool.mu.Lock()
	for k, list := range pool.free {
		if k.dev == dev {
			drop = append(drop, list...)
			delete(pool.free, k)
		}
	}
	delete(pool.bytes, dev)
	pool.mu.Unlock()
	for _, b := range drop {
		b.Release()
	}
}

// ScratchBytes is the memory the losses keep for dev between calls, at
// most ScratchKeepBytes.
func ScratchBytes(dev device.Device) int64 {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	return pool.bytes[dev]
}

// checkBuf validates a buffer argument: present (unless optional), on dev,
// of a float type equal to ft (or int32), with at least n elements.
func checkBuf(loss, arg string, dev device.Device, b device.Buffer, dt device.DType, n int, optional bool) error {
	if b == nil {
		if optional {
			return nil
		}
		return argErr(loss, arg, "buffer is nil")
	}
	if b.Device() != dev {
		return argErr(loss, arg, "buffer belongs to device %s, not %s", b.Device().Info().Name, dev.Info().Name)
	}
	if err := dev.Check(b); err != nil {
		return bufErr(loss, arg, err)
	}
	if b.DType() != dt {
		return argErr(loss, arg, "dtype is %s, want %s", b.DType(), dt)
	}
	if b.Len() < n {
		return argErr(loss, arg, "buffer has %d elements, want at least %d", b.Len(), n)
	}
	return nil
}

// floatType refuses a dtype that is not a float type dev computes in:
// float32 everywhere, float64 on devices that have it (the host).
func floatType(loss, arg string, dev device.Device, ft device.DType) error {
	if !ft.IsFloat() {
		return argErr(loss, arg, "dtype is %s, want a float type", ft)
	}
	if ft == device.Float64 && !dev.Info().Float64 {
		return argErr(loss, arg, "float64 is not supported on device %s (use float32, or the host device)", dev.Info().Name)
	}
	return nil
}

func floatDType[T Float]() device.DType {
	var z T
	if _, ok := any(z).(float64); ok {
		return device.Float64
	}
	return device.Float32
}

// staged holds the device buffers of a slice-form call.
type staged struct {
	dev   device.Device
	owned []device.Buffer
}

// in returns a device buffer holding s: the slice itself on the host
// device, else a new buffer with a copy.
func (s *staged) in(loss, arg string, v any) (device.Buffer, error) {
	if hd, ok := s.dev.(*host.Device); ok && hd == host.Default() {
		return host.Wrap(v)
	}
	dt, n, err := device.Elems(v)
	if err != nil {
		return nil, argErr(loss, arg, "%v", err)
	}
	b, err := s.dev.Alloc(dt, n)
	if err != nil {
		return nil, fmt.Errorf("losses: %s: %s: %w", loss, arg, err)
	}
	s.owned = append(s.owned, b)
	if n > 0 {
		if err := s.dev.Write(b, v); err != nil {
			return nil, fmt.Errorf("losses: %s: %s: %w", loss, arg, err)
		}
	}
	return b, nil
}

// out returns a device buffer for an output slice (see in).
func (s *staged) out(loss, arg string, v any) (device.Buffer, error) {
	if hd, ok := s.dev.(*host.Device); ok && hd == host.Default() {
		return host.Wrap(v)
	}
	dt, n, err := device.Elems(v)
	if err != nil {
		return nil, argErr(loss, arg, "%v", err)
	}
	b, err := s.dev.Alloc(dt, n)
	if err != nil {
		return nil, fmt.Errorf("losses: %s: %s: %w", loss, arg, err)
	}
	s.owned = append(s.owned, b)
	return b, nil
}

// read copies b into v unless b wraps v (host device).
func (s *staged) read(v any, b device.Buffer) error {
	if b == nil {
		return nil
	}
	if _, ok := b.(*host.Buffer); ok {
		return nil
	}
	if _, n, _ := device.Elems(v); n == 0 {
		return nil
	}
	return s.dev.Read(v, b)
}

func (s *staged) release() {
	for _, b := range s.owned {
		b.Release()
	}
}

// hasNaN reports whether the first n elements of b contain NaN, using the
// count_nan kernel.
func hasNaN(dev device.Device, b device.Buffer, n int) (bool, error) {
	return anyCounted(dev, n, func(g device.Grid, counts device.Buffer) error {
		return dev.Launch("count_nan", g, b, int32(n), counts)
	})
}

// anyCounted runs a counting kernel (count_nan, count_invalid: one int32
// count per block of partialGrid(n)) through launch and reports whether
// any count is not 0. It reads the counts back: one wait for the device.
func anyCounted(dev device.Device, n int, launch func(g device.Grid, counts device.Buffer) error) (bool, error) {
	if n == 0 {
		return false, nil
	}
	g := partialGrid(n)
	counts, err := pool.get(dev, device.Int32, g.Blocks)
	if err != nil {
		return false, err
	}
	defer pool.put(counts)
	if err := launch(g, counts); err != nil {
		return false, err
	}
	c := make([]int32, counts.Len())
	if err := dev.Read(c, counts); err != nil {
		return false, err
	}
	for _, v := range c[:g.Blocks] {
		if v != 0 {
			return true, nil
		}
	}
	return false, nil
}

// checkNaN applies a NaN policy to a float buffer.
func checkNaN(loss, arg string, dev device.Device, p NaNPolicy, b device.Buffer, n int) error {
	switch p {
	case NaNPropagate:
		return nil
	case NaNError:
		nan, err := hasNaN(dev, b, n)
		if err != nil {
			return err
		}
		if nan {
			return argErr(loss, arg, "contains NaN (NaN policy is NaNError)")
		}
		return nil
	}
	return argErr(loss, "nan_policy", "unknown NaN policy %d", int(p))
}

// maxInt32 bounds every size passed to a kernel.
const maxInt32 = 1<<31 - 1

func checkSize(loss, arg string, v int) error {
	if v < 0 {
		return argErr(loss, arg, "must be non-negative, got %d", v)
	}
	if v > maxInt32 {
		return argErr(loss, arg, "%d exceeds the int32 range of the kernels", v)
	}
	return nil
}

// launchArgs caches the boxed scalar arguments of a kernel by their
// unboxed values (a comparable struct K holding no buffers): boxing an
// int32 or a float64 into an interface allocates, and a training loop
// launches the same scalars every step. A cached list holds nil where a
// buffer goes; launch fills those slots in a pooled copy and clears it
// after the launch, so the cache never keeps a caller's buffer reachable.
// It holds at most 64 lists and starts afresh when full.
type launchArgs[K comparable] struct {
	mu sync.Mutex
	m  map[K][]any
}

func (c *launchArgs[K]) get(k K, build func() []any) []any {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := c.m[k]; ok {
		return a
	}
	if c.m == nil || len(c.m) >= 64 {
		c.m = make(map[K][]any, 64)
	}
	a := build()
	c.m[k] = a
	return a
}

// argLists pools the argument lists that launch fills.
var argLists = sync.Pool{New: func() any { return new([]any) }}

// launch runs kernel name on g with the scalars of tmpl (from launchArgs)
// and bufs in tmpl's nil slots, in order.
func launch(dev device.Device, name string, g device.Grid, tmpl []any, bufs ...device.Buffer) error {
	p := argLists.Get().(*[]any)
	a := append((*p)[:0], tmpl...)
	j := 0
	for i, v := range a {
		if v == nil && j < len(bufs) {
			a[i] = bufs[j]
			j++
		}
	}
	err := dev.Launch(name, g, a...)
	clear(a)
	*p = a[:0]
	argLists.Put(p)
	return err
}

// callBufs are one call's temporary buffers of the float type ft: get
// takes them from the scratch pool (a buffer may be longer than asked),
// exact allocates exactly n elements outside it (collectives need the
// agreed length; large tiles are not kept between calls); release, which
// the call defers, returns the pooled ones and frees the others.
type callBufs struct {
	dev           device.Device
	ft            device.DType
	pooled, owned []device.Buffer
}

func (c *callBufs) get(n int) (device.Buffer, error) { return c.getOf(c.ft, n) }

// getOf is get for another dtype (an int32 stand-in argument).
func (c *callBufs) getOf(dt device.DType, n int) (device.Buffer, error) {
	b, err := pool.get(c.dev, dt, n)
	if err == nil {
		c.pooled = append(c.pooled, b)
	}
	return b, err
}

func (c *callBufs) exact(n int) (device.Buffer, error) {
	b, err := c.dev.Alloc(c.ft, n)
	if err == nil {
		c.owned = append(c.owned, b)
	}
	return b, err
}

// free releases exact buffers before the call ends (per-tile buffers).
func (c *callBufs) free(bs ...device.Buffer) {
	for _, b := range bs {
		if i := slices.Index(c.owned, b); i >= 0 {
			c.owned = slices.Delete(c.owned, i, i+1)
			b.Release()
		}
	}
}

func (c *callBufs) release() {
	pool.put(c.pooled...)
	for _, b := range c.owned {
		b.Release()
	}
	c.pooled, c.owned = nil, nil
}
