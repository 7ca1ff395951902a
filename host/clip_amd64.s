//go:build amd64 && !purego

#include "textflag.h"

// func clipSumSqAVX2(x *float32, n int, out *[2]float64)
//
// out[0] = Σ x[i]² and out[1] = max x[i]² over i < n (n a multiple of 8),
// in float64: each float32 widened, squared (exact) and added in 8 lanes
// (two vectors of 4), the lanes then added pairwise. The clip family's
// host mirror (host/clip.go) uses it for p = 2.
TEXT ·clipSumSqAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

loop:
	CMPQ CX, $8
	JLT  done
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VMAXPD    Y4, Y2, Y2
	VMAXPD    Y5, Y3, Y3
	ADDQ      $32, SI
	SUBQ      $8, CX
	JMP       loop

done:
	VADDPD       Y1, Y0, Y0
	VMAXPD       Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X4
	VADDPD       X4, X0, X0
	VHADDPD      X0, X0, X0
	VEXTRACTF128 $1, Y2, X5
	VMAXPD       X5, X2, X2
	VPERMILPD    $1, X2, X5
	VMAXPD       X5, X2, X2
	VMOVSD       X0, (DI)
	VMOVSD       X2, 8(DI)
	VZEROUPPER
	RET
