//go:build amd64 && !purego

// AVX2/FMA3 loops of pointwise_loss's float32 mirror, for chunks without
// weight or mask: each reads 8 elements of x, y (and a) per step and
// writes the loss and the gradients (times gs), computing what
// pointwiseOp computes for the op. exp and log are Cephes-style
// polynomials (about 1 ulp), as expf is.
//
// Operand order is Go's: the destination is last, and for
// VCMPPS/VMINPS/VMAXPS/VBLENDVPS the first operand is Intel's last source
// (the one MINPS/MAXPS return when either is NaN).

#include "textflag.h"
#include "pw_amd64.h"

// PWARGS loads the argument block at BX: SI = x, DI = y, DX = a, R8 = gx,
// R9 = gy, R10 = ga, R11 = l, R12 = the constant table, CX = n in bytes,
// R13 = f; Y15 = gs, Y14 = p0, Y13 = p1, Y12 = p2; AX = 0.
#define PWARGS \
	MOVQ 0(BX), SI; MOVQ 8(BX), DI; MOVQ 16(BX), DX; MOVQ 24(BX), R8; \
	MOVQ 32(BX), R9; MOVQ 40(BX), R10; MOVQ 48(BX), R11; MOVQ 56(BX), R12; \
	MOVQ 64(BX), CX; SHLQ $2, CX; MOVQ 88(BX), R13; \
	VBROADCASTSS 72(BX), Y15; VBROADCASTSS 76(BX), Y14; \
	VBROADCASTSS 80(BX), Y13; VBROADCASTSS 84(BX), Y12; \
	XORQ AX, AX

// LOADXY loads x into Y0 and y into Y1.
#define LOADXY VMOVUPS (SI)(AX*1), Y0; VMOVUPS (DI)(AX*1), Y1

// STORE3 stores the loss, gx and gy, and adds the loss to the lanes of ACC.
#define STORE3(L, GX, GY, ACC) \
	VMOVUPS L, (R11)(AX*1); VMOVUPS GX, (R8)(AX*1); VMOVUPS GY, (R9)(AX*1); VADDPS L, ACC, ACC

// SUMOUT writes the sum of the 8 lanes of Y0 to the sum field of the
// argument block (BX), in float64 and a fixed order: lanes j and j+4, then
// (0+2)+(1+3) as pairs.
#define SUMOUT \
	VCVTPS2PD X0, Y1; VEXTRACTF128 $1, Y0, X2; VCVTPS2PD X2, Y2; VADDPD Y2, Y1, Y1; \
	VEXTRACTF128 $1, Y1, X2; VADDPD X2, X1, X1; VHADDPD X1, X1, X1; VMOVSD X1, 96(BX)

// BEGIN loads the argument block (PWARGS) and clears the loss lanes ACC;
// LOOP opens the loop over 8-element steps with x, y loaded (LOADXY); END
// closes it and writes the sum of ACC's lanes (SUMOUT).
#define BEGIN(ACC) PWARGS; VXORPS ACC, ACC, ACC
#define LOOP loop: CMPQ AX, CX; JAE done; LOADXY
#define END(ACC) ADDQ $32, AX; JMP loop; done: VMOVUPS ACC, Y0; SUMOUT; VZEROUPPER; RET

// SCALE2 multiplies two gradients by gs.
#define SCALE2(A, B) VMULPS Y15, A, A; VMULPS Y15, B, B

// SIGNPS: S = sign(D): −1, 0 or 1, NaN for NaN (sign32). T is clobbered.
#define SIGNPS(D, S, T) \
	VANDPS SIGN, D, S; VORPS ONE, S, S; \
	VXORPS T, T, T; VCMPPS $4, T, D, T; VANDPS T, S, S; \
	VCMPPS $3, D, D, T; VORPS T, S, S

// STEPPS: S = 1 for H > 0, 0 for H <= 0, NaN for NaN (step32); Z = 0.
#define STEPPS(H, S, Z, T) \
	VXORPS Z, Z, Z; VCMPPS $14, Z, H, S; VANDPS ONE, S, S; \
	VCMPPS $3, H, H, T; VORPS T, S, S

// EXPPS: X = exp(X) as expf: 0 for X <= −87.33654, +Inf above 88.72,
// NaN for NaN. K, R, T, M are clobbered. n = round(x·log2 e), r = x − n·ln 2
// in two parts, e^r by Cephes' polynomial, and 2^n applied in two halves.
#define EXPPS(X, K, R, T, M) \
	VMOVUPS EXPCHI, T; VMINPS X, T, X; \
	VCMPPS $6, EXPLO, X, M; \
	VMOVUPS EXPCLO, T; VMAXPS X, T, R; \
	VMULPS LOG2E, R, K; VROUNDPS $0, K, K; \
	VFNMADD231PS EXPC1, K, R; VFNMADD231PS EXPC2, K, R; \
	VMOVUPS EP0, T; \
	VFMADD213PS EP1, R, T; VFMADD213PS EP2, R, T; VFMADD213PS EP3, R, T; \
	VFMADD213PS EP4, R, T; VFMADD213PS EP5, R, T; \
	VMULPS R, R, X; VFMADD213PS R, X, T; VADDPS ONE, T, T; \
	VCVTPS2DQ K, K; VPSRAD $1, K, R; VPSUBD R, K, K; \
	VPADDD I127, R, R; VPSLLD $23, R, R; VPADDD I127, K, K; VPSLLD $23, K, K; \
	VMULPS R, T, T; VMULPS K, T, T; \
	VANDPS M, T, X

// LOGPS: X = log(X): −Inf for ±0, NaN below 0 and for NaN, +Inf for
// +Inf, subnormals scaled by 2^23 first. E, M, T, U are clobbered.
// x = m·2^e with m in [√½, √2), log x = e·ln 2 + log m, log m by Cephes'
// polynomial in m − 1.
#define LOGPS(X, E, M, T, U) \
	VCMPPS $1, FLTMIN, X, T; VMULPS TWO23, X, M; VBLENDVPS T, M, X, M; \
	VANDPS F23, T, E; \
	VPSRLD $23, M, U; VPSUBD I126, U, U; VCVTDQ2PS U, U; VSUBPS E, U, E; \
	VANDPS MANT, M, M; VORPS HALF, M, M; \
	VCMPPS $1, SQRTHF, M, T; VANDPS ONE, T, U; VSUBPS U, E, E; \
	VANDPS M, T, U; VADDPS U, M, M; VSUBPS ONE, M, M; \
	VMULPS M, M, U; \
	VMOVUPS LP0, T; \
	VFMADD213PS LP1, M, T; VFMADD213PS LP2, M, T; VFMADD213PS LP3, M, T; \
	VFMADD213PS LP4, M, T; VFMADD213PS LP5, M, T; VFMADD213PS LP6, M, T; \
	VFMADD213PS LP7, M, T; VFMADD213PS LP8, M, T; \
	VMULPS M, T, T; VMULPS U, T, T; \
	VFMADD231PS EXPC2, E, T; VFNMADD231PS HALF, U, T; VADDPS M, T, T; \
	VFMADD231PS EXPC1, E, T; \
	VCMPPS $5, INF, X, U; VBLENDVPS U, X, T, T; \
	VXORPS U, U, U; VCMPPS $0, U, X, M; VBLENDVPS M, NINF, T, T; \
	VCMPPS $1, U, X, M; VORPS M, T, X

// ATANH2PS: OUT = 2·atanh(S) = log((1 + S)/(1 − S)) for S in [0, 1/3]
// (atanh2Unit32), by the odd series to S^15. S2 and P are clobbered; OUT
// may be S.
#define ATANH2PS(S, S2, P, OUT) \
	VMULPS S, S, S2; \
	VMOVUPS A15, P; \
	VFMADD213PS A13, S2, P; VFMADD213PS A11, S2, P; VFMADD213PS A9, S2, P; \
	VFMADD213PS A7, S2, P; VFMADD213PS A5, S2, P; VFMADD213PS A3, S2, P; \
	VMULPS S2, P, P; VFMADD213PS S, S, P; VADDPS P, P, OUT

// LOGISTIC: from E = exp(−|X|), L = log1p(E), P = sigmoid(X) and PN =
// sigmoid(−X) (logistic32): R = 1/(1 + E) for the one on X's side (X >= 0:
// P), E·R for the other, so that neither is 1 − sigmoid; L = 2·atanh(s),
// s = E/(2 + E). X is kept; T1..T4 are clobbered.
#define LOGISTIC(X, L, P, PN, E, T1, T2, T3, T4) \
	VORPS SIGN, X, E; EXPPS(E, T1, T2, T3, T4); \
	VADDPS TWO, E, T1; VDIVPS T1, E, T1; ATANH2PS(T1, T3, T4, L); \
	VADDPS ONE, E, T1; VMOVUPS ONE, T2; VDIVPS T1, T2, T2; VMULPS T2, E, T3; \
	VXORPS T1, T1, T1; VCMPPS $13, T1, X, T4; \
	VBLENDVPS T4, T2, T3, P; VBLENDVPS T4, T3, T2, PN

// func exp32AVX2(a *pwArgs): l = exp(x).
TEXT ·exp32AVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	PWARGS
loop:
	CMPQ AX, CX
	JAE  done
	VMOVUPS (SI)(AX*1), Y0
	EXPPS(Y0, Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (R11)(AX*1)
	ADDQ $32, AX
	JMP  loop
done:
	VZEROUPPER
	RET

// func log32AVX2(a *pwArgs): l = log(x).
TEXT ·log32AVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	PWARGS
loop:
	CMPQ AX, CX
	JAE  done
	VMOVUPS (SI)(AX*1), Y0
	LOGPS(Y0, Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (R11)(AX*1)
	ADDQ $32, AX
	JMP  loop
done:
	VZEROUPPER
	RET

// func pwMSEAVX2(a *pwArgs): d², 2gs·d, −2gs·d.
TEXT ·pwMSEAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VADDPS Y15, Y15, Y11
LOOP
	VSUBPS Y1, Y0, Y2
	VMULPS Y2, Y2, Y3
	VMULPS Y11, Y2, Y4
	VXORPS SIGN, Y4, Y5
	STORE3(Y3, Y4, Y5, Y12)
	END(Y12)

// func pwL1AVX2(a *pwArgs): |d|, gs·sign(d), −gs·sign(d).
TEXT ·pwL1AVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VSUBPS Y1, Y0, Y2
	VANDPS ABS, Y2, Y3
	SIGNPS(Y2, Y4, Y5)
	VMULPS Y15, Y4, Y4
	VXORPS SIGN, Y4, Y5
	STORE3(Y3, Y4, Y5, Y12)
	END(Y12)

// func pwHuberAVX2(a *pwArgs): p0 = δ; c = min(|d|, δ):
// ½c² + δ(|d| − c), gs·clamp(d, −δ, δ).
TEXT ·pwHuberAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VXORPS SIGN, Y14, Y11
LOOP
	VSUBPS Y1, Y0, Y2
	VANDPS ABS, Y2, Y3
	VMINPS Y3, Y14, Y4
	VMULPS HALF, Y4, Y5
	VMULPS Y4, Y5, Y5
	VSUBPS Y4, Y3, Y6
	VFMADD231PS Y6, Y14, Y5
	VMAXPS Y2, Y11, Y7
	VMINPS Y7, Y14, Y7
	VMULPS Y15, Y7, Y7
	VXORPS SIGN, Y7, Y8
	STORE3(Y5, Y7, Y8, Y12)
	END(Y12)

// func pwSmoothL1AVX2(a *pwArgs): p0 = β > 0, p1 = gs/β; c = min(|d|, β):
// ½c²/β + (|d| − c), (gs/β)·clamp(d, −β, β).
TEXT ·pwSmoothL1AVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VXORPS SIGN, Y14, Y11
LOOP
	VSUBPS Y1, Y0, Y2
	VANDPS ABS, Y2, Y3
	VMINPS Y3, Y14, Y4
	VMULPS HALF, Y4, Y5
	VMULPS Y4, Y5, Y5
	VDIVPS Y14, Y5, Y5
	VSUBPS Y4, Y3, Y6
	VADDPS Y6, Y5, Y5
	VMAXPS Y2, Y11, Y7
	VMINPS Y7, Y14, Y7
	VMULPS Y13, Y7, Y7
	VXORPS SIGN, Y7, Y8
	STORE3(Y5, Y7, Y8, Y12)
	END(Y12)

// func pwHingeAVX2(a *pwArgs): h = 1 − yx: max(h, 0), −gs·y·step(h), 0.
TEXT ·pwHingeAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VXORPS SIGN, Y15, Y11
LOOP
	VMULPS Y0, Y1, Y2
	VMOVUPS ONE, Y3
	VSUBPS Y2, Y3, Y2
	STEPPS(Y2, Y5, Y4, Y6)
	VMAXPS Y2, Y4, Y3
	VMULPS Y1, Y11, Y6
	VMULPS Y5, Y6, Y6
	STORE3(Y3, Y6, Y4, Y12)
	END(Y12)

// func pwSquaredHingeAVX2(a *pwArgs): h = max(1 − yx, 0): h², −2gs·y·h, 0.
TEXT ·pwSquaredHingeAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VADDPS Y15, Y15, Y11
	VXORPS SIGN, Y11, Y11
LOOP
	VMULPS Y0, Y1, Y2
	VMOVUPS ONE, Y3
	VSUBPS Y2, Y3, Y2
	VXORPS Y4, Y4, Y4
	VMAXPS Y2, Y4, Y3
	VMULPS Y3, Y3, Y5
	VMULPS Y1, Y11, Y6
	VMULPS Y3, Y6, Y6
	STORE3(Y5, Y6, Y4, Y12)
	END(Y12)

// func pwHingeEmbeddingAVX2(a *pwArgs): p0 = margin, h = margin − x:
// x and gs for y = 1; max(h, 0) and −gs·step(h) for y = −1; 0.
TEXT ·pwHingeEmbeddingAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	VXORPS SIGN, Y15, Y11
LOOP
	VSUBPS Y0, Y14, Y3
	STEPPS(Y3, Y8, Y4, Y9)
	VMAXPS Y3, Y4, Y5
	VMULPS Y11, Y8, Y8
	VCMPPS $14, Y4, Y1, Y2
	VBLENDVPS Y2, Y0, Y5, Y5
	VBLENDVPS Y2, Y15, Y8, Y8
	STORE3(Y5, Y8, Y4, Y12)
	END(Y12)

// func pwMAPEAVX2(a *pwArgs): p0 = ε, m = max(|y|, ε): 100|d|/m,
// 100·sign(d)/m, −100·sign(d)/m − [|y| > ε]·100|d|·sign(y)/m².
TEXT ·pwMAPEAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VSUBPS Y1, Y0, Y2
	VANDPS ABS, Y2, Y3
	SIGNPS(Y2, Y4, Y5)
	VANDPS ABS, Y1, Y5
	VMAXPS Y5, Y14, Y6
	VMULPS HUNDRED, Y3, Y7
	VDIVPS Y6, Y7, Y8
	VMULPS HUNDRED, Y4, Y9
	VDIVPS Y6, Y9, Y9
	VXORPS SIGN, Y9, Y10
	VANDPS SIGN, Y1, Y11
	VORPS ONE, Y11, Y11
	VMULPS Y11, Y7, Y7
	VMULPS Y6, Y6, Y11
	VDIVPS Y11, Y7, Y7
	VCMPPS $14, Y14, Y5, Y11
	VANDPS Y11, Y7, Y7
	VSUBPS Y7, Y10, Y10
	SCALE2(Y9, Y10)
	STORE3(Y8, Y9, Y10, Y12)
	END(Y12)

// func pwLogCoshAVX2(a *pwArgs): as logCosh32, z = |d|: below the knee
// w = tanh z by tanhSmall32's polynomial and log cosh = ½·2atanh(s),
// s = w²/(2 − w²); at and above it e = exp(−2z), w = (1 − e)/(1 + e) and
// log cosh = (z − ln 2) + 2atanh(s), s = e/(2 + e). gs·sign(d)·w and its
// negative.
TEXT ·pwLogCoshAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VSUBPS Y1, Y0, Y2
	VANDPS ABS, Y2, Y3
	VADDPS Y3, Y3, Y4
	VXORPS SIGN, Y4, Y4
	EXPPS(Y4, Y5, Y6, Y7, Y8)
	VMULPS Y3, Y3, Y5
	VMOVUPS TH5, Y6
	VFMADD213PS TH4, Y5, Y6
	VFMADD213PS TH3, Y5, Y6
	VFMADD213PS TH2, Y5, Y6
	VFMADD213PS TH1, Y5, Y6
	VFMADD213PS TH0, Y5, Y6
	VMULPS Y5, Y6, Y6
	VFMADD213PS Y3, Y3, Y6
	VMOVUPS ONE, Y7
	VSUBPS Y4, Y7, Y7
	VADDPS ONE, Y4, Y8
	VDIVPS Y8, Y7, Y7
	VCMPPS $1, KNEE, Y3, Y9
	VBLENDVPS Y9, Y6, Y7, Y6
	VMULPS Y6, Y6, Y5
	VBLENDVPS Y9, Y5, Y4, Y7
	VMOVUPS TWO, Y8
	VSUBPS Y5, Y8, Y8
	VADDPS TWO, Y4, Y10
	VBLENDVPS Y9, Y8, Y10, Y8
	VDIVPS Y8, Y7, Y7
	ATANH2PS(Y7, Y10, Y11, Y7)
	VMULPS HALF, Y7, Y10
	VSUBPS LN2, Y3, Y3
	VADDPS Y7, Y3, Y3
	VBLENDVPS Y9, Y10, Y3, Y3
	VANDPS SIGN, Y2, Y8
	VORPS Y8, Y6, Y6
	VMULPS Y15, Y6, Y6
	VXORPS SIGN, Y6, Y7
	STORE3(Y3, Y6, Y7, Y12)
	END(Y12)

// func pwSoftMarginAVX2(a *pwArgs): z = −yx: max(z, 0) + log1p(exp(−|z|)),
// −gs·y·sigmoid(z), 0.
TEXT ·pwSoftMarginAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMULPS Y0, Y1, Y2
	VXORPS SIGN, Y2, Y2
	LOGISTIC(Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10)
	VXORPS Y6, Y6, Y6
	VMAXPS Y2, Y6, Y7
	VADDPS Y7, Y3, Y3
	VXORPS SIGN, Y1, Y6
	VMULPS Y4, Y6, Y6
	VMULPS Y15, Y6, Y6
	VXORPS Y7, Y7, Y7
	STORE3(Y3, Y6, Y7, Y12)
	END(Y12)

// func pwBCEWithLogitsAVX2(a *pwArgs): a = pos_weight, w = 1 + (a − 1)y,
// L = log1p(exp(−|x|)), as opBCEWithLogits:
// (1 − y)·max(x, 0) − a·y·min(x, 0) + w·L, gs·((1 − y)·σ(x) − a·y·σ(−x)),
// gs·((a − 1)·L − max(x, 0) − a·min(x, 0)).
TEXT ·pwBCEWithLogitsAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMOVUPS (DX)(AX*1), Y2
	LOGISTIC(Y0, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10)
	VXORPS Y6, Y6, Y6
	VMAXPS Y0, Y6, Y7
	VMINPS Y0, Y6, Y8
	VSUBPS ONE, Y2, Y9
	VMULPS Y1, Y2, Y10
	VMOVUPS ONE, Y11
	VSUBPS Y1, Y11, Y11
	VMOVUPS ONE, Y6
	VFMADD231PS Y1, Y9, Y6
	VMULPS Y3, Y6, Y6
	VFMADD231PS Y7, Y11, Y6
	VFNMADD231PS Y8, Y10, Y6
	VMULPS Y11, Y4, Y4
	VFNMADD231PS Y5, Y10, Y4
	VMULPS Y9, Y3, Y3
	VSUBPS Y7, Y3, Y3
	VFNMADD231PS Y8, Y2, Y3
	SCALE2(Y4, Y3)
	STORE3(Y6, Y4, Y3, Y12)
	END(Y12)

// func pwSigmoidFocalAVX2(a *pwArgs): γ = 2; p0 = α, f = 1 where α >= 0,
// p2 = 2α − 1. As opSigmoidFocal: p = σ(x), pn = σ(−x), L = log1p(exp(−|x|)),
// ce = (1 − y)·max(x, 0) − y·min(x, 0) + L, q = (1 − y)p + y·pn:
// l0 = ce·q², gx = ((1 − y)p − y·pn)q² + 2ce·q(1 − 2y)·p·pn,
// gy = −xq² + 2ce·q(pn − p); with α: α_t = αy + (1 − α)(1 − y),
// α_t·l0, α_t·gx, α_t·gy + (2α − 1)·l0.
TEXT ·pwSigmoidFocalAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y13)
	LOOP
	LOGISTIC(Y0, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9)
	VXORPS Y5, Y5, Y5
	VMAXPS Y0, Y5, Y6
	VMINPS Y0, Y5, Y7
	VMOVUPS ONE, Y8
	VSUBPS Y1, Y8, Y8
	VFMADD231PS Y6, Y8, Y2
	VFNMADD231PS Y7, Y1, Y2
	VMULPS Y3, Y8, Y5
	VFMADD231PS Y4, Y1, Y5
	VMULPS Y3, Y8, Y6
	VFNMADD231PS Y4, Y1, Y6
	VMULPS Y5, Y5, Y7
	VADDPS Y5, Y5, Y8
	VMULPS Y7, Y2, Y9
	VMULPS Y8, Y2, Y10
	VMULPS Y4, Y3, Y11
	VADDPS Y1, Y1, Y5
	VMOVUPS ONE, Y8
	VSUBPS Y5, Y8, Y5
	VMULPS Y11, Y5, Y5
	VMULPS Y10, Y5, Y5
	VFMADD231PS Y7, Y6, Y5
	VSUBPS Y3, Y4, Y4
	VMULPS Y10, Y4, Y4
	VFNMADD231PS Y7, Y0, Y4
	TESTQ R13, R13
	JZ   scale
	VMOVUPS ONE, Y10
	VSUBPS Y14, Y10, Y11
	VSUBPS Y1, Y10, Y10
	VMULPS Y11, Y10, Y10
	VFMADD231PS Y1, Y14, Y10
	VMULPS Y10, Y4, Y4
	VFMADD231PS Y9, Y12, Y4
	VMULPS Y10, Y5, Y5
	VMULPS Y10, Y9, Y9
scale:
	SCALE2(Y5, Y4)
	STORE3(Y9, Y5, Y4, Y13)
	END(Y13)

// func pwMSLEAVX2(a *pwArgs): p0 = ε, e = log(max(x, ε) + 1) −
// log(max(y, ε) + 1): e², gs·[x > ε]·2e/(x + 1), −gs·[y > ε]·2e/(y + 1).
TEXT ·pwMSLEAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMAXPS Y0, Y14, Y2
	VADDPS ONE, Y2, Y2
	LOGPS(Y2, Y4, Y5, Y6, Y7)
	VMAXPS Y1, Y14, Y3
	VADDPS ONE, Y3, Y3
	LOGPS(Y3, Y4, Y5, Y6, Y7)
	VSUBPS Y3, Y2, Y2
	VMULPS Y2, Y2, Y3
	VADDPS Y2, Y2, Y4
	VADDPS ONE, Y0, Y5
	VDIVPS Y5, Y4, Y5
	VCMPPS $14, Y14, Y0, Y6
	VANDPS Y6, Y5, Y5
	VADDPS ONE, Y1, Y6
	VDIVPS Y6, Y4, Y6
	VXORPS SIGN, Y6, Y6
	VCMPPS $14, Y14, Y1, Y7
	VANDPS Y7, Y6, Y6
	SCALE2(Y5, Y6)
	STORE3(Y3, Y5, Y6, Y12)
	END(Y12)

// func pwBCEAVX2(a *pwArgs): lx = max(log x, −100), l1x = max(log(1 − x), −100):
// −(y·lx + (1 − y)·l1x), gs·(x − y)/fmax(x(1 − x), 1e-12), gs·(l1x − lx).
TEXT ·pwBCEAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMOVUPS Y0, Y2
	LOGPS(Y2, Y4, Y5, Y6, Y7)
	VMOVUPS ONE, Y3
	VSUBPS Y0, Y3, Y3
	LOGPS(Y3, Y4, Y5, Y6, Y7)
	VMOVUPS M100, Y4
	VMAXPS Y2, Y4, Y2
	VMAXPS Y3, Y4, Y3
	VMULPS Y2, Y1, Y5
	VMOVUPS ONE, Y6
	VSUBPS Y1, Y6, Y6
	VFMADD231PS Y3, Y6, Y5
	VXORPS SIGN, Y5, Y5
	VMOVUPS ONE, Y6
	VSUBPS Y0, Y6, Y6
	VMULPS Y0, Y6, Y6
	VMAXPS TINY, Y6, Y6
	VSUBPS Y1, Y0, Y7
	VDIVPS Y6, Y7, Y7
	VSUBPS Y2, Y3, Y8
	SCALE2(Y7, Y8)
	STORE3(Y5, Y7, Y8, Y12)
	END(Y12)

// func pwKLDivAVX2(a *pwArgs): ly = log y: [y ≠ 0]·y·ly − yx, −gs·y,
// gs·(ly + 1 − x).
TEXT ·pwKLDivAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMOVUPS Y1, Y2
	LOGPS(Y2, Y4, Y5, Y6, Y7)
	VMULPS Y2, Y1, Y3
	VXORPS Y4, Y4, Y4
	VCMPPS $4, Y4, Y1, Y4
	VANDPS Y4, Y3, Y3
	VFNMADD231PS Y0, Y1, Y3
	VXORPS SIGN, Y1, Y5
	VADDPS ONE, Y2, Y6
	VSUBPS Y0, Y6, Y6
	SCALE2(Y5, Y6)
	STORE3(Y3, Y5, Y6, Y12)
	END(Y12)

// func pwKLDivLogAVX2(a *pwArgs): log_target, ey = exp(y): ey(y − x),
// −gs·ey, gs·ey(y − x + 1).
TEXT ·pwKLDivLogAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMOVUPS Y1, Y2
	EXPPS(Y2, Y4, Y5, Y6, Y7)
	VSUBPS Y0, Y1, Y3
	VMULPS Y3, Y2, Y4
	VXORPS SIGN, Y2, Y5
	VADDPS ONE, Y3, Y6
	VMULPS Y6, Y2, Y6
	SCALE2(Y5, Y6)
	STORE3(Y4, Y5, Y6, Y12)
	END(Y12)

// POISSONFULL adds, where f is set and y > 1, Stirling's term
// y·log y − y + ½log(2πy) to the loss in Y4 and log y + 1/(2y) to the
// target's gradient in Y6.
#define POISSONFULL \
	VMOVUPS Y1, Y2; LOGPS(Y2, Y7, Y8, Y9, Y10); \
	VMULPS Y2, Y1, Y3; VSUBPS Y1, Y3, Y3; \
	VADDPS LOG2PI, Y2, Y7; VFMADD231PS HALF, Y7, Y3; \
	VCMPPS $14, ONE, Y1, Y8; VANDPS Y8, Y3, Y3; VADDPS Y3, Y4, Y4; \
	VMOVUPS HALF, Y7; VDIVPS Y1, Y7, Y7; VADDPS Y2, Y7, Y7; \
	VANDPS Y8, Y7, Y7; VADDPS Y7, Y6, Y6

// func pwPoissonAVX2(a *pwArgs): p2 = ε, f = full; lx = log(x + ε):
// x − y·lx, gs·(1 − y/(x + ε)), −gs·lx.
TEXT ·pwPoissonAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y13)
	LOOP
	VADDPS Y12, Y0, Y2
	VMOVUPS Y2, Y3
	LOGPS(Y3, Y4, Y5, Y6, Y7)
	VMOVUPS Y0, Y4
	VFNMADD231PS Y3, Y1, Y4
	VDIVPS Y2, Y1, Y5
	VMOVUPS ONE, Y6
	VSUBPS Y5, Y6, Y5
	VXORPS SIGN, Y3, Y6
	TESTQ R13, R13
	JZ   scale
	POISSONFULL
scale:
	SCALE2(Y5, Y6)
	STORE3(Y4, Y5, Y6, Y13)
	END(Y13)

// func pwPoissonLogAVX2(a *pwArgs): log_input, f = full: e^x − yx,
// gs·(e^x − y), −gs·x.
TEXT ·pwPoissonLogAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y12)
	LOOP
	VMOVUPS Y0, Y2
	EXPPS(Y2, Y4, Y5, Y6, Y7)
	VMOVUPS Y2, Y4
	VFNMADD231PS Y0, Y1, Y4
	VSUBPS Y1, Y2, Y5
	VXORPS SIGN, Y0, Y6
	TESTQ R13, R13
	JZ   scale
	POISSONFULL
scale:
	SCALE2(Y5, Y6)
	STORE3(Y4, Y5, Y6, Y12)
	END(Y12)

// func pwGaussianAVX2(a *pwArgs): a = var, p1 = ε, p2 = ½log 2π if full
// else 0; v = max(a, ε), q = d/v: ½(log v + dq) + p2, gs·q, −gs·q,
// gs·½(1 − dq)/v.
TEXT ·pwGaussianAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), BX
	BEGIN(Y14)
	LOOP
	VMOVUPS (DX)(AX*1), Y2
	VMAXPS Y2, Y13, Y2
	VSUBPS Y1, Y0, Y3
	VDIVPS Y2, Y3, Y4
	VMOVUPS Y2, Y5
	LOGPS(Y5, Y6, Y7, Y8, Y9)
	VFMADD231PS Y4, Y3, Y5
	VMULPS HALF, Y5, Y5
	VADDPS Y12, Y5, Y5
	VMOVUPS ONE, Y6
	VFNMADD231PS Y4, Y3, Y6
	VMULPS HALF, Y6, Y6
	VDIVPS Y2, Y6, Y6
	VXORPS SIGN, Y4, Y7
	SCALE2(Y4, Y7)
	VMULPS Y15, Y6, Y6
	STORE3(Y5, Y4, Y7, Y14)
	VMOVUPS Y6, (R10)(AX*1)
	END(Y14)

// func expShiftSumAVX2(dst, src *float32, n int, m float32, k *[pwNConst][8]uint32) (s float64)
// dst[i] = exp(src[i] − m) for i < n (n a multiple of 8; no stores when
// dst is nil), s = the sum of those values: lane j of 8 adds the i ≡ j
// mod 8 in float64, then (j, j+4) pairs, then (0+2, 1+3) pairs, then the two.
TEXT ·expShiftSumAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), R11
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHLQ $2, CX
	VBROADCASTSS m+24(FP), Y14
	MOVQ k+32(FP), R12
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	XORQ AX, AX
loop:
	CMPQ AX, CX
	JAE  done
	VMOVUPS (SI)(AX*1), Y0
	VSUBPS Y14, Y0, Y0
	EXPPS(Y0, Y4, Y5, Y6, Y7)
	TESTQ R11, R11
	JZ   sum
	VMOVUPS Y0, (R11)(AX*1)
sum:
	VCVTPS2PD X0, Y1
	VEXTRACTF128 $1, Y0, X2
	VCVTPS2PD X2, Y2
	VADDPD Y1, Y10, Y10
	VADDPD Y2, Y11, Y11
	ADDQ $32, AX
	JMP  loop
done:
	VADDPD Y11, Y10, Y10
	VEXTRACTF128 $1, Y10, X11
	VADDPD X11, X10, X10
	VHADDPD X10, X10, X10
	VMOVSD X10, s+40(FP)
	VZEROUPPER
	RET

// func maxAVX2(src *float32, n int) (m float32)
// m = the largest src[i], i < n (n a positive multiple of 8), skipping
// NaN as rowMax's lanes do (−Inf where every element is NaN or −Inf).
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	SHLQ $2, CX
	MOVL $0xff800000, AX
	MOVL AX, X0
	VBROADCASTSS X0, Y0
	VMOVUPS Y0, Y1
	XORQ AX, AX
	CMPQ CX, $64
	JB   tail
loop2:
	VMOVUPS (SI)(AX*1), Y2
	VMOVUPS 32(SI)(AX*1), Y3
	VMAXPS Y0, Y2, Y0
	VMAXPS Y1, Y3, Y1
	ADDQ $64, AX
	LEAQ 64(AX), DX
	CMPQ DX, CX
	JBE  loop2
tail:
	CMPQ AX, CX
	JAE  done
	VMOVUPS (SI)(AX*1), Y2
	VMAXPS Y0, Y2, Y0
done:
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VMOVSS X0, m+16(FP)
	VZEROUPPER
	RET

// func softmaxBwdLogAVX2(dx, y, dy *float32, n int, s, invTau float32, k *[pwNConst][8]uint32)
// The backward of log_softmax for n elements (n a multiple of 8):
// dx = invTau·(dy − exp(y)·s), s being the row's Σ dy.
TEXT ·softmaxBwdLogAVX2(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), R11
	MOVQ y+8(FP), SI
	MOVQ dy+16(FP), DI
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	VBROADCASTSS s+32(FP), Y14
	VBROADCASTSS invTau+36(FP), Y13
	MOVQ k+40(FP), R12
	XORQ AX, AX
loop:
	CMPQ AX, CX
	JAE  done
	VMOVUPS (SI)(AX*1), Y0
	EXPPS(Y0, Y4, Y5, Y6, Y7)
	VMULPS Y14, Y0, Y0
	VMOVUPS (DI)(AX*1), Y1
	VSUBPS Y0, Y1, Y1
	VMULPS Y13, Y1, Y1
	VMOVUPS Y1, (R11)(AX*1)
	ADDQ $32, AX
	JMP  loop
done:
	VZEROUPPER
	RET
