package host

// The amd64 assembly files (pw_amd64.s, pw512_amd64.s, ctc_amd64.s,
// clip_amd64.s) are written by the generator in internal/asmgen, a module
// of its own so that this one does not depend on avo; TestAsmgenFresh
// fails when they differ from its output.
//
//go:generate go run -C ../internal/asmgen . -out ../../host
