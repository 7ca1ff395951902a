package main

import (
	"log"

	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// gaussian is pwGaussian, in both widths.
func (v vec) gaussian() {
	c, r := v.c, v.r
	v.pwLoop("pwGaussian", 14, []string{
		"a = var, p1 = ε, p2 = ½log 2π if full",
		"else 0; v = max(a, ε), q = d/v: ½(log v + dq) + p2, gs·q, −gs·q,",
		"gs·½(1 − dq)/v."}, nil,
		func() (Op, Op, Op) {
			c.VMOVUPS(at(rDX), r(2))
			c.VMAXPS(r(2), r(13), r(2))
			c.VSUBPS(r(1), r(0), r(3))
			c.VDIVPS(r(2), r(3), r(4))
			v.mov(r(2), r(5))
			v.log(r(5), r(6), r(7), r(8), r(9))
			c.VFMADD231PS(r(4), r(3), r(5))
			v.mulK("HALF", r(5), r(5))
			c.VADDPS(r(12), r(5), r(5))
			v.loadK("ONE", r(6))
			c.VFNMADD231PS(r(4), r(3), r(6))
			v.mulK("HALF", r(6), r(6))
			c.VDIVPS(r(2), r(6), r(6))
			v.neg(r(4), r(7))
			v.scale2(r(4), r(7))
			c.VMULPS(r(15), r(6), r(6))
			return r(5), r(4), r(7)
		},
		func() { c.VMOVUPS(r(6), at(reg.R10)) })
}

// sumPD adds the float64 values of the lanes of x (float32) to the lanes
// of a0 (the low half of x) and a1 (the high half), with t0 and t1 as
// scratch.
func (v vec) sumPD(x, a0, a1, t0, t1 reg.VecPhysical) {
	c := v.c
	if v.z {
		c.VCVTPS2PD(x.AsY(), t0)
		c.VEXTRACTF64X4(operand.U8(1), x, t1.AsY())
		c.VCVTPS2PD(t1.AsY(), t1)
	} else {
		c.VCVTPS2PD(x.AsX(), t0)
		c.VEXTRACTF128(operand.U8(1), x, t1.AsX())
		c.VCVTPS2PD(t1.AsX(), t1)
	}
	c.VADDPD(t0, a0, a0)
	c.VADDPD(t1, a1, a1)
}

// reducePD adds the lanes of a1 to those of a0 and the lanes of a0 into
// one float64 stored to dst: with 8 lanes, j and j+4 first; then j and
// j+2, then the two.
func (v vec) reducePD(a0, a1 reg.VecPhysical, dst Op) {
	c := v.c
	c.VADDPD(a1, a0, a0)
	if v.z {
		c.VEXTRACTF64X4(operand.U8(1), a0, a1.AsY())
		c.VADDPD(a1.AsY(), a0.AsY(), a0.AsY())
	}
	c.VEXTRACTF128(operand.U8(1), a0.AsY(), a1.AsX())
	c.VADDPD(a1.AsX(), a0.AsX(), a0.AsX())
	c.VHADDPD(a0.AsX(), a0.AsX(), a0.AsX())
	c.VMOVSD(a0.AsX(), dst)
}

// expShiftSum is expShiftSum in both widths.
func (v vec) expShiftSum() {
	c, r := v.c, v.r
	v.text("expShiftSum"+v.suffix(), "func(dst, src *float32, n int, m float32, k *[pwNConst][8]uint32) (s float64)",
		"dst[i] = exp(src[i] − m) for i < n (n a multiple of the lane count; no",
		"stores when dst is nil), s = the sum of those values: lane j adds the",
		"i ≡ j mod lanes in float64, then lanes j and j+8 (16 lanes), j and j+4,",
		"and (0+2)+(1+3) as pairs.")
	c.Load(c.Param("dst"), reg.R11)
	c.Load(c.Param("src"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.SHLQ(operand.U8(2), reg.RCX)
	c.VBROADCASTSS(addr(c.Param("m")), r(14))
	c.Load(c.Param("k"), reg.R12)
	if v.z {
		v.zero(r(10))
		v.zero(r(11))
	} else {
		c.VXORPD(r(10), r(10), r(10))
		c.VXORPD(r(11), r(11), r(11))
	}
	c.XORQ(reg.RAX, reg.RAX)
	c.Label("loop")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), r(0))
	c.VSUBPS(r(14), r(0), r(0))
	v.exp(r(0), r(4), r(5), r(6), r(7))
	c.TESTQ(reg.R11, reg.R11)
	c.JZ(operand.LabelRef("sum"))
	c.VMOVUPS(r(0), at(reg.R11))
	c.Label("sum")
	v.sumPD(v.r(0), v.r(10), v.r(11), v.r(1), v.r(2))
	c.ADDQ(operand.U8(v.step()), reg.RAX)
	c.JMP(operand.LabelRef("loop"))
	c.Label("done")
	v.reducePD(v.r(10), v.r(11), addr(c.Return("s")))
	c.VZEROUPPER()
	c.RET()
}

// softmaxBwdLog is softmaxBwdLog in both widths.
func (v vec) softmaxBwdLog() {
	c, r := v.c, v.r
	v.text("softmaxBwdLog"+v.suffix(), "func(dx, y, dy *float32, n int, s, invTau float32, k *[pwNConst][8]uint32)",
		"The backward of log_softmax for n elements (n a multiple of the lane",
		"count): dx = invTau·(dy − exp(y)·s), s being the row's Σ dy.")
	c.Load(c.Param("dx"), reg.R11)
	c.Load(c.Param("y"), reg.RSI)
	c.Load(c.Param("dy"), reg.RDI)
	c.Load(c.Param("n"), reg.RCX)
	c.SHLQ(operand.U8(2), reg.RCX)
	c.VBROADCASTSS(addr(c.Param("s")), r(14))
	c.VBROADCASTSS(addr(c.Param("invTau")), r(13))
	c.Load(c.Param("k"), reg.R12)
	c.XORQ(reg.RAX, reg.RAX)
	c.Label("loop")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), r(0))
	v.exp(r(0), r(4), r(5), r(6), r(7))
	c.VMULPS(r(14), r(0), r(0))
	c.VMOVUPS(at(reg.RDI), r(1))
	c.VSUBPS(r(0), r(1), r(1))
	c.VMULPS(r(13), r(1), r(1))
	c.VMOVUPS(r(1), at(reg.R11))
	c.ADDQ(operand.U8(v.step()), reg.RAX)
	c.JMP(operand.LabelRef("loop"))
	c.Label("done")
	c.VZEROUPPER()
	c.RET()
}

// max8 is maxAVX2.
func (v vec) max8() {
	c := v.c
	v.text("maxAVX2", "func(src *float32, n int) (m float32)",
		"m = the largest src[i], i < n (n a positive multiple of 8), skipping",
		"NaN as rowMax's lanes do (−Inf where every element is NaN or −Inf).")
	c.Load(c.Param("src"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.SHLQ(operand.U8(2), reg.RCX)
	c.MOVL(operand.U32(0xff800000), reg.EAX)
	c.MOVD(reg.EAX, reg.X0)
	c.VBROADCASTSS(reg.X0, reg.Y0)
	c.VMOVUPS(reg.Y0, reg.Y1)
	c.XORQ(reg.RAX, reg.RAX)
	c.CMPQ(reg.RCX, operand.U8(64))
	c.JB(operand.LabelRef("tail"))
	c.Label("loop2")
	c.VMOVUPS(at(reg.RSI), reg.Y2)
	c.VMOVUPS(operand.Mem{Base: reg.RSI, Index: reg.RAX, Scale: 1, Disp: 32}, reg.Y3)
	c.VMAXPS(reg.Y0, reg.Y2, reg.Y0)
	c.VMAXPS(reg.Y1, reg.Y3, reg.Y1)
	c.ADDQ(operand.U8(64), reg.RAX)
	c.LEAQ(operand.Mem{Base: reg.RAX, Disp: 64}, reg.RDX)
	c.CMPQ(reg.RDX, reg.RCX)
	c.JBE(operand.LabelRef("loop2"))
	c.Label("tail")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), reg.Y2)
	c.VMAXPS(reg.Y0, reg.Y2, reg.Y0)
	c.Label("done")
	c.VMAXPS(reg.Y1, reg.Y0, reg.Y0)
	c.VEXTRACTF128(operand.U8(1), reg.Y0, reg.X1)
	c.VMAXPS(reg.X1, reg.X0, reg.X0)
	c.VPERMILPS(operand.U8(0x4e), reg.X0, reg.X1)
	c.VMAXPS(reg.X1, reg.X0, reg.X0)
	c.VPERMILPS(operand.U8(0xb1), reg.X0, reg.X1)
	c.VMAXPS(reg.X1, reg.X0, reg.X0)
	c.VMOVSS(reg.X0, addr(c.Return("m")))
	c.VZEROUPPER()
	c.RET()
}

// ceProbRow16 is ceProbRowAVX512.
func (v vec) ceProbRow16() {
	c := v.c
	v.text("ceProbRowAVX512", "func(a *ceRowArgs)",
		"One row of probability-target cross-entropy (ceProbRow32) for n",
		"elements, n a multiple of 16: with d = x − m, nl = logS − d and",
		"wy = kf·y + uf, grad = gf·(exp(d)·r − wy), gt = gk·nl (where gt is not",
		"nil), and the sum of wy·nl (float32 products, added in float64 as",
		"expShiftSumAVX512 adds) to sum.")
	c.Load(c.Param("a"), reg.RBX)
	for i, r := range []reg.Register{reg.RSI, reg.RDI, reg.R8, reg.R9, reg.R12, reg.RCX} {
		c.MOVQ(operand.Mem{Base: reg.RBX, Disp: 8 * i}, r)
	}
	c.SHLQ(operand.U8(2), reg.RCX)
	for i, z := range []reg.VecPhysical{reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z16} {
		c.VBROADCASTSS(operand.Mem{Base: reg.RBX, Disp: 48 + 4*i}, z)
	}
	v.zero(reg.Z14)
	v.zero(reg.Z15)
	c.XORQ(reg.RAX, reg.RAX)
	c.Label("loop")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), reg.Z0)
	c.VMOVUPS(at(reg.RDI), reg.Z1)
	c.VSUBPS(reg.Z8, reg.Z0, reg.Z4)
	c.VSUBPS(reg.Z4, reg.Z16, reg.Z2)
	c.VMOVAPS(reg.Z11, reg.Z3)
	c.VFMADD231PS(reg.Z1, reg.Z10, reg.Z3)
	v.exp(reg.Z4, reg.Z5, reg.Z6, reg.Z7, nil)
	c.VMULPS(reg.Z9, reg.Z4, reg.Z4)
	c.VSUBPS(reg.Z3, reg.Z4, reg.Z4)
	c.VMULPS(reg.Z12, reg.Z4, reg.Z4)
	c.VMOVUPS(reg.Z4, at(reg.R8))
	c.TESTQ(reg.R9, reg.R9)
	c.JZ(operand.LabelRef("sum"))
	c.VMULPS(reg.Z13, reg.Z2, reg.Z5)
	c.VMOVUPS(reg.Z5, at(reg.R9))
	c.Label("sum")
	c.VMULPS(reg.Z3, reg.Z2, reg.Z2)
	v.sumPD(reg.Z2, reg.Z14, reg.Z15, reg.Z5, reg.Z6)
	c.ADDQ(operand.U8(64), reg.RAX)
	c.JMP(operand.LabelRef("loop"))
	c.Label("done")
	v.reducePD(reg.Z14, reg.Z15, operand.Mem{Base: reg.RBX, Disp: 80})
	c.VZEROUPPER()
	c.RET()
}

// addr is the frame address of an argument or result.
func addr(p gotypes.Component) operand.Mem {
	b, err := p.Resolve()
	if err != nil {
		log.Fatalf("asmgen: %v", err)
	}
	return b.Addr
}
