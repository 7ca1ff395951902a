package main

import (
	"fmt"

	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// constNames are the entries of the constant table pwConst (host/pw_vec.go),
// in its order: entry i is one float32 (or int32) value in 8 lanes at byte
// 32·i from the table's base, which the loops hold in R12. The values
// themselves, the polynomial coefficients among them, live in the table
// next to the scalar code that uses the same ones; TestConstNames checks
// that the two lists agree.
var constNames = []string{
	"ONE", "HALF", "ABS", "SIGN",
	"LOG2E", "EXPC1", "EXPC2", "EP0", "EP1", "EP2", "EP3", "EP4", "EP5",
	"EXPLO", "EXPCLO", "EXPCHI", "I127",
	"FLTMIN", "TWO23", "F23", "I126", "MANT", "SQRTHF",
	"LP0", "LP1", "LP2", "LP3", "LP4", "LP5", "LP6", "LP7", "LP8",
	"INF", "NINF", "TWO", "LN2", "HUNDRED", "M100", "TINY", "KNEE", "LOG2PI",
	"A15", "A13", "A11", "A9", "A7", "A5", "A3", "SQRT2",
	"TH0", "TH1", "TH2", "TH3", "TH4", "TH5",
}

// constMem is the memory operand of the table entry name.
func constMem(name string) operand.Mem {
	for i, n := range constNames {
		if n == name {
			return operand.Mem{Base: reg.R12, Disp: 32 * i}
		}
	}
	panic(fmt.Sprintf("asmgen: no constant %q", name))
}
