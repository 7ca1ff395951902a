// Package readmetest checks the Go code of the repository's READMEs: every
// ```go block of README.md and cmd/lossbench/README.md must be a complete
// program (package main), which its test builds against this checkout and
// runs on the host device. The package has no code of its own.
package readmetest
