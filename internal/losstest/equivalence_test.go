package losstest

import (
	"testing"

	"github.com/lossengine/lossengine/device"
	_ "github.com/lossengine/lossengine/losses"
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
	}
}
