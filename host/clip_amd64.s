//go:build amd64 && !purego

#include "textflag.h"

// func clipSumSqAVX2(x *float32, n int, out *[2]float64)
//
// out[0] = Σ x[i]² and out[1] = max x[i]² over i < n (n a multiple of 8),
// in float64: each float32 widened, squared (exact) and added in 16 lanes
// (four vectors of 4), the vectors then the lanes added pairwise. The clip family's
// host mirror (host/clip.go) uses it for p = 2.
TEXT ·clipSumSqAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ out+16(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9

	// 16 floats a step: four independent sums (Y0-Y3) and maxima (Y6-Y9),
	// so that the adds' latency does not bound the loop.
loop16:
	CMPQ CX, $16
	JLT  loop8
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y10
	VCVTPS2PD 48(SI), Y11
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VMULPD    Y10, Y10, Y10
	VMULPD    Y11, Y11, Y11
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y10, Y2, Y2
	VADDPD    Y11, Y3, Y3
	VMAXPD    Y4, Y6, Y6
	VMAXPD    Y5, Y7, Y7
	VMAXPD    Y10, Y8, Y8
	VMAXPD    Y11, Y9, Y9
	ADDQ      $64, SI
	SUBQ      $16, CX
	JMP       loop16

loop8:
	CMPQ CX, $8
	JLT  done
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VMAXPD    Y4, Y6, Y6
	VMAXPD    Y5, Y7, Y7
	ADDQ      $32, SI
	SUBQ      $8, CX
	JMP       loop8

done:
	VADDPD       Y2, Y0, Y0
	VADDPD       Y3, Y1, Y1
	VMAXPD       Y8, Y6, Y6
	VMAXPD       Y9, Y7, Y7
	VADDPD       Y1, Y0, Y0
	VMAXPD       Y7, Y6, Y2
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

// func clipSumSqBlocksAVX2(x *float32, nblocks int, out *float64)
//
// For each run k < nblocks of 256 floats of x, out[2k] = Σ x[i]² and
// out[2k+1] = max x[i]² over the run, each computed exactly as
// clipSumSqAVX2 computes them for a run of 256 (the same lanes, the same
// order), so a buffer's runs cost one call.
TEXT ·clipSumSqBlocksAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ nblocks+8(FP), DX
	MOVQ out+16(FP), DI

block:
	CMPQ   DX, $0
	JLE    end
	MOVQ   $256, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9

run16:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y10
	VCVTPS2PD 48(SI), Y11
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VMULPD    Y10, Y10, Y10
	VMULPD    Y11, Y11, Y11
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y10, Y2, Y2
	VADDPD    Y11, Y3, Y3
	VMAXPD    Y4, Y6, Y6
	VMAXPD    Y5, Y7, Y7
	VMAXPD    Y10, Y8, Y8
	VMAXPD    Y11, Y9, Y9
	ADDQ      $64, SI
	SUBQ      $16, CX
	JNZ       run16

	VADDPD       Y2, Y0, Y0
	VADDPD       Y3, Y1, Y1
	VMAXPD       Y8, Y6, Y6
	VMAXPD       Y9, Y7, Y7
	VADDPD       Y1, Y0, Y0
	VMAXPD       Y7, Y6, Y2
	VEXTRACTF128 $1, Y0, X4
	VADDPD       X4, X0, X0
	VHADDPD      X0, X0, X0
	VEXTRACTF128 $1, Y2, X5
	VMAXPD       X5, X2, X2
	VPERMILPD    $1, X2, X5
	VMAXPD       X5, X2, X2
	VMOVSD       X0, (DI)
	VMOVSD       X2, 8(DI)
	ADDQ         $16, DI
	DECQ         DX
	JMP          block

end:
	VZEROUPPER
	RET
