// Command asmgen writes the amd64 assembly of package host with avo:
// pw_amd64.s (the pointwise loops, 8 lanes, AVX2 and FMA3), pw512_amd64.s
// (the same loops with 16 lanes, AVX-512F), ctc_amd64.s (the CTC
// recursion and the float32 row loops, AVX2) and clip_amd64.s (sums of
// squares). Each loop that exists in both widths is one Go function of a
// vec (vec.go), which picks the instructions of the width; exp, log and
// the logistic are written once for both.
//
// The registers are the physical ones the hand-written files used, so the
// output is the same machine code. The constant table's names and order
// are in consts.go (the values are in host/pw_vec.go); the CTC constants
// are static data, in ctc.go.
//
// Usage, from this directory:
//
//	go run . -out ../../host
//
// go generate ./host runs it; host's TestAsmgenFresh fails when the
// committed files differ from its output.
package main
