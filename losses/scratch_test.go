package losses

import (
	"errors"
	"testing"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/host"
)

// TestScratchPolicy: the pool keeps at most 16 buffers per device and
// dtype, ScratchKeepBytes in all, and Trim and Close release them all.
func TestScratchPolicy(t *testing.T) {
	dev := host.Default()
	Trim(dev)
	big, err := dev.Alloc(device.Float32, ScratchKeepBytes/4+1)
	if err != nil {
		t.Fatal(err)
	}
	pool.put(big)
	if s := ScratchBytes(dev); s != 0 {
		t.Errorf("a buffer over ScratchKeepBytes was pooled: %d bytes", s)
	}
	if err := dev.Check(big); !errors.Is(err, device.ErrReleased) {
		t.Errorf("a buffer over ScratchKeepBytes was not released: Check gives %v", err)
	}
	var small []device.Buffer
	for range 20 {
		b, err := dev.Alloc(device.Float64, 10)
		if err != nil {
			t.Fatal(err)
		}
		small = append(small, b)
	}
	pool.put(small...)
	if s := ScratchBytes(dev); s != 16*80 {
		t.Errorf("pooled %d bytes, want 16 buffers of 80", s)
	}
	got, err := pool.get(dev, device.Float64, 5)
	if err != nil || got.Len() != 10 {
		t.Fatalf("get: %v, %v", got, err)
	}
	if s := ScratchBytes(dev); s != 15*80 {
		t.Errorf("after a get, pooled %d bytes, want 15 buffers of 80", s)
	}
	pool.put(got)
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if s := ScratchBytes(dev); s != 0 {
		t.Errorf("after Close, %d bytes pooled", s)
	}
	released := 0
	for _, b := range small {
		if errors.Is(dev.Check(b), device.ErrReleased) {
			released++
		}
	}
	if released != 20 {
		t.Errorf("%d of 20 buffers released by the pool and Close, want all", released)
	}
}
