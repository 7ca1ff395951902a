package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lossengine/lossengine/losses"
)

// lossInfo is one declared loss as "lossbench losses -json" writes it.
type lossInfo struct {
	Name     string   `json:"name"`
	Func     string   `json:"func"`
	Inputs   []string `json:"inputs"`
	Optional []string `json:"optional"`
	Options  []string `json:"options"`
	Grads    []string `json:"grads"`
	Outputs  []string `json:"outputs"`
	Kernels  []string `json:"kernels"`
}

func declInfo(d *losses.Decl) lossInfo {
	req, opt := d.Inputs()
	li := lossInfo{Name: d.Name, Func: "losses." + d.Func, Inputs: req, Optional: opt, Options: d.OptionNames(),
		Kernels: d.Kernels}
	for _, p := range d.Params {
		switch p.Role {
		case losses.Grad:
			li.Grads = append(li.Grads, p.GradOf)
		case losses.Out:
			li.Outputs = append(li.Outputs, p.Name)
		}
	}
	return li
}

func cmdLosses(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lossbench losses", flag.ContinueOnError)
	fs.SetOutput(flagOutput(args, stdout, stderr))
	asJSON := fs.Bool("json", false, "write the declarations as a JSON array")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var infos []lossInfo
	for _, d := range losses.Declarations() {
		infos = append(infos, declInfo(d))
	}
	if *asJSON {
		b, err := json.MarshalIndent(infos, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	for _, li := range infos {
		in := strings.Join(li.Inputs, ", ")
		if len(li.Optional) > 0 {
			in += " [" + strings.Join(li.Optional, ", ") + "]"
		}
		fmt.Fprintf(stdout, "%-34s %s(%s)\n", li.Name, li.Func, in)
		fmt.Fprintf(stdout, "%-34s   options: %s; grads: %s; outputs: %s\n", "", orNone(li.Options), orNone(li.Grads), orNone(li.Outputs))
	}
	return 0
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
