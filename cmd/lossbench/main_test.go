package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestUsage: help goes to stdout with status 0; a bad flag, subcommand or
// device name is a usage error (status 2) explained on stderr; version
// names the command and the Go toolchain.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args        []string
		code        int
		out, errOut string // substrings expected on stdout and stderr ("" = must be empty)
	}{
		{[]string{"-h"}, 0, "Usage: lossbench [flags]", ""},
		{[]string{"help"}, 0, "lossbench version", ""},
		{[]string{"eval", "-h"}, 0, "Usage: lossbench eval", ""},
		{[]string{"devices", "-help"}, 0, "-json", ""},
		{[]string{"losses", "-h"}, 0, "-json", ""},
		{[]string{"version"}, 0, "lossbench ", ""},
		{[]string{"-bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"frobnicate"}, 2, "", "unexpected arguments"},
		{[]string{"-device", "quantum", "-loss", "mse_loss", "-shape", "8", "-iters", "1"}, 2, "", "unknown device name"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, strings.NewReader(""), &out, &errb)
		if code != c.code {
			t.Errorf("%v: status %d, want %d (stderr %q)", c.args, code, c.code, errb.String())
		}
		for _, p := range []struct {
			name, want, got string
		}{{"stdout", c.out, out.String()}, {"stderr", c.errOut, errb.String()}} {
			if p.want == "" && p.got != "" {
				t.Errorf("%v: %s should be empty, got %q", c.args, p.name, clipStr(p.got))
			} else if !strings.Contains(p.got, p.want) {
				t.Errorf("%v: %s %q lacks %q", c.args, p.name, clipStr(p.got), p.want)
			}
		}
	}
}

func clipStr(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
