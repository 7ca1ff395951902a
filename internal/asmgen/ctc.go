package main

import (
	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

var xs = []reg.VecPhysical{reg.X0, reg.X1, reg.X2, reg.X3, reg.X4, reg.X5, reg.X6, reg.X7,
	reg.X8, reg.X9, reg.X10, reg.X11, reg.X12, reg.X13, reg.X14, reg.X15}

// ctcGen emits ctc_amd64.s: the AVX2/FMA loops of the float32 CTC
// mirror. Its constants are static data of the file (k64, k32), in lanes
// for memory operands.
type ctcGen struct {
	c    *build.Context
	data map[string]operand.Mem
}

// Y and X are vector registers.
func Y(i int) reg.VecPhysical { return ys[i] }
func X(i int) reg.VecPhysical { return xs[i] }

// k is the static constant name.
func (g *ctcGen) k(name string) operand.Mem {
	m, ok := g.data[name]
	if !ok {
		panic("asmgen: no ctc constant " + name)
	}
	return m
}

// global adds the static data name with values of the given size (4 or
// 8 bytes) in order.
func (g *ctcGen) global(name string, size int, vals ...uint64) {
	m := g.c.StaticGlobal(name)
	g.c.DataAttributes(attr.RODATA | attr.NOPTR)
	for i, v := range vals {
		if size == 8 {
			g.c.AddDatum(size*i, operand.U64(v))
		} else {
			g.c.AddDatum(size*i, operand.U32(v))
		}
	}
	g.data[name] = m
}

// k64 is v in four float64 lanes, k32 in eight float32 lanes.
func (g *ctcGen) k64(name string, v uint64) { g.global(name, 8, v, v, v, v) }
func (g *ctcGen) k32(name string, v uint32) {
	u := uint64(v)
	g.global(name, 4, u, u, u, u, u, u, u, u)
}

// m is base + disp, mi base + index·scale + disp.
func m(base reg.Register, disp int) operand.Mem { return operand.Mem{Base: base, Disp: disp} }
func mi(base, index reg.Register, scale uint8, disp int) operand.Mem {
	return operand.Mem{Base: base, Index: index, Scale: scale, Disp: disp}
}

// pcalign aligns the next instruction to 32 bytes (the loops' heads).
func (g *ctcGen) pcalign() {
	g.c.Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []operand.Op{operand.U8(32)}})
}

func (g *ctcGen) constants() {
	// float64 exp: x = k·ln2 + r, |r| <= ln2/2, e^r by a polynomial of
	// degree 9 (1 + r + c2·r² + ... + c9·r⁹, Chebyshev-fitted: 4e-14
	// relative), evaluated by Estrin's scheme (a short dependency chain),
	// 2^k built in the exponent field.
	g.k64("dLog2e", 0x3ff71547652b82fe)
	g.k64("dMagic", 0x4338000000000000) // 1.5·2^52: adding it rounds to an integer
	g.k64("dLn2Hi", 0x3fe62e42fefa39ef)
	g.k64("dLn2Lo", 0x3c7abc9e3b39803f)
	g.k64("dBias", 0x3ff0000000000000) // 1023<<52
	g.k64("dC2", 0x3fdfffffffff71b2)
	g.k64("dC3", 0x3fc5555555553b78)
	g.k64("dC4", 0x3fa555555742d965)
	g.k64("dC5", 0x3f81111111c478eb)
	g.k64("dC6", 0x3f56c164de86dafd)
	g.k64("dC7", 0x3f2a019ada3609f3)
	g.k64("dC8", 0x3efa15a600528a0f)
	g.k64("dC9", 0x3ec72c72ca338df0)
	g.k64("dOne", 0x3ff0000000000000)
	g.k64("dAbs", 0x7fffffffffffffff)
	g.k64("dSpread", 0x4085900000000000) // 690
	g.k64("dNegInf", 0xfff0000000000000)
	g.k64("dPosInf", 0x7ff0000000000000)
	g.k64("dExpLo", 0xc086200000000000)  // -708
	g.k64("dOccCut", 0xc056000000000000) // -88

	// float64 log: y = 2^k·m, m in [√½, √2), s = (m−1)/(m+1), z = s²,
	// log m = 2s + 2s·z·P(z) with P(z) ≈ (atanh(s)/s − 1)/z of degree 5
	// (Chebyshev-fitted; 3e-16 absolute in log m), by Estrin's scheme.
	g.k64("dLogOff", 0x00095f619980c433) // 1.0 − √½ in the bits: the exponent steps up at m = √2
	g.k64("dExpMask", 0xfff0000000000000)
	g.k64("dTwo52", 0x4330000000000000)  // 2^52
	g.k64("dTwo52K", 0x43300000000003ff) // 2^52 + 1023
	g.k64("dP0", 0x3fd55555555553b7)
	g.k64("dP1", 0x3fc9999999b8782a)
	g.k64("dP2", 0x3fc24924629ad2de)
	g.k64("dP3", 0x3fbc71fcdf2cce19)
	g.k64("dP4", 0x3fb7382abeba3779)
	g.k64("dP5", 0x3fb546d0746478fc)
	g.k64("qFour", 0x0000000000000004)

	// float32 exp: as the float64 one, Taylor to r^7.
	g.k32("fLog2e", 0x3fb8aa3b)
	g.k32("fMagic", 0x4b400000) // 1.5·2^23
	g.k32("fLn2Hi", 0x3f317218)
	g.k32("fLn2Lo", 0xb102e308)
	g.k32("fBias", 0x3f800000) // 127<<23
	g.k32("fC7", 0x39500d01)
	g.k32("fC6", 0x3ab60b61)
	g.k32("fC5", 0x3c088889)
	g.k32("fC4", 0x3d2aaaab)
	g.k32("fC3", 0x3e2aaaab)
	g.k32("fC2", 0x3f000000)
	g.k32("fOne", 0x3f800000)
	g.k32("fLo", 0xc2aeac4f) // -87.33654
	g.global("fNegInf", 4, 0xff800000)

	// Lane masks: the 32 bytes at tail64+32−8r hold r (< 4) 64-bit lanes
	// of ones, then zeros; the 16 or 32 bytes at tail32+32−4r hold r
	// 32-bit lanes of ones, then zeros.
	ones := ^uint64(0)
	g.global("tail64", 8, ones, ones, ones, ones, 0, 0, 0, 0)
	g.global("tail32", 8, ones, ones, ones, ones, 0, 0, 0, 0)
	// par64+8p: the 64-bit lanes i with p + i even.
	g.global("par64", 8, ones, 0, ones, 0, ones)
	g.global("iota64", 8, 0, 1, 2, 3)
}

// exp64 sets x = exp(x) for |x| <= 708 (other lanes: garbage); t, a, b,
// c, d are clobbered.
func (g *ctcGen) exp64(x, t, a, b, cc, d Op) {
	c := g.c
	c.VMOVAPD(g.k("dMagic"), t)
	c.VFMADD231PD(g.k("dLog2e"), x, t)
	c.VSUBPD(g.k("dMagic"), t, a)
	c.VFNMADD231PD(g.k("dLn2Hi"), a, x)
	c.VFNMADD231PD(g.k("dLn2Lo"), a, x)
	c.VMULPD(x, x, b)
	c.VMOVAPD(x, a)
	c.VADDPD(g.k("dOne"), a, a)
	c.VMOVAPD(g.k("dC3"), cc)
	c.VFMADD213PD(g.k("dC2"), x, cc)
	c.VMOVAPD(g.k("dC5"), d)
	c.VFMADD213PD(g.k("dC4"), x, d)
	c.VFMADD231PD(cc, b, a)
	c.VMOVAPD(g.k("dC7"), cc)
	c.VFMADD213PD(g.k("dC6"), x, cc)
	c.VFMADD231PD(cc, b, d)
	c.VMOVAPD(g.k("dC9"), cc)
	c.VFMADD213PD(g.k("dC8"), x, cc)
	c.VMULPD(b, b, x)
	c.VFMADD231PD(d, x, a)
	c.VMULPD(x, x, x)
	c.VFMADD231PD(cc, x, a)
	c.VPSLLQ(operand.U8(52), t, t)
	c.VPADDQ(g.k("dBias"), t, t)
	c.VMULPD(t, a, x)
}

// log64 sets out = rm + log(y) for positive normal y (other lanes:
// garbage); y, a, b, c, d, e are clobbered.
func (g *ctcGen) log64(y, out, a, b, cc, d, e, rm Op) {
	c := g.c
	c.VPADDQ(g.k("dLogOff"), y, a)
	c.VPSRLQ(operand.U8(52), a, b)
	c.VPOR(g.k("dTwo52"), b, b)
	c.VSUBPD(g.k("dTwo52K"), b, b)
	c.VMOVAPD(rm, e)
	c.VFMADD231PD(g.k("dLn2Hi"), b, e)
	c.VFMADD231PD(g.k("dLn2Lo"), b, e)
	c.VPAND(g.k("dExpMask"), a, a)
	c.VPSUBQ(a, y, y)
	c.VPADDQ(g.k("dBias"), y, y)
	c.VSUBPD(g.k("dOne"), y, a)
	c.VADDPD(g.k("dOne"), y, y)
	c.VDIVPD(y, a, y)
	c.VMULPD(y, y, a)
	c.VADDPD(y, y, y)
	c.VMULPD(a, y, b)
	c.VMOVAPD(g.k("dP1"), out)
	c.VFMADD213PD(g.k("dP0"), a, out)
	c.VMOVAPD(g.k("dP3"), cc)
	c.VFMADD213PD(g.k("dP2"), a, cc)
	c.VMOVAPD(g.k("dP5"), d)
	c.VFMADD213PD(g.k("dP4"), a, d)
	c.VMULPD(a, a, a)
	c.VFMADD231PD(cc, a, out)
	c.VMULPD(a, a, a)
	c.VFMADD231PD(d, a, out)
	c.VFMADD213PD(y, b, out)
	c.VADDPD(e, out, out)
}

// exp32 sets x = exp(x) for x in [−87.33, 88] (other lanes: garbage, NaN
// for NaN).
func (g *ctcGen) exp32(x, t, p Op) {
	c := g.c
	c.VMOVAPS(g.k("fMagic"), t)
	c.VFMADD231PS(g.k("fLog2e"), x, t)
	c.VSUBPS(g.k("fMagic"), t, p)
	c.VFNMADD231PS(g.k("fLn2Hi"), p, x)
	c.VFNMADD231PS(g.k("fLn2Lo"), p, x)
	c.VMOVAPS(g.k("fC7"), p)
	for _, k := range []string{"fC6", "fC5", "fC4", "fC3", "fC2", "fOne", "fOne"} {
		c.VFMADD213PS(g.k(k), x, p)
	}
	c.VPSLLD(operand.U8(23), t, t)
	c.VPADDD(g.k("fBias"), t, t)
	c.VMULPS(t, p, x)
}

// hmax sets X0 = the largest of the four lanes of Y(i).
func (g *ctcGen) hmax(i int) {
	c := g.c
	c.VEXTRACTF128(operand.U8(1), Y(i), reg.X0)
	c.VMAXPD(reg.X0, X(i), reg.X0)
	c.VPERMILPD(operand.U8(1), reg.X0, reg.X1)
	c.VMAXSD(reg.X1, reg.X0, reg.X0)
}

// hsum sets X0 = the sum of the four lanes of Y(i), (0+2)+(1+3).
func (g *ctcGen) hsum(i int) {
	c := g.c
	c.VEXTRACTF128(operand.U8(1), Y(i), reg.X0)
	c.VADDPD(reg.X0, X(i), reg.X0)
	c.VPERMILPD(operand.U8(1), reg.X0, reg.X1)
	c.VADDSD(reg.X1, reg.X0, reg.X0)
}

// tailLen sets BX = n − i (CX − AX) and jumps to done where it is 0.
func (g *ctcGen) tailLen(done string) {
	g.c.MOVQ(reg.RCX, reg.RBX)
	g.c.SUBQ(reg.RAX, reg.RBX)
	g.c.JE(operand.LabelRef(done))
}

// tailMask loads into v the mask of the BX (1 to 3, or 1 to 7) lanes
// left, from table (tail64 with shift 3, tail32 with shift 2), by way of
// R8.
func (g *ctcGen) tailMask(table string, shift uint8, v Op) {
	c := g.c
	c.LEAQ(g.k(table).Offset(32), reg.R8)
	c.SHLQ(operand.U8(shift), reg.RBX)
	c.SUBQ(reg.RBX, reg.R8)
	c.VMOVUPD(m(reg.R8, 0), v)
}

// tailMasks: BX = n − i (1 to 3) in; Y7, X6 the lanes' masks, R11 and R10
// their addresses.
func (g *ctcGen) tailMasks() {
	c := g.c
	c.LEAQ(g.k("tail64").Offset(32), reg.R11)
	c.LEAQ(g.k("tail32").Offset(32), reg.R10)
	c.SHLQ(operand.U8(2), reg.RBX)
	c.SUBQ(reg.RBX, reg.R10)
	c.SHLQ(operand.U8(1), reg.RBX)
	c.SUBQ(reg.RBX, reg.R11)
	c.VMOVUPD(m(reg.R11, 0), reg.Y7)
	c.VMOVUPS(m(reg.R10, 0), reg.X6)
}

// winExp: Y0 = w − ref in, exp out (0 for −Inf); Y9 &= lanes with
// |w − ref| <= 690 or w − ref = −Inf, Y10 &= lanes with w < +Inf (not
// NaN). Y15 ref, Y14 abs mask, Y13 690, Y12 −Inf.
func (g *ctcGen) winExp() {
	c := g.c
	c.VSUBPD(reg.Y15, reg.Y0, reg.Y0)
	c.VCMPPD(operand.U8(0x11), g.k("dPosInf"), reg.Y0, reg.Y11)
	c.VANDPD(reg.Y11, reg.Y10, reg.Y10)
	c.VANDPD(reg.Y14, reg.Y0, reg.Y1)
	c.VCMPPD(operand.U8(0x12), reg.Y13, reg.Y1, reg.Y2)
	c.VCMPPD(operand.U8(0x00), reg.Y12, reg.Y0, reg.Y3)
	c.VORPD(reg.Y2, reg.Y3, reg.Y3)
	c.VANDPD(reg.Y3, reg.Y9, reg.Y9)
	g.exp64(reg.Y0, reg.Y1, reg.Y3, reg.Y4, reg.Y6, reg.Y7)
	c.VANDPD(reg.Y2, reg.Y0, reg.Y0)
}

func (g *ctcGen) expAVX() {
	c := g.c
	text(c, "ctcExpAVX", "func(e, w *float64, n int, ref float64) (ok, fin bool)")
	c.Load(c.Param("e"), reg.RDI)
	c.Load(c.Param("w"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.VBROADCASTSD(addr(c.Param("ref")), reg.Y15)
	c.VMOVUPD(g.k("dAbs"), reg.Y14)
	c.VMOVUPD(g.k("dSpread"), reg.Y13)
	c.VMOVUPD(g.k("dNegInf"), reg.Y12)
	c.VPCMPEQQ(reg.Y9, reg.Y9, reg.Y9)
	c.VPCMPEQQ(reg.Y10, reg.Y10, reg.Y10)
	c.XORQ(reg.RAX, reg.RAX)
	c.MOVQ(reg.RCX, reg.RDX)
	c.SUBQ(operand.U8(4), reg.RDX)
	g.pcalign()
	c.Label("expLoop")
	c.CMPQ(reg.RAX, reg.RDX)
	c.JG(operand.LabelRef("expTail"))
	c.VMOVUPD(mi(reg.RSI, reg.RAX, 8, 0), reg.Y0)
	g.winExp()
	c.VMOVUPD(reg.Y0, mi(reg.RDI, reg.RAX, 8, 0))
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("expLoop"))
	c.Label("expTail")
	g.tailLen("expDone")
	g.tailMask("tail64", 3, reg.Y5)
	c.VMASKMOVPD(mi(reg.RSI, reg.RAX, 8, 0), reg.Y5, reg.Y0)
	c.VBLENDVPD(reg.Y5, reg.Y0, reg.Y12, reg.Y0)
	g.winExp()
	c.VMOVUPD(reg.Y0, mi(reg.RDI, reg.RAX, 8, 0))
	c.Label("expDone")
	c.VMOVMSKPD(reg.Y9, reg.EBX)
	c.CMPQ(reg.RBX, operand.U8(15))
	c.SETEQ(addr(c.Return("ok")))
	c.VMOVMSKPD(reg.Y10, reg.EBX)
	c.CMPQ(reg.RBX, operand.U8(15))
	c.SETEQ(addr(c.Return("fin")))
	c.VZEROUPPER()
	c.RET()
}

// lpGather sets dst = float64(x[cls[i..i+3]]) − sh (DX = x) for the lanes
// set in the 32-bit mask mk (cleared), idx the indices; dst is an X
// register, dsty its Y.
func (g *ctcGen) lpGather(mk, idx, dst, dsty, sh Op) {
	c := g.c
	c.VGATHERDPS(mk, operand.Mem{Base: reg.RDX, Index: idx.(reg.Register), Scale: 4}, dst)
	c.VCVTPS2PD(dst, dsty)
	c.VSUBPD(sh, dsty, dsty)
}

// alphaOut: Y0 = r in; v = lp + r stored in cs (R8) and os (R9), Y15 =
// max(Y15, v). With tail, the same for the lanes of Y7 (X6).
func (g *ctcGen) alphaOut(tail bool) {
	c := g.c
	if tail {
		c.VPMASKMOVD(mi(reg.R12, reg.RAX, 4, 0), reg.X6, reg.X5)
		c.VMOVDQA(reg.X6, reg.X8)
		c.VXORPS(reg.X9, reg.X9, reg.X9)
		g.lpGather(reg.X8, reg.X5, reg.X9, reg.Y9, reg.Y11)
		c.VADDPD(reg.Y9, reg.Y0, reg.Y0)
		c.VMASKMOVPD(reg.Y0, reg.Y7, mi(reg.R8, reg.RAX, 8, 0))
		c.VCVTPD2PSY(reg.Y0, reg.X1)
		c.VMASKMOVPS(reg.X1, reg.X6, mi(reg.R9, reg.RAX, 4, 0))
		c.VBLENDVPD(reg.Y7, reg.Y0, reg.Y12, reg.Y0)
		c.VMAXPD(reg.Y15, reg.Y0, reg.Y15)
		return
	}
	c.VMOVDQU(mi(reg.R12, reg.RAX, 4, 0), reg.X5)
	c.VPCMPEQD(reg.X7, reg.X7, reg.X7)
	g.lpGather(reg.X7, reg.X5, reg.X6, reg.Y6, reg.Y11)
	c.VADDPD(reg.Y6, reg.Y0, reg.Y0)
	c.VMOVUPD(reg.Y0, mi(reg.R8, reg.RAX, 8, 0))
	c.VCVTPD2PSY(reg.Y0, reg.X1)
	c.VMOVUPS(reg.X1, mi(reg.R9, reg.RAX, 4, 0))
	c.VMAXPD(reg.Y15, reg.Y0, reg.Y15)
}

// stepArgs loads the arguments common to the four step loops: w (e) in
// DI, sk in SI, x in DX, cls in R12 (forward) or R13 (backward), cs in R8,
// os in R9, n in CX; Y12 = −Inf, Y13 = 0, Y15 = −Inf; AX = 0, R10 = n − 4.
// first is the name of the window argument.
func (g *ctcGen) stepArgs(first string, beta bool) {
	c := g.c
	c.Load(c.Param(first), reg.RDI)
	c.Load(c.Param("sk"), reg.RSI)
	c.Load(c.Param("x"), reg.RDX)
	cls := reg.R12
	if beta {
		cls = reg.R13
	}
	c.Load(c.Param("cls"), cls)
	c.Load(c.Param("cs"), reg.R8)
	c.Load(c.Param("os"), reg.R9)
	if beta {
		c.Load(c.Param("gam"), reg.R12)
	}
	c.Load(c.Param("n"), reg.RCX)
}

// alphaHead loads the forward loops' arguments; rm is the name of the
// argument that goes to Y14.
func (g *ctcGen) alphaHead(first, rm string) {
	c := g.c
	g.stepArgs(first, false)
	c.VBROADCASTSD(addr(c.Param("sh")), reg.Y11)
	c.VBROADCASTSD(addr(c.Param(rm)), reg.Y14)
	c.VXORPD(reg.Y13, reg.Y13, reg.Y13)
	c.VMOVUPD(g.k("dNegInf"), reg.Y12)
	c.VMOVUPD(reg.Y12, reg.Y15)
	c.XORQ(reg.RAX, reg.RAX)
	c.MOVQ(reg.RCX, reg.R10)
	c.SUBQ(operand.U8(4), reg.R10)
	g.pcalign()
}

// betaHead loads the backward loops' arguments (Y14: the argument rm).
func (g *ctcGen) betaHead(first, rm string) {
	c := g.c
	g.stepArgs(first, true)
	c.VPBROADCASTQ(addr(c.Param("nga")), reg.Y9)
	c.VBROADCASTSD(addr(c.Param("sh")), reg.Y8)
	c.VBROADCASTSD(addr(c.Param(rm)), reg.Y14)
	c.VXORPD(reg.Y13, reg.Y13, reg.Y13)
	c.VMOVUPD(g.k("dNegInf"), reg.Y12)
	c.VMOVUPD(reg.Y12, reg.Y15)
	c.VMOVUPD(reg.Y12, reg.Y11)
	c.VXORPD(reg.Y10, reg.Y10, reg.Y10)
	c.XORQ(reg.RAX, reg.RAX)
	c.MOVQ(reg.RCX, reg.R10)
	c.SUBQ(operand.U8(4), reg.R10)
	g.pcalign()
}

// combIn sets Y3 = sk·w[i+a] + w[i+b] + w[i+cc] (sk, w[i+a] masked by
// Y7 in the tail), Y0 = rm + log Y3, −Inf where Y3 = 0 (mask in Y5).
// logRegs are log64's scratch d and e.
func (g *ctcGen) combIn(a, b, cc int, tail bool, d, e Op) {
	c := g.c
	c.VMOVUPD(mi(reg.RDI, reg.RAX, 8, b), reg.Y1)
	c.VADDPD(mi(reg.RDI, reg.RAX, 8, cc), reg.Y1, reg.Y3)
	if tail {
		c.VMASKMOVPD(mi(reg.RSI, reg.RAX, 8, 0), reg.Y7, reg.Y4)
	} else {
		c.VMOVUPD(mi(reg.RSI, reg.RAX, 8, 0), reg.Y4)
	}
	c.VFMADD231PD(mi(reg.RDI, reg.RAX, 8, a), reg.Y4, reg.Y3)
	c.VCMPPD(operand.U8(0x00), reg.Y13, reg.Y3, reg.Y5)
	g.log64(reg.Y3, reg.Y0, reg.Y1, reg.Y2, reg.Y4, d, e, reg.Y14)
}

func (g *ctcGen) alphaComb() {
	c := g.c
	text(c, "ctcAlphaCombAVX", "func(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, rm float64) (mx float64)")
	g.alphaHead("e", "rm")
	c.Label("alphaLoop")
	c.CMPQ(reg.RAX, reg.R10)
	c.JG(operand.LabelRef("alphaTail"))
	g.combIn(0, 8, 16, false, reg.Y9, reg.Y10)
	c.VBLENDVPD(reg.Y5, reg.Y12, reg.Y0, reg.Y0)
	g.alphaOut(false)
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("alphaLoop"))
	c.Label("alphaTail")
	g.tailLen("alphaDone")
	g.tailMasks()
	g.combIn(0, 8, 16, true, reg.Y9, reg.Y10)
	c.VBLENDVPD(reg.Y5, reg.Y12, reg.Y0, reg.Y0)
	g.alphaOut(true)
	c.Label("alphaDone")
	g.hmax(15)
	c.VMOVSD(reg.X0, addr(c.Return("mx")))
	c.VZEROUPPER()
	c.RET()
}

// lseTerm sets x = exp(max(x − mm, −708)).
func (g *ctcGen) lseTerm(x, mm, t, a, b, cc, d Op) {
	g.c.VSUBPD(mm, x, x)
	g.c.VMAXPD(g.k("dExpLo"), x, x)
	g.exp64(x, t, a, b, cc, d)
}

// lseIn sets, for the cells w[i+a] (where sk), w[i+b], w[i+cc]: Y5 = the
// cell's maximum, sum = Σ exp(w − Y5), then Y0 = log(sum) + Y5 − m. In
// the tail the loads are masked by Y7, reloaded from R11 before each
// when reload (Y7 is the last exp's scratch there), and sum is in Y9
// (Y6 with reload).
func (g *ctcGen) lseIn(a, b, cc int, tail, reload bool) {
	c := g.c
	load := func(disp int, dst Op) {
		if tail {
			c.VMASKMOVPD(mi(reg.RDI, reg.RAX, 8, disp), reg.Y7, dst)
		} else {
			c.VMOVUPD(mi(reg.RDI, reg.RAX, 8, disp), dst)
		}
	}
	sum, s7 := reg.Y6, reg.Y7
	if tail && !reload {
		sum, s7 = reg.Y9, reg.Y8
	}
	load(a, reg.Y0)
	if tail {
		c.VMASKMOVPD(mi(reg.RSI, reg.RAX, 8, 0), reg.Y7, reg.Y1)
		c.VCMPPD(operand.U8(0x00), reg.Y13, reg.Y1, reg.Y1)
	} else {
		c.VCMPPD(operand.U8(0x00), mi(reg.RSI, reg.RAX, 8, 0), reg.Y13, reg.Y1)
	}
	c.VBLENDVPD(reg.Y1, reg.Y12, reg.Y0, reg.Y0)
	if tail {
		load(b, reg.Y2)
		c.VMAXPD(reg.Y2, reg.Y0, reg.Y5)
		load(cc, reg.Y2)
		c.VMAXPD(reg.Y2, reg.Y5, reg.Y5)
	} else {
		c.VMAXPD(mi(reg.RDI, reg.RAX, 8, b), reg.Y0, reg.Y5)
		c.VMAXPD(mi(reg.RDI, reg.RAX, 8, cc), reg.Y5, reg.Y5)
	}
	g.lseTerm(reg.Y0, reg.Y5, reg.Y1, reg.Y2, reg.Y3, reg.Y4, s7)
	c.VMOVAPD(reg.Y0, sum)
	for _, disp := range []int{b, cc} {
		if reload {
			c.VMOVUPD(m(reg.R11, 0), reg.Y7)
		}
		load(disp, reg.Y0)
		g.lseTerm(reg.Y0, reg.Y5, reg.Y1, reg.Y2, reg.Y3, reg.Y4, s7)
		c.VADDPD(reg.Y0, sum, sum)
	}
	c.VSUBPD(reg.Y14, reg.Y5, reg.Y5)
	g.log64(sum, reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, s7, reg.Y5)
}

func (g *ctcGen) alphaLSE() {
	c := g.c
	text(c, "ctcAlphaLSEAVX", "func(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, n int, sh, m float64) (mx float64)")
	g.alphaHead("w", "m")
	c.Label("alseLoop")
	c.CMPQ(reg.RAX, reg.R10)
	c.JG(operand.LabelRef("alseTail"))
	g.lseIn(0, 8, 16, false, false)
	g.alphaOut(false)
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("alseLoop"))
	c.Label("alseTail")
	g.tailLen("alseDone")
	g.tailMasks()
	g.lseIn(0, 8, 16, true, false)
	g.alphaOut(true)
	c.Label("alseDone")
	g.hmax(15)
	c.VMOVSD(reg.X0, addr(c.Return("mx")))
	c.VZEROUPPER()
	c.RET()
}

// betaGam: Y0 = r, Y1 = w (alpha) in; Y1 = g = w + r out; updates Y11
// (largest g of the lanes below nga), Y10 (NaN g there), Y9 (nga − i, per
// lane).
func (g *ctcGen) betaGam() {
	c := g.c
	c.VADDPD(reg.Y0, reg.Y1, reg.Y1)
	c.VPCMPGTQ(g.k("iota64"), reg.Y9, reg.Y2)
	c.VPSUBQ(g.k("qFour"), reg.Y9, reg.Y9)
	c.VCMPPD(operand.U8(0x03), reg.Y1, reg.Y1, reg.Y4)
	c.VANDPD(reg.Y2, reg.Y4, reg.Y4)
	c.VORPD(reg.Y4, reg.Y10, reg.Y10)
	c.VBLENDVPD(reg.Y2, reg.Y1, reg.Y12, reg.Y4)
	c.VMAXPD(reg.Y11, reg.Y4, reg.Y11)
}

// betaOut: Y0 = r in; g = w + r (w from os, R9) stored in gam (R12) and
// taken into Y11/Y10 (betaGam), v = lp + r stored in cs (R8) and os,
// Y15 = max(Y15, v). With tail, the same for the lanes of Y7 (X6).
func (g *ctcGen) betaOut(tail bool) {
	c := g.c
	if tail {
		c.VMASKMOVPS(mi(reg.R9, reg.RAX, 4, 0), reg.X6, reg.X1)
		c.VCVTPS2PD(reg.X1, reg.Y1)
		g.betaGam()
		c.VMASKMOVPD(reg.Y1, reg.Y7, mi(reg.R12, reg.RAX, 8, 0))
		c.VPMASKMOVD(mi(reg.R13, reg.RAX, 4, 0), reg.X6, reg.X5)
		c.VMOVDQA(reg.X6, reg.X2)
		c.VXORPS(reg.X3, reg.X3, reg.X3)
		g.lpGather(reg.X2, reg.X5, reg.X3, reg.Y3, reg.Y8)
		c.VADDPD(reg.Y3, reg.Y0, reg.Y0)
		c.VMASKMOVPD(reg.Y0, reg.Y7, mi(reg.R8, reg.RAX, 8, 0))
		c.VCVTPD2PSY(reg.Y0, reg.X1)
		c.VMASKMOVPS(reg.X1, reg.X6, mi(reg.R9, reg.RAX, 4, 0))
		c.VBLENDVPD(reg.Y7, reg.Y0, reg.Y12, reg.Y0)
		c.VMAXPD(reg.Y15, reg.Y0, reg.Y15)
		return
	}
	c.VCVTPS2PD(mi(reg.R9, reg.RAX, 4, 0), reg.Y1)
	g.betaGam()
	c.VMOVUPD(reg.Y1, mi(reg.R12, reg.RAX, 8, 0))
	c.VMOVDQU(mi(reg.R13, reg.RAX, 4, 0), reg.X5)
	c.VPCMPEQD(reg.X2, reg.X2, reg.X2)
	g.lpGather(reg.X2, reg.X5, reg.X3, reg.Y3, reg.Y8)
	c.VADDPD(reg.Y3, reg.Y0, reg.Y0)
	c.VMOVUPD(reg.Y0, mi(reg.R8, reg.RAX, 8, 0))
	c.VCVTPD2PSY(reg.Y0, reg.X1)
	c.VMOVUPS(reg.X1, mi(reg.R9, reg.RAX, 4, 0))
	c.VMAXPD(reg.Y15, reg.Y0, reg.Y15)
}

// betaDone stores the results mx (Y15) and gmx (Y11, NaN if Y10 has a
// lane set).
func (g *ctcGen) betaDone() {
	c := g.c
	g.hmax(15)
	c.VMOVSD(reg.X0, addr(c.Return("mx")))
	g.hmax(11)
	c.VMOVSD(reg.X0, addr(c.Return("gmx")))
	c.VMOVMSKPD(reg.Y10, reg.EBX)
	c.MOVQ(operand.U64(0x7ff8000000000000), reg.R11)
	c.TESTQ(reg.RBX, reg.RBX)
	c.JE(operand.LabelRef("gmxOK"))
	c.MOVQ(reg.R11, addr(c.Return("gmx")))
	c.Label("gmxOK")
	c.VZEROUPPER()
	c.RET()
}

func (g *ctcGen) betaComb() {
	c := g.c
	text(c, "ctcBetaCombAVX", "func(e, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, rm float64) (mx, gmx float64)")
	g.betaHead("e", "rm")
	c.Label("betaLoop")
	c.CMPQ(reg.RAX, reg.R10)
	c.JG(operand.LabelRef("betaTail"))
	g.combIn(16, 0, 8, false, reg.Y6, reg.Y7)
	c.VBLENDVPD(reg.Y5, reg.Y12, reg.Y0, reg.Y0)
	g.betaOut(false)
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("betaLoop"))
	c.Label("betaTail")
	g.tailLen("betaDone")
	g.tailMasks()
	g.combIn(16, 0, 8, true, reg.Y6, reg.Y7)
	c.VMOVUPD(m(reg.R11, 0), reg.Y7)
	c.VMOVUPS(m(reg.R10, 0), reg.X6)
	c.VBLENDVPD(reg.Y5, reg.Y12, reg.Y0, reg.Y0)
	g.betaOut(true)
	c.Label("betaDone")
	g.betaDone()
}

func (g *ctcGen) betaLSE() {
	c := g.c
	text(c, "ctcBetaLSEAVX", "func(w, sk *float64, x *float32, cls *int32, cs *float64, os *float32, gam *float64, n, nga int, sh, m float64) (mx, gmx float64)")
	g.betaHead("w", "m")
	c.Label("blseLoop")
	c.CMPQ(reg.RAX, reg.R10)
	c.JG(operand.LabelRef("blseTail"))
	g.lseIn(16, 0, 8, false, false)
	g.betaOut(false)
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("blseLoop"))
	c.Label("blseTail")
	g.tailLen("blseDone")
	g.tailMasks()
	g.lseIn(16, 0, 8, true, true)
	c.VMOVUPD(m(reg.R11, 0), reg.Y7)
	c.VMOVUPS(m(reg.R10, 0), reg.X6)
	g.betaOut(true)
	c.Label("blseDone")
	g.betaDone()
}

func (g *ctcGen) occExp() {
	c := g.c
	text(c, "ctcOccExpAVX", "func(la *float64, n int, ref float64, par int) (sum, blank float64)")
	c.Load(c.Param("la"), reg.RDI)
	c.Load(c.Param("n"), reg.RCX)
	c.VBROADCASTSD(addr(c.Param("ref")), reg.Y15)
	c.Load(c.Param("par"), reg.RBX)
	c.ANDQ(operand.U8(1), reg.RBX)
	c.LEAQ(g.k("par64"), reg.R8)
	c.VMOVUPD(mi(reg.R8, reg.RBX, 8, 0), reg.Y12)
	c.VMOVUPD(g.k("dOccCut"), reg.Y14)
	c.VXORPD(reg.Y13, reg.Y13, reg.Y13)
	c.VXORPD(reg.Y11, reg.Y11, reg.Y11)
	c.XORQ(reg.RAX, reg.RAX)
	c.MOVQ(reg.RCX, reg.RDX)
	c.SUBQ(operand.U8(4), reg.RDX)
	g.pcalign()
	step := func(tail bool) {
		c.VSUBPD(reg.Y15, reg.Y0, reg.Y0)
		c.VCMPPD(operand.U8(0x1e), reg.Y14, reg.Y0, reg.Y2)
		if tail {
			c.VANDPD(reg.Y7, reg.Y2, reg.Y2)
		}
		g.exp64(reg.Y0, reg.Y1, reg.Y3, reg.Y4, reg.Y5, reg.Y6)
		c.VANDPD(reg.Y2, reg.Y0, reg.Y0)
		if tail {
			c.VMASKMOVPD(reg.Y0, reg.Y7, mi(reg.RDI, reg.RAX, 8, 0))
		} else {
			c.VMOVUPD(reg.Y0, mi(reg.RDI, reg.RAX, 8, 0))
		}
		c.VADDPD(reg.Y0, reg.Y13, reg.Y13)
		c.VANDPD(reg.Y12, reg.Y0, reg.Y0)
		c.VADDPD(reg.Y0, reg.Y11, reg.Y11)
	}
	c.Label("occLoop")
	c.CMPQ(reg.RAX, reg.RDX)
	c.JG(operand.LabelRef("occTail"))
	c.VMOVUPD(mi(reg.RDI, reg.RAX, 8, 0), reg.Y0)
	step(false)
	c.ADDQ(operand.U8(4), reg.RAX)
	c.JMP(operand.LabelRef("occLoop"))
	c.Label("occTail")
	g.tailLen("occDone")
	g.tailMask("tail64", 3, reg.Y7)
	c.VMASKMOVPD(mi(reg.RDI, reg.RAX, 8, 0), reg.Y7, reg.Y0)
	step(true)
	c.Label("occDone")
	g.hsum(13)
	c.VMOVSD(reg.X0, addr(c.Return("sum")))
	g.hsum(11)
	c.VMOVSD(reg.X0, addr(c.Return("blank")))
	c.VZEROUPPER()
	c.RET()
}

// lse8 sets Y12 |= the lanes of x above Y14; a += exp of x − Y15 in the
// low four lanes, b in the high four, the argument clamped below at Y13
// (NaN kept). xl is x's low half.
func (g *ctcGen) lse8(x, xl, t, p, a, b Op) {
	c := g.c
	c.VCMPPS(operand.U8(0x1e), reg.Y14, x, t)
	c.VORPS(t, reg.Y12, reg.Y12)
	c.VSUBPS(reg.Y15, x, x)
	c.VMAXPS(x, reg.Y13, x)
	g.exp32(x, t, p)
	c.VCVTPS2PD(xl, t)
	c.VEXTRACTF128(operand.U8(1), x, xl)
	c.VCVTPS2PD(xl, p)
	c.VADDPD(t, a, a)
	c.VADDPD(p, b, b)
}

// rows16 emits the head of a float32 row loop: 16 elements a step (body16
// with AX the index), then 8 (body8), then the tail from label tail.
func (g *ctcGen) rows16(l16, l8, tail string, body16, body8 func()) {
	c := g.c
	c.XORQ(reg.RAX, reg.RAX)
	c.MOVQ(reg.RCX, reg.RDX)
	c.SUBQ(operand.U8(16), reg.RDX)
	g.pcalign()
	c.Label(l16)
	c.CMPQ(reg.RAX, reg.RDX)
	c.JG(operand.LabelRef(l8))
	body16()
	c.ADDQ(operand.U8(16), reg.RAX)
	c.JMP(operand.LabelRef(l16))
	c.Label(l8)
	c.ADDQ(operand.U8(8), reg.RDX)
	c.CMPQ(reg.RAX, reg.RDX)
	c.JG(operand.LabelRef(tail))
	body8()
	c.ADDQ(operand.U8(8), reg.RAX)
	c.Label(tail)
}

func (g *ctcGen) lseSum32() {
	c := g.c
	text(c, "lseSum32AVX", "func(x *float32, n int, ref, hi float32) (sum float64, over bool)")
	c.Load(c.Param("x"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.VBROADCASTSS(addr(c.Param("ref")), reg.Y15)
	c.VBROADCASTSS(addr(c.Param("hi")), reg.Y14)
	c.VMOVUPS(g.k("fLo"), reg.Y13)
	c.VXORPS(reg.Y12, reg.Y12, reg.Y12)
	for i := 8; i < 12; i++ {
		c.VXORPD(Y(i), Y(i), Y(i))
	}
	g.rows16("lse16", "lse8", "lseTail",
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 32), reg.Y4)
			g.lse8(reg.Y0, reg.X0, reg.Y1, reg.Y2, reg.Y8, reg.Y9)
			g.lse8(reg.Y4, reg.X4, reg.Y5, reg.Y6, reg.Y10, reg.Y11)
		},
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			g.lse8(reg.Y0, reg.X0, reg.Y1, reg.Y2, reg.Y8, reg.Y9)
		})
	g.tailLen("lseDone")
	c.LEAQ(g.k("tail32").Offset(32), reg.R8)
	c.SHLQ(operand.U8(2), reg.RBX)
	c.SUBQ(reg.RBX, reg.R8)
	c.VMOVUPS(m(reg.R8, 0), reg.Y7)
	c.VMASKMOVPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y7, reg.Y0)
	c.VCMPPS(operand.U8(0x1e), reg.Y14, reg.Y0, reg.Y1)
	c.VANDPS(reg.Y7, reg.Y1, reg.Y1)
	c.VORPS(reg.Y1, reg.Y12, reg.Y12)
	c.VSUBPS(reg.Y15, reg.Y0, reg.Y0)
	c.VMAXPS(reg.Y0, reg.Y13, reg.Y0)
	g.exp32(reg.Y0, reg.Y1, reg.Y2)
	c.VANDPS(reg.Y7, reg.Y0, reg.Y0)
	c.VCVTPS2PD(reg.X0, reg.Y1)
	c.VEXTRACTF128(operand.U8(1), reg.Y0, reg.X0)
	c.VCVTPS2PD(reg.X0, reg.Y2)
	c.VADDPD(reg.Y1, reg.Y10, reg.Y10)
	c.VADDPD(reg.Y2, reg.Y11, reg.Y11)
	c.Label("lseDone")
	c.VADDPD(reg.Y9, reg.Y8, reg.Y8)
	c.VADDPD(reg.Y11, reg.Y10, reg.Y10)
	c.VADDPD(reg.Y10, reg.Y8, reg.Y8)
	g.hsum(8)
	c.VMOVSD(reg.X0, addr(c.Return("sum")))
	c.VMOVMSKPS(reg.Y12, reg.EBX)
	c.TESTQ(reg.RBX, reg.RBX)
	c.SETNE(addr(c.Return("over")))
	c.VZEROUPPER()
	c.RET()
}

// smx8 sets x = Y14·exp(x − Y15) where x − Y15 >= Y13, else 0.
func (g *ctcGen) smx8(x, mk, t, p Op) {
	c := g.c
	c.VSUBPS(reg.Y15, x, x)
	c.VCMPPS(operand.U8(0x1d), reg.Y13, x, mk)
	g.exp32(x, t, p)
	c.VMULPS(reg.Y14, x, x)
	c.VANDPS(mk, x, x)
}

func (g *ctcGen) softmaxLSE32() {
	c := g.c
	text(c, "softmaxLSE32AVX", "func(dst, x *float32, n int, sh, scale float32)")
	c.Load(c.Param("dst"), reg.RDI)
	c.Load(c.Param("x"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.VBROADCASTSS(addr(c.Param("sh")), reg.Y15)
	c.VBROADCASTSS(addr(c.Param("scale")), reg.Y14)
	c.VMOVUPS(g.k("fLo"), reg.Y13)
	g.rows16("smx16", "smx8", "smxTail",
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 32), reg.Y4)
			g.smx8(reg.Y0, reg.Y1, reg.Y2, reg.Y3)
			g.smx8(reg.Y4, reg.Y5, reg.Y6, reg.Y7)
			c.VMOVUPS(reg.Y0, mi(reg.RDI, reg.RAX, 4, 0))
			c.VMOVUPS(reg.Y4, mi(reg.RDI, reg.RAX, 4, 32))
		},
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			g.smx8(reg.Y0, reg.Y1, reg.Y2, reg.Y3)
			c.VMOVUPS(reg.Y0, mi(reg.RDI, reg.RAX, 4, 0))
		})
	g.tailLen("smxDone")
	c.LEAQ(g.k("tail32").Offset(32), reg.R8)
	c.SHLQ(operand.U8(2), reg.RBX)
	c.SUBQ(reg.RBX, reg.R8)
	c.VMOVUPS(m(reg.R8, 0), reg.Y8)
	c.VMASKMOVPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y8, reg.Y0)
	g.smx8(reg.Y0, reg.Y1, reg.Y2, reg.Y3)
	c.VMASKMOVPS(reg.Y0, reg.Y8, mi(reg.RDI, reg.RAX, 4, 0))
	c.Label("smxDone")
	c.VZEROUPPER()
	c.RET()
}

func (g *ctcGen) rowMax32() {
	c := g.c
	text(c, "rowMax32AVX", "func(x *float32, n int) (mx float32)")
	c.Load(c.Param("x"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.VBROADCASTSS(g.k("fNegInf"), reg.Y8)
	c.VMOVUPS(reg.Y8, reg.Y9)
	g.rows16("max16", "max8", "maxTail",
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 32), reg.Y1)
			c.Comment("max(x, acc) is acc where x is NaN")
			c.VMAXPS(reg.Y8, reg.Y0, reg.Y8)
			c.VMAXPS(reg.Y9, reg.Y1, reg.Y9)
		},
		func() {
			c.VMOVUPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y0)
			c.VMAXPS(reg.Y8, reg.Y0, reg.Y8)
		})
	g.tailLen("maxDone")
	c.LEAQ(g.k("tail32").Offset(32), reg.R8)
	c.SHLQ(operand.U8(2), reg.RBX)
	c.SUBQ(reg.RBX, reg.R8)
	c.VMOVUPS(m(reg.R8, 0), reg.Y7)
	c.VMASKMOVPS(mi(reg.RSI, reg.RAX, 4, 0), reg.Y7, reg.Y0)
	c.Comment("lanes past n: the running maximum")
	c.VBLENDVPS(reg.Y7, reg.Y0, reg.Y8, reg.Y0)
	c.VMAXPS(reg.Y8, reg.Y0, reg.Y8)
	c.Label("maxDone")
	c.VMAXPS(reg.Y9, reg.Y8, reg.Y8)
	c.VEXTRACTF128(operand.U8(1), reg.Y8, reg.X0)
	c.VMAXPS(reg.X0, reg.X8, reg.X0)
	c.VPERMILPS(operand.U8(0x4e), reg.X0, reg.X1)
	c.VMAXPS(reg.X1, reg.X0, reg.X0)
	c.VPERMILPS(operand.U8(0xb1), reg.X0, reg.X1)
	c.VMAXPS(reg.X1, reg.X0, reg.X0)
	c.VMOVSS(reg.X0, addr(c.Return("mx")))
	c.VZEROUPPER()
	c.RET()
}

// text opens the function name with signature sig (no doc: the Go
// declarations in ctc_amd64.go say what each computes).
func text(c *build.Context, name, sig string) {
	vec{c: c}.text(name, sig)
}

// ctc writes ctc_amd64.s.
func ctc(c *build.Context) {
	g := &ctcGen{c: c, data: map[string]operand.Mem{}}
	g.constants()
	g.expAVX()
	g.alphaComb()
	g.alphaLSE()
	g.betaComb()
	g.betaLSE()
	g.occExp()
	g.lseSum32()
	g.softmaxLSE32()
	g.rowMax32()
}
