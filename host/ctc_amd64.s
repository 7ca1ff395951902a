//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA loops of the float32 CTC mirror (ctc_amd64.go declares them,
// ctcvec.go drives them and has their error analysis; ctcfast.go and
// softmax.go have the pure-Go loops they replace). They run only when
// ctcVec (hasAVX2FMA). Operand order is Go's: the destination last,
// and VCMPPD $p, b, a, dst sets dst = (a p b).

// Four (eight) copies of a constant, for memory operands.
#define K64(name, v) DATA name<>+0(SB)/8, $v; DATA name<>+8(SB)/8, $v; DATA name<>+16(SB)/8, $v; DATA name<>+24(SB)/8, $v; GLOBL name<>(SB), RODATA|NOPTR, $32
#define K32(name, v) DATA name<>+0(SB)/4, $v; DATA name<>+4(SB)/4, $v; DATA name<>+8(SB)/4, $v; DATA name<>+12(SB)/4, $v; DATA name<>+16(SB)/4, $v; DATA name<>+20(SB)/4, $v; DATA name<>+24(SB)/4, $v; DATA name<>+28(SB)/4, $v; GLOBL name<>(SB), RODATA|NOPTR, $32

// float64 exp: x = k·ln2 + r, |r| <= ln2/2, e^r by a polynomial of
// degree 9 (1 + r + c2·r² + ... + c9·r⁹, Chebyshev-fitted: 4e-14
// relative), evaluated by Estrin's scheme (a short dependency chain),
// 2^k built in the exponent field.
K64(dLog2e, 0x3ff71547652b82fe)
K64(dMagic, 0x4338000000000000) // 1.5·2^52: adding it rounds to an integer
K64(dLn2Hi, 0x3fe62e42fefa39ef)
K64(dLn2Lo, 0x3c7abc9e3b39803f)
K64(dBias, 0x3ff0000000000000) // 1023<<52
K64(dC2, 0x3fdfffffffff71b2)
K64(dC3, 0x3fc5555555553b78)
K64(dC4, 0x3fa555555742d965)
K64(dC5, 0x3f81111111c478eb)
K64(dC6, 0x3f56c164de86dafd)
K64(dC7, 0x3f2a019ada3609f3)
K64(dC8, 0x3efa15a600528a0f)
K64(dC9, 0x3ec72c72ca338df0)
K64(dOne, 0x3ff0000000000000)
K64(dAbs, 0x7fffffffffffffff)
K64(dSpread, 0x4085900000000000) // 690
K64(dNegInf, 0xfff0000000000000)
K64(dPosInf, 0x7ff0000000000000)
K64(dExpLo, 0xc086200000000000) // -708
K64(dOccCut, 0xc056000000000000) // -88

// float64 log: y = 2^k·m, m in [√½, √2), s = (m−1)/(m+1), z = s²,
// log m = 2s + 2s·z·P(z) with P(z) ≈ (atanh(s)/s − 1)/z of degree 5
// (Chebyshev-fitted; 3e-16 absolute in log m), by Estrin's scheme.
K64(dLogOff, 0x00095f619980c433) // 1.0 − √½ in the bits: the exponent steps up at m = √2
K64(dExpMask, 0xfff0000000000000)
K64(dTwo52, 0x4330000000000000)   // 2^52
K64(dTwo52K, 0x43300000000003ff)  // 2^52 + 1023
K64(dP0, 0x3fd55555555553b7)
K64(dP1, 0x3fc9999999b8782a)
K64(dP2, 0x3fc24924629ad2de)
K64(dP3, 0x3fbc71fcdf2cce19)
K64(dP4, 0x3fb7382abeba3779)
K64(dP5, 0x3fb546d0746478fc)
K64(qFour, 0x0000000000000004)

// float32 exp: as the float64 one, Taylor to r^7.
K32(fLog2e, 0x3fb8aa3b)
K32(fMagic, 0x4b400000) // 1.5·2^23
K32(fLn2Hi, 0x3f317218)
K32(fLn2Lo, 0xb102e308)
K32(fBias, 0x3f800000) // 127<<23
K32(fC7, 0x39500d01)
K32(fC6, 0x3ab60b61)
K32(fC5, 0x3c088889)
K32(fC4, 0x3d2aaaab)
K32(fC3, 0x3e2aaaab)
K32(fC2, 0x3f000000)
K32(fOne, 0x3f800000)
K32(fLo, 0xc2aeac4f) // -87.33654
DATA fNegInf<>+0(SB)/4, $0xff800000
GLOBL fNegInf<>(SB), RODATA|NOPTR, $4

// Lane masks: the 32 bytes at tail64+32−8r hold r (< 4) 64-bit lanes of
// ones, then zeros; the 16 or 32 bytes at tail32+32−4r hold r 32-bit
// lanes of ones, then zeros.
DATA tail64<>+0(SB)/8, $-1
DATA tail64<>+8(SB)/8, $-1
DATA tail64<>+16(SB)/8, $-1
DATA tail64<>+24(SB)/8, $-1
DATA tail64<>+32(SB)/8, $0
DATA tail64<>+40(SB)/8, $0
DATA tail64<>+48(SB)/8, $0
DATA tail64<>+56(SB)/8, $0
GLOBL tail64<>(SB), RODATA|NOPTR, $64
DATA tail32<>+0(SB)/8, $-1
DATA tail32<>+8(SB)/8, $-1
DATA tail32<>+16(SB)/8, $-1
DATA tail32<>+24(SB)/8, $-1
DATA tail32<>+32(SB)/8, $0
DATA tail32<>+40(SB)/8, $0
DATA tail32<>+48(SB)/8, $0
DATA tail32<>+56(SB)/8, $0
GLOBL tail32<>(SB), RODATA|NOPTR, $64
// par64+8p: the 64-bit lanes i with p + i even.
DATA par64<>+0(SB)/8, $-1
DATA par64<>+8(SB)/8, $0
DATA par64<>+16(SB)/8, $-1
DATA par64<>+24(SB)/8, $0
DATA par64<>+32(SB)/8, $-1
GLOBL par64<>(SB), RODATA|NOPTR, $40
DATA iota64<>+0(SB)/8, $0
DATA iota64<>+8(SB)/8, $1
DATA iota64<>+16(SB)/8, $2
DATA iota64<>+24(SB)/8, $3
GLOBL iota64<>(SB), RODATA|NOPTR, $32

// EXP64(x, t, a, b, c, d): x = exp(x) for |x| <= 708 (other lanes:
// garbage); t, a, b, c, d are clobbered.
#define EXP64(x, t, a, b, c, d) \
	VMOVAPD      dMagic<>(SB), t; \
	VFMADD231PD  dLog2e<>(SB), x, t; \
	VSUBPD       dMagic<>(SB), t, a; \
	VFNMADD231PD dLn2Hi<>(SB), a, x; \
	VFNMADD231PD dLn2Lo<>(SB), a, x; \
	VMULPD       x, x, b; \
	VMOVAPD      x, a; \
	VADDPD       dOne<>(SB), a, a; \
	VMOVAPD      dC3<>(SB), c; \
	VFMADD213PD  dC2<>(SB), x, c; \
	VMOVAPD      dC5<>(SB), d; \
	VFMADD213PD  dC4<>(SB), x, d; \
	VFMADD231PD  c, b, a; \
	VMOVAPD      dC7<>(SB), c; \
	VFMADD213PD  dC6<>(SB), x, c; \
	VFMADD231PD  c, b, d; \
	VMOVAPD      dC9<>(SB), c; \
	VFMADD213PD  dC8<>(SB), x, c; \
	VMULPD       b, b, x; \
	VFMADD231PD  d, x, a; \
	VMULPD       x, x, x; \
	VFMADD231PD  c, x, a; \
	VPSLLQ       $52, t, t; \
	VPADDQ       dBias<>(SB), t, t; \
	VMULPD       t, a, x

// LOG64(y, out, a, b, c, d, e, rm): out = rm + log(y) for positive
// normal y (other lanes: garbage); y, a, b, c, d, e are clobbered.
#define LOG64(y, out, a, b, c, d, e, rm) \
	VPADDQ      dLogOff<>(SB), y, a; \
	VPSRLQ      $52, a, b; \
	VPOR        dTwo52<>(SB), b, b; \
	VSUBPD      dTwo52K<>(SB), b, b; \
	VMOVAPD     rm, e; \
	VFMADD231PD dLn2Hi<>(SB), b, e; \
	VFMADD231PD dLn2Lo<>(SB), b, e; \
	VPAND       dExpMask<>(SB), a, a; \
	VPSUBQ      a, y, y; \
	VPADDQ      dBias<>(SB), y, y; \
	VSUBPD      dOne<>(SB), y, a; \
	VADDPD      dOne<>(SB), y, y; \
	VDIVPD      y, a, y; \
	VMULPD      y, y, a; \
	VADDPD      y, y, y; \
	VMULPD      a, y, b; \
	VMOVAPD     dP1<>(SB), out; \
	VFMADD213PD dP0<>(SB), a, out; \
	VMOVAPD     dP3<>(SB), c; \
	VFMADD213PD dP2<>(SB), a, c; \
	VMOVAPD     dP5<>(SB), d; \
	VFMADD213PD dP4<>(SB), a, d; \
	VMULPD      a, a, a; \
	VFMADD231PD c, a, out; \
	VMULPD      a, a, a; \
	VFMADD231PD d, a, out; \
	VFMADD213PD y, b, out; \
	VADDPD      e, out, out

// EXP32(x, t, p): x = exp(x) for x in [−87.33, 88] (other lanes: garbage,
// NaN for NaN).
#define EXP32(x, t, p) \
	VMOVAPS      fMagic<>(SB), t; \
	VFMADD231PS  fLog2e<>(SB), x, t; \
	VSUBPS       fMagic<>(SB), t, p; \
	VFNMADD231PS fLn2Hi<>(SB), p, x; \
	VFNMADD231PS fLn2Lo<>(SB), p, x; \
	VMOVAPS      fC7<>(SB), p; \
	VFMADD213PS  fC6<>(SB), x, p; \
	VFMADD213PS  fC5<>(SB), x, p; \
	VFMADD213PS  fC4<>(SB), x, p; \
	VFMADD213PS  fC3<>(SB), x, p; \
	VFMADD213PS  fC2<>(SB), x, p; \
	VFMADD213PS  fOne<>(SB), x, p; \
	VFMADD213PS  fOne<>(SB), x, p; \
	VPSLLD       $23, t, t; \
	VPADDD       fBias<>(SB), t, t; \
	VMULPS       t, p, x

// BETADONE stores the results mx (Y15) and gmx (Y11, NaN if Y10 has a
// lane set) at the frame offsets mxo and gmxo.
#define BETADONE(mxo, gmxo) \
	HMAX(Y15, X15); \
	VMOVSD    X0, mxo(FP); \
	HMAX(Y11, X11); \
	VMOVSD    X0, gmxo(FP); \
	VMOVMSKPD Y10, BX; \
	MOVQ      $0x7ff8000000000000, R11; \
	TESTQ     BX, BX; \
	JE        2(PC); \
	MOVQ      R11, gmxo(FP); \
	VZEROUPPER; \
	RET

// BETAINIT loads the arguments common to the two backward loops (Y14:
// the argument at rmo).
#define BETAINIT(rmo) \
	MOVQ         sk+8(FP), SI; \
	MOVQ         x+16(FP), DX; \
	MOVQ         cls+24(FP), R13; \
	MOVQ         cs+32(FP), R8; \
	MOVQ         os+40(FP), R9; \
	MOVQ         gam+48(FP), R12; \
	MOVQ         n+56(FP), CX; \
	VPBROADCASTQ nga+64(FP), Y9; \
	VBROADCASTSD sh+72(FP), Y8; \
	VBROADCASTSD rmo(FP), Y14; \
	VXORPD       Y13, Y13, Y13; \
	VMOVUPD      dNegInf<>(SB), Y12; \
	VMOVUPD      Y12, Y15; \
	VMOVUPD      Y12, Y11; \
	VXORPD       Y10, Y10, Y10; \
	XORQ         AX, AX; \
	MOVQ         CX, R10; \
	SUBQ         $4, R10

// WINEXP: Y0 = w − ref in, exp out (0 for −Inf); Y9 &= lanes with
// |w − ref| <= 690 or w − ref = −Inf, Y10 &= lanes with w < +Inf (not
// NaN). Y15 ref, Y14 abs mask, Y13 690, Y12 −Inf.
#define WINEXP \
	VSUBPD  Y15, Y0, Y0; \
	VCMPPD  $0x11, dPosInf<>(SB), Y0, Y11; \
	VANDPD  Y11, Y10, Y10; \
	VANDPD  Y14, Y0, Y1; \
	VCMPPD  $0x12, Y13, Y1, Y2; \
	VCMPPD  $0x00, Y12, Y0, Y3; \
	VORPD   Y2, Y3, Y3; \
	VANDPD  Y3, Y9, Y9; \
	EXP64(Y0, Y1, Y3, Y4, Y6, Y7); \
	VANDPD  Y2, Y0, Y0

// func ctcExpAVX(e, w *float64, n int, ref float64) (ok, fin bool)
TEXT ·ctcExpAVX(SB), NOSPLIT, $0-34
	MOVQ         e+0(FP), DI
	MOVQ         w+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD ref+24(FP), Y15
	VMOVUPD      dAbs<>(SB), Y14
	VMOVUPD      dSpread<>(SB), Y13
	VMOVUPD      dNegInf<>(SB), Y12
	VPCMPEQQ     Y9, Y9, Y9
	VPCMPEQQ     Y10, Y10, Y10
	XORQ         AX, AX
	MOVQ         CX, DX
	SUBQ         $4, DX

	PCALIGN $32

expLoop:
	CMPQ    AX, DX
	JG      expTail
	VMOVUPD (SI)(AX*8), Y0
	WINEXP
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     expLoop

expTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         expDone
	LEAQ       tail64<>+32(SB), R8
	SHLQ       $3, BX
	SUBQ       BX, R8
	VMOVUPD    (R8), Y5
	VMASKMOVPD (SI)(AX*8), Y5, Y0
	VBLENDVPD  Y5, Y0, Y12, Y0
	WINEXP
	VMOVUPD    Y0, (DI)(AX*8)

expDone:
	VMOVMSKPD Y9, BX
	CMPQ      BX, $15
	SETEQ     ok+32(FP)
	VMOVMSKPD Y10, BX
	CMPQ      BX, $15
	SETEQ     fin+33(FP)
	VZEROUPPER
	RET

// HMAX(y, x): X0 = the largest of y's four lanes (x: y's low half).
#define HMAX(y, x) \
	VEXTRACTF128 $1, y, X0; \
	VMAXPD       X0, x, X0; \
	VPERMILPD    $1, X0, X1; \
	VMAXSD       X1, X0, X0

// LPGATHER(m, idx, dst): dst = float64(x[cls[i..i+3]]) − sh (DX = x,
// Y11 = sh) for the lanes set in the 32-bit mask m (cleared), idx the
// indices.
#define LPGATHER(m, idx, dst, dsty) \
	VGATHERDPS m, (DX)(idx*4), dst; \
	VCVTPS2PD  dst, dsty; \
	VSUBPD     Y11, dsty, dsty

// ALPHAOUT: Y0 = r in; v = lp + r stored in cs (R8) and os (R9), Y15
// = max(Y15, v). ALPHAOUTTAIL: the same for the lanes of Y7 (X6).
#define ALPHAOUT \
	VMOVDQU    (R12)(AX*4), X5; \
	VPCMPEQD   X7, X7, X7; \
	LPGATHER(X7, X5, X6, Y6); \
	VADDPD     Y6, Y0, Y0; \
	VMOVUPD    Y0, (R8)(AX*8); \
	VCVTPD2PSY Y0, X1; \
	VMOVUPS    X1, (R9)(AX*4); \
	VMAXPD     Y15, Y0, Y15

#define ALPHAOUTTAIL \
	VPMASKMOVD (R12)(AX*4), X6, X5; \
	VMOVDQA    X6, X8; \
	VXORPS     X9, X9, X9; \
	LPGATHER(X8, X5, X9, Y9); \
	VADDPD     Y9, Y0, Y0; \
	VMASKMOVPD Y0, Y7, (R8)(AX*8); \
	VCVTPD2PSY Y0, X1; \
	VMASKMOVPS X1, X6, (R9)(AX*4); \
	VBLENDVPD  Y7, Y0, Y12, Y0; \
	VMAXPD     Y15, Y0, Y15

// TAILMASKS: BX = n − i (1 to 3) in; Y7, X6 the lanes' masks, R11 and
// R10 their addresses.
#define TAILMASKS \
	LEAQ    tail64<>+32(SB), R11; \
	LEAQ    tail32<>+32(SB), R10; \
	SHLQ    $2, BX; \
	SUBQ    BX, R10; \
	SHLQ    $1, BX; \
	SUBQ    BX, R11; \
	VMOVUPD (R11), Y7; \
	VMOVUPS (R10), X6

// func ctcAlphaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, rm float64) (mx float64)
TEXT ·ctcAlphaCombAVX(SB), NOSPLIT, $0-80
	MOVQ         e+0(FP), DI
	MOVQ         sk+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         cls+24(FP), R12
	MOVQ         cs+32(FP), R8
	MOVQ         os+40(FP), R9
	MOVQ         n+48(FP), CX
	VBROADCASTSD sh+56(FP), Y11
	VBROADCASTSD rm+64(FP), Y14
	VXORPD       Y13, Y13, Y13
	VMOVUPD      dNegInf<>(SB), Y12
	VMOVUPD      Y12, Y15
	XORQ         AX, AX
	MOVQ         CX, R10
	SUBQ         $4, R10

	PCALIGN $32

alphaLoop:
	CMPQ        AX, R10
	JG          alphaTail
	VMOVUPD     8(DI)(AX*8), Y1
	VADDPD      16(DI)(AX*8), Y1, Y3
	VMOVUPD     (SI)(AX*8), Y4
	VFMADD231PD (DI)(AX*8), Y4, Y3
	VCMPPD      $0x00, Y13, Y3, Y5
	LOG64(Y3, Y0, Y1, Y2, Y4, Y9, Y10, Y14)
	VBLENDVPD   Y5, Y12, Y0, Y0
	ALPHAOUT
	ADDQ        $4, AX
	JMP         alphaLoop

alphaTail:
	MOVQ        CX, BX
	SUBQ        AX, BX
	JE          alphaDone
	TAILMASKS
	VMOVUPD     8(DI)(AX*8), Y1
	VADDPD      16(DI)(AX*8), Y1, Y3
	VMASKMOVPD  (SI)(AX*8), Y7, Y4
	VFMADD231PD (DI)(AX*8), Y4, Y3
	VCMPPD      $0x00, Y13, Y3, Y5
	LOG64(Y3, Y0, Y1, Y2, Y4, Y9, Y10, Y14)
	VBLENDVPD   Y5, Y12, Y0, Y0
	ALPHAOUTTAIL

alphaDone:
	HMAX(Y15, X15)
	VMOVSD X0, mx+72(FP)
	VZEROUPPER
	RET

// LSETERM(x, m, t, a, b, c, d): x = exp(max(x − m, −708)).
#define LSETERM(x, m, t, a, b, c, d) \
	VSUBPD m, x, x; \
	VMAXPD dExpLo<>(SB), x, x; \
	EXP64(x, t, a, b, c, d)

// func ctcAlphaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, m float64) (mx float64)
TEXT ·ctcAlphaLSEAVX(SB), NOSPLIT, $0-80
	MOVQ         w+0(FP), DI
	MOVQ         sk+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         cls+24(FP), R12
	MOVQ         cs+32(FP), R8
	MOVQ         os+40(FP), R9
	MOVQ         n+48(FP), CX
	VBROADCASTSD sh+56(FP), Y11
	VBROADCASTSD m+64(FP), Y14
	VXORPD       Y13, Y13, Y13
	VMOVUPD      dNegInf<>(SB), Y12
	VMOVUPD      Y12, Y15
	XORQ         AX, AX
	MOVQ         CX, R10
	SUBQ         $4, R10

	PCALIGN $32

alseLoop:
	CMPQ      AX, R10
	JG        alseTail
	VMOVUPD   (DI)(AX*8), Y0
	VCMPPD    $0x00, (SI)(AX*8), Y13, Y1
	VBLENDVPD Y1, Y12, Y0, Y0
	VMAXPD    8(DI)(AX*8), Y0, Y5
	VMAXPD    16(DI)(AX*8), Y5, Y5
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VMOVAPD   Y0, Y6
	VMOVUPD   8(DI)(AX*8), Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD    Y0, Y6, Y6
	VMOVUPD   16(DI)(AX*8), Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD    Y0, Y6, Y6
	VSUBPD    Y14, Y5, Y5
	LOG64(Y6, Y0, Y1, Y2, Y3, Y4, Y7, Y5)
	ALPHAOUT
	ADDQ      $4, AX
	JMP       alseLoop

alseTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         alseDone
	TAILMASKS
	VMASKMOVPD (DI)(AX*8), Y7, Y0
	VMASKMOVPD (SI)(AX*8), Y7, Y1
	VCMPPD     $0x00, Y13, Y1, Y1
	VBLENDVPD  Y1, Y12, Y0, Y0
	VMASKMOVPD 8(DI)(AX*8), Y7, Y2
	VMAXPD     Y2, Y0, Y5
	VMASKMOVPD 16(DI)(AX*8), Y7, Y2
	VMAXPD     Y2, Y5, Y5
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y8)
	VMOVAPD    Y0, Y9
	VMASKMOVPD 8(DI)(AX*8), Y7, Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y8)
	VADDPD     Y0, Y9, Y9
	VMASKMOVPD 16(DI)(AX*8), Y7, Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y8)
	VADDPD     Y0, Y9, Y9
	VSUBPD     Y14, Y5, Y5
	LOG64(Y9, Y0, Y1, Y2, Y3, Y4, Y8, Y5)
	ALPHAOUTTAIL

alseDone:
	HMAX(Y15, X15)
	VMOVSD X0, mx+72(FP)
	VZEROUPPER
	RET

// BETAGAM: Y0 = r, Y1 = w (alpha) in; Y1 = g = w + r out; updates Y11
// (largest g of the lanes below nga), Y10 (NaN g there), Y9 (nga − i, per
// lane).
#define BETAGAM \
	VADDPD    Y0, Y1, Y1; \
	VPCMPGTQ  iota64<>(SB), Y9, Y2; \
	VPSUBQ    qFour<>(SB), Y9, Y9; \
	VCMPPD    $0x03, Y1, Y1, Y4; \
	VANDPD    Y2, Y4, Y4; \
	VORPD     Y4, Y10, Y10; \
	VBLENDVPD Y2, Y1, Y12, Y4; \
	VMAXPD    Y11, Y4, Y11

// LPGATHER8 is LPGATHER with sh in Y8.
#define LPGATHER8(m, idx, dst, dsty) \
	VGATHERDPS m, (DX)(idx*4), dst; \
	VCVTPS2PD  dst, dsty; \
	VSUBPD     Y8, dsty, dsty

// BETAOUT: Y0 = r in; g = w + r (w from os, R9) stored in gam (R12) and
// taken into Y11/Y10 (BETAGAM), v = lp + r stored in cs (R8) and os,
// Y15 = max(Y15, v). BETAOUTTAIL: the same for the lanes of Y7 (X6).
#define BETAOUT \
	VCVTPS2PD  (R9)(AX*4), Y1; \
	BETAGAM; \
	VMOVUPD    Y1, (R12)(AX*8); \
	VMOVDQU    (R13)(AX*4), X5; \
	VPCMPEQD   X2, X2, X2; \
	LPGATHER8(X2, X5, X3, Y3); \
	VADDPD     Y3, Y0, Y0; \
	VMOVUPD    Y0, (R8)(AX*8); \
	VCVTPD2PSY Y0, X1; \
	VMOVUPS    X1, (R9)(AX*4); \
	VMAXPD     Y15, Y0, Y15

#define BETAOUTTAIL \
	VMASKMOVPS (R9)(AX*4), X6, X1; \
	VCVTPS2PD  X1, Y1; \
	BETAGAM; \
	VMASKMOVPD Y1, Y7, (R12)(AX*8); \
	VPMASKMOVD (R13)(AX*4), X6, X5; \
	VMOVDQA    X6, X2; \
	VXORPS     X3, X3, X3; \
	LPGATHER8(X2, X5, X3, Y3); \
	VADDPD     Y3, Y0, Y0; \
	VMASKMOVPD Y0, Y7, (R8)(AX*8); \
	VCVTPD2PSY Y0, X1; \
	VMASKMOVPS X1, X6, (R9)(AX*4); \
	VBLENDVPD  Y7, Y0, Y12, Y0; \
	VMAXPD     Y15, Y0, Y15

// func ctcBetaCombAVX(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, rm float64) (mx, gmx float64)
TEXT ·ctcBetaCombAVX(SB), NOSPLIT, $0-104
	MOVQ e+0(FP), DI
	BETAINIT(rm+80)

	PCALIGN $32

betaLoop:
	CMPQ        AX, R10
	JG          betaTail
	VMOVUPD     (DI)(AX*8), Y1
	VADDPD      8(DI)(AX*8), Y1, Y3
	VMOVUPD     (SI)(AX*8), Y4
	VFMADD231PD 16(DI)(AX*8), Y4, Y3
	VCMPPD      $0x00, Y13, Y3, Y5
	LOG64(Y3, Y0, Y1, Y2, Y4, Y6, Y7, Y14)
	VBLENDVPD   Y5, Y12, Y0, Y0
	BETAOUT
	ADDQ        $4, AX
	JMP         betaLoop

betaTail:
	MOVQ        CX, BX
	SUBQ        AX, BX
	JE          betaDone
	TAILMASKS
	VMOVUPD     (DI)(AX*8), Y1
	VADDPD      8(DI)(AX*8), Y1, Y3
	VMASKMOVPD  (SI)(AX*8), Y7, Y4
	VFMADD231PD 16(DI)(AX*8), Y4, Y3
	VCMPPD      $0x00, Y13, Y3, Y5
	LOG64(Y3, Y0, Y1, Y2, Y4, Y6, Y7, Y14)
	VMOVUPD     (R11), Y7
	VMOVUPS     (R10), X6
	VBLENDVPD   Y5, Y12, Y0, Y0
	BETAOUTTAIL

betaDone:
	BETADONE(mx+88, gmx+96)

// func ctcBetaLSEAVX(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, m float64) (mx, gmx float64)
TEXT ·ctcBetaLSEAVX(SB), NOSPLIT, $0-104
	MOVQ w+0(FP), DI
	BETAINIT(m+80)

	PCALIGN $32

blseLoop:
	CMPQ      AX, R10
	JG        blseTail
	VMOVUPD   16(DI)(AX*8), Y0
	VCMPPD    $0x00, (SI)(AX*8), Y13, Y1
	VBLENDVPD Y1, Y12, Y0, Y0
	VMAXPD    (DI)(AX*8), Y0, Y5
	VMAXPD    8(DI)(AX*8), Y5, Y5
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VMOVAPD   Y0, Y6
	VMOVUPD   (DI)(AX*8), Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD    Y0, Y6, Y6
	VMOVUPD   8(DI)(AX*8), Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD    Y0, Y6, Y6
	VSUBPD    Y14, Y5, Y5
	LOG64(Y6, Y0, Y1, Y2, Y3, Y4, Y7, Y5)
	BETAOUT
	ADDQ      $4, AX
	JMP       blseLoop

blseTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         blseDone
	TAILMASKS
	VMASKMOVPD 16(DI)(AX*8), Y7, Y0
	VMASKMOVPD (SI)(AX*8), Y7, Y1
	VCMPPD     $0x00, Y13, Y1, Y1
	VBLENDVPD  Y1, Y12, Y0, Y0
	VMASKMOVPD (DI)(AX*8), Y7, Y2
	VMAXPD     Y2, Y0, Y5
	VMASKMOVPD 8(DI)(AX*8), Y7, Y2
	VMAXPD     Y2, Y5, Y5
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VMOVAPD    Y0, Y6
	VMOVUPD    (R11), Y7
	VMASKMOVPD (DI)(AX*8), Y7, Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD     Y0, Y6, Y6
	VMOVUPD    (R11), Y7
	VMASKMOVPD 8(DI)(AX*8), Y7, Y0
	LSETERM(Y0, Y5, Y1, Y2, Y3, Y4, Y7)
	VADDPD     Y0, Y6, Y6
	VSUBPD     Y14, Y5, Y5
	LOG64(Y6, Y0, Y1, Y2, Y3, Y4, Y7, Y5)
	VMOVUPD    (R11), Y7
	VMOVUPS    (R10), X6
	BETAOUTTAIL

blseDone:
	BETADONE(mx+88, gmx+96)

// func ctcOccExpAVX(la *float64, n int, ref float64, par int) (sum, blank float64)
TEXT ·ctcOccExpAVX(SB), NOSPLIT, $0-48
	MOVQ         la+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSD ref+16(FP), Y15
	MOVQ         par+24(FP), BX
	ANDQ         $1, BX
	LEAQ         par64<>(SB), R8
	VMOVUPD      (R8)(BX*8), Y12
	VMOVUPD      dOccCut<>(SB), Y14
	VXORPD       Y13, Y13, Y13
	VXORPD       Y11, Y11, Y11
	XORQ         AX, AX
	MOVQ         CX, DX
	SUBQ         $4, DX

	PCALIGN $32

occLoop:
	CMPQ    AX, DX
	JG      occTail
	VMOVUPD (DI)(AX*8), Y0
	VSUBPD  Y15, Y0, Y0
	VCMPPD  $0x1e, Y14, Y0, Y2
	EXP64(Y0, Y1, Y3, Y4, Y5, Y6)
	VANDPD  Y2, Y0, Y0
	VMOVUPD Y0, (DI)(AX*8)
	VADDPD  Y0, Y13, Y13
	VANDPD  Y12, Y0, Y0
	VADDPD  Y0, Y11, Y11
	ADDQ    $4, AX
	JMP     occLoop

occTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         occDone
	LEAQ       tail64<>+32(SB), R8
	SHLQ       $3, BX
	SUBQ       BX, R8
	VMOVUPD    (R8), Y7
	VMASKMOVPD (DI)(AX*8), Y7, Y0
	VSUBPD     Y15, Y0, Y0
	VCMPPD     $0x1e, Y14, Y0, Y2
	VANDPD     Y7, Y2, Y2
	EXP64(Y0, Y1, Y3, Y4, Y5, Y6)
	VANDPD     Y2, Y0, Y0
	VMASKMOVPD Y0, Y7, (DI)(AX*8)
	VADDPD     Y0, Y13, Y13
	VANDPD     Y12, Y0, Y0
	VADDPD     Y0, Y11, Y11

occDone:
	VEXTRACTF128 $1, Y13, X0
	VADDPD       X0, X13, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, sum+32(FP)
	VEXTRACTF128 $1, Y11, X0
	VADDPD       X0, X11, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, blank+40(FP)
	VZEROUPPER
	RET

// LSE8(x, xl, t, p, a, b): Y12 |= the lanes of x above Y14; a += exp of
// x − Y15 in the low four lanes, b in the high four, the argument clamped
// below at Y13 (NaN kept). xl is x's low half.
#define LSE8(x, xl, t, p, a, b) \
	VCMPPS       $0x1e, Y14, x, t; \
	VORPS        t, Y12, Y12; \
	VSUBPS       Y15, x, x; \
	VMAXPS       x, Y13, x; \
	EXP32(x, t, p); \
	VCVTPS2PD    xl, t; \
	VEXTRACTF128 $1, x, xl; \
	VCVTPS2PD    xl, p; \
	VADDPD       t, a, a; \
	VADDPD       p, b, b

// func lseSum32AVX(x *float32, n int, ref, hi float32) (sum float64, over bool)
TEXT ·lseSum32AVX(SB), NOSPLIT, $0-33
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS ref+16(FP), Y15
	VBROADCASTSS hi+20(FP), Y14
	VMOVUPS      fLo<>(SB), Y13
	VXORPS       Y12, Y12, Y12
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	VXORPD       Y11, Y11, Y11
	XORQ         AX, AX
	MOVQ         CX, DX
	SUBQ         $16, DX

	PCALIGN $32

lse16:
	CMPQ    AX, DX
	JG      lse8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y4
	LSE8(Y0, X0, Y1, Y2, Y8, Y9)
	LSE8(Y4, X4, Y5, Y6, Y10, Y11)
	ADDQ    $16, AX
	JMP     lse16

lse8:
	ADDQ    $8, DX
	CMPQ    AX, DX
	JG      lseTail
	VMOVUPS (SI)(AX*4), Y0
	LSE8(Y0, X0, Y1, Y2, Y8, Y9)
	ADDQ    $8, AX

lseTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         lseDone
	LEAQ       tail32<>+32(SB), R8
	SHLQ       $2, BX
	SUBQ       BX, R8
	VMOVUPS    (R8), Y7
	VMASKMOVPS (SI)(AX*4), Y7, Y0
	VCMPPS     $0x1e, Y14, Y0, Y1
	VANDPS     Y7, Y1, Y1
	VORPS      Y1, Y12, Y12
	VSUBPS     Y15, Y0, Y0
	VMAXPS     Y0, Y13, Y0
	EXP32(Y0, Y1, Y2)
	VANDPS     Y7, Y0, Y0
	VCVTPS2PD  X0, Y1
	VEXTRACTF128 $1, Y0, X0
	VCVTPS2PD  X0, Y2
	VADDPD     Y1, Y10, Y10
	VADDPD     Y2, Y11, Y11

lseDone:
	VADDPD       Y9, Y8, Y8
	VADDPD       Y11, Y10, Y10
	VADDPD       Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X0
	VADDPD       X0, X8, X0
	VPERMILPD    $1, X0, X1
	VADDSD       X1, X0, X0
	VMOVSD       X0, sum+24(FP)
	VMOVMSKPS    Y12, BX
	TESTQ        BX, BX
	SETNE        over+32(FP)
	VZEROUPPER
	RET

// SMX8(x, m, t, p): x = Y14·exp(x − Y15) where x − Y15 >= Y13, else 0.
#define SMX8(x, m, t, p) \
	VSUBPS Y15, x, x; \
	VCMPPS $0x1d, Y13, x, m; \
	EXP32(x, t, p); \
	VMULPS Y14, x, x; \
	VANDPS m, x, x

// func softmaxLSE32AVX(dst, x *float32, n int, sh, scale float32)
TEXT ·softmaxLSE32AVX(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS sh+24(FP), Y15
	VBROADCASTSS scale+28(FP), Y14
	VMOVUPS      fLo<>(SB), Y13
	XORQ         AX, AX
	MOVQ         CX, DX
	SUBQ         $16, DX

	PCALIGN $32

smx16:
	CMPQ    AX, DX
	JG      smx8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y4
	SMX8(Y0, Y1, Y2, Y3)
	SMX8(Y4, Y5, Y6, Y7)
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y4, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     smx16

smx8:
	ADDQ    $8, DX
	CMPQ    AX, DX
	JG      smxTail
	VMOVUPS (SI)(AX*4), Y0
	SMX8(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX

smxTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         smxDone
	LEAQ       tail32<>+32(SB), R8
	SHLQ       $2, BX
	SUBQ       BX, R8
	VMOVUPS    (R8), Y8
	VMASKMOVPS (SI)(AX*4), Y8, Y0
	SMX8(Y0, Y1, Y2, Y3)
	VMASKMOVPS Y0, Y8, (DI)(AX*4)

smxDone:
	VZEROUPPER
	RET

// func rowMax32AVX(x *float32, n int) (mx float32)
TEXT ·rowMax32AVX(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS fNegInf<>(SB), Y8
	VMOVUPS      Y8, Y9
	XORQ         AX, AX
	MOVQ         CX, DX
	SUBQ         $16, DX

	PCALIGN $32

max16:
	CMPQ    AX, DX
	JG      max8
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMAXPS  Y8, Y0, Y8 // max(x, acc) is acc where x is NaN
	VMAXPS  Y9, Y1, Y9
	ADDQ    $16, AX
	JMP     max16

max8:
	ADDQ    $8, DX
	CMPQ    AX, DX
	JG      maxTail
	VMOVUPS (SI)(AX*4), Y0
	VMAXPS  Y8, Y0, Y8
	ADDQ    $8, AX

maxTail:
	MOVQ       CX, BX
	SUBQ       AX, BX
	JE         maxDone
	LEAQ       tail32<>+32(SB), R8
	SHLQ       $2, BX
	SUBQ       BX, R8
	VMOVUPS    (R8), Y7
	VMASKMOVPS (SI)(AX*4), Y7, Y0
	VBLENDVPS  Y7, Y0, Y8, Y0 // lanes past n: the running maximum
	VMAXPS     Y8, Y0, Y8

maxDone:
	VMAXPS       Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X0
	VMAXPS       X0, X8, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VMOVSS       X0, mx+16(FP)
	VZEROUPPER
	RET
