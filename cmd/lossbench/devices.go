package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/lossengine/lossengine/device"
)

type deviceRow struct {
	Backend  string       `json:"backend"`
	Compiled bool         `json:"compiled"`
	Tag      string       `json:"tag,omitempty"`
	Devices  []deviceInfo `json:"devices"`
	Error    string       `json:"error,omitempty"` // why no device is present
}

// deviceInfo is device.Info with JSON names.
type deviceInfo struct {
	Name         string `json:"name"`
	Backend      string `json:"backend"`
	Description  string `json:"description"`
	Kind         string `json:"kind"`
	Memory       int64  `json:"memory_bytes"`
	ComputeUnits int    `json:"compute_units"`
	Float64      bool   `json:"float64"`
}

func cmdDevices(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lossbench devices", flag.ContinueOnError)
	fs.SetOutput(flagOutput(args, stdout, stderr))
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lossbench devices: unexpected arguments %q\n", fs.Args())
		return 2
	}
	var rows []deviceRow
	for _, st := range device.List() {
		r := deviceRow{Backend: st.Name, Compiled: st.Compiled, Tag: st.Tag, Devices: []deviceInfo{}}
		for _, in := range st.Devices {
			r.Devices = append(r.Devices, deviceInfo{Name: in.Name, Backend: in.Backend, Description: in.Description,
				Kind: string(in.Kind), Memory: in.Memory, ComputeUnits: in.ComputeUnit, Float64: in.Float64})
		}
		if st.Err != nil {
			r.Error = st.Err.Error()
		}
		rows = append(rows, r)
	}
	if *asJSON {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "lossbench devices: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	for _, r := range rows {
		compiled := "compiled in"
		if !r.Compiled {
			compiled = "not compiled in"
		}
		if r.Tag != "" {
			compiled += fmt.Sprintf(" (build tag %q)", r.Tag)
		}
		fmt.Fprintf(stdout, "%s: %s\n", r.Backend, compiled)
		for _, in := range r.Devices {
			mem := "unknown"
			if in.Memory > 0 {
				mem = fmt.Sprintf("%.1f GiB", float64(in.Memory)/(1<<30))
			}
			fmt.Fprintf(stdout, "  %-10s %s\n", in.Name, in.Description)
			fmt.Fprintf(stdout, "             backend %s, kind %s, memory %s, compute units %d, float64 %v\n",
				in.Backend, in.Kind, mem, in.ComputeUnits, in.Float64)
		}
		if len(r.Devices) == 0 {
			reason := r.Error
			if reason == "" {
				reason = "no device present"
			}
			fmt.Fprintf(stdout, "  no device: %s\n", reason)
		} else if r.Error != "" {
			fmt.Fprintf(stdout, "  warning: %s\n", r.Error)
		}
	}
	return 0
}
