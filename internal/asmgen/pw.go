package main

import (
	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

var (
	rDX  = reg.RDX
	rR13 = reg.R13
)

// mem is base + index·1.
func mem(base, index reg.Register) operand.Mem {
	return operand.Mem{Base: base, Index: index, Scale: 1}
}

// at is the current element of array base (AX is the byte offset).
func at(base reg.Register) operand.Mem { return mem(base, reg.RAX) }

// pwArgs loads the argument block at BX: SI = x, DI = y, DX = a, R8 = gx,
// R9 = gy, R10 = ga, R11 = l, R12 = the constant table, CX = n in bytes,
// R13 = f; V15 = gs, V14 = p0, V13 = p1, V12 = p2; AX = 0.
func (v vec) pwArgs() {
	c := v.c
	for i, r := range []reg.Register{reg.RSI, reg.RDI, reg.RDX, reg.R8, reg.R9, reg.R10, reg.R11, reg.R12, reg.RCX} {
		c.MOVQ(operand.Mem{Base: reg.RBX, Disp: 8 * i}, r)
	}
	c.SHLQ(operand.U8(2), reg.RCX)
	c.MOVQ(operand.Mem{Base: reg.RBX, Disp: 88}, reg.R13)
	for i := 0; i < 4; i++ {
		c.VBROADCASTSS(operand.Mem{Base: reg.RBX, Disp: 72 + 4*i}, v.r(15-i))
	}
	c.XORQ(reg.RAX, reg.RAX)
}

// text opens the function name with the signature sig; the doc lines go
// above it.
func (v vec) text(name, sig string, doc ...string) {
	v.c.Function(name)
	v.c.Attributes(attr.NOSPLIT)
	v.c.Signature(signature(sig))
	docs[name] = doc
}

// sumOut writes the sum of the lanes of acc to the sum field of the
// argument block (BX), in float64 and a fixed order: with 16 lanes, lanes
// j and j+8 in float32 first; then lanes j and j+4, then (0+2)+(1+3) as
// pairs.
func (v vec) sumOut(acc Op, off int) {
	c := v.c
	if v.z {
		c.VMOVAPS(acc, reg.Z0)
		c.VEXTRACTF64X4(operand.U8(1), reg.Z0, reg.Y1)
		c.VADDPS(reg.Y1, reg.Y0, reg.Y0)
	} else {
		c.VMOVUPS(acc, reg.Y0)
	}
	c.VCVTPS2PD(reg.X0, reg.Y1)
	c.VEXTRACTF128(operand.U8(1), reg.Y0, reg.X2)
	c.VCVTPS2PD(reg.X2, reg.Y2)
	c.VADDPD(reg.Y2, reg.Y1, reg.Y1)
	c.VEXTRACTF128(operand.U8(1), reg.Y1, reg.X2)
	c.VADDPD(reg.X2, reg.X1, reg.X1)
	c.VHADDPD(reg.X1, reg.X1, reg.X1)
	c.VMOVSD(reg.X1, operand.Mem{Base: reg.RBX, Disp: off})
}

// pwLoop emits the loop name+width over the argument block: pre runs once
// before the loop, body once per step with x in V0 and y in V1, and
// returns the loss, gx and gy registers. The loss lanes add up in
// V(acc) (Z16 with AVX-512), whose sum goes to the block's sum field.
// after, if given, runs after the stores of each step.
func (v vec) pwLoop(name string, acc int, doc []string, pre func(), body func() (l, gx, gy Op), after ...func()) {
	c := v.c
	v.text(name+v.suffix(), "func(a *pwArgs)", doc...)
	c.Load(c.Param("a"), reg.RBX)
	v.pwArgs()
	a := v.r(acc)
	if v.z {
		a = reg.Z16
	}
	v.zero(a)
	if pre != nil {
		pre()
	}
	c.Label("loop")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), v.r(0))
	c.VMOVUPS(at(reg.RDI), v.r(1))
	l, gx, gy := body()
	c.VMOVUPS(l, at(reg.R11))
	c.VMOVUPS(gx, at(reg.R8))
	c.VMOVUPS(gy, at(reg.R9))
	c.VADDPS(l, a, a)
	for _, f := range after {
		f()
	}
	c.ADDQ(operand.U8(v.step()), reg.RAX)
	c.JMP(operand.LabelRef("loop"))
	c.Label("done")
	v.sumOut(a, 96)
	c.VZEROUPPER()
	c.RET()
}

// mapLoop emits the loop name+width that sets l = f(x) element by element.
func (v vec) mapLoop(name string, doc []string, f func(x Op)) {
	c := v.c
	v.text(name+v.suffix(), "func(a *pwArgs)", doc...)
	c.Load(c.Param("a"), reg.RBX)
	v.pwArgs()
	c.Label("loop")
	c.CMPQ(reg.RAX, reg.RCX)
	c.JAE(operand.LabelRef("done"))
	c.VMOVUPS(at(reg.RSI), v.r(0))
	f(v.r(0))
	c.VMOVUPS(v.r(0), at(reg.R11))
	c.ADDQ(operand.U8(v.step()), reg.RAX)
	c.JMP(operand.LabelRef("loop"))
	c.Label("done")
	c.VZEROUPPER()
	c.RET()
}

// scale2 multiplies two gradients by gs.
func (v vec) scale2(a, b Op) {
	v.c.VMULPS(v.r(15), a, a)
	v.c.VMULPS(v.r(15), b, b)
}

// signPS sets s = sign(d): −1, 0 or 1, NaN for NaN (sign32); t is
// clobbered. AVX2 only.
func (v vec) signPS(d, s, t Op) {
	c := v.c
	v.andK("SIGN", d, s)
	v.orK("ONE", s, s)
	c.VXORPS(t, t, t)
	c.VCMPPS(operand.U8(4), t, d, t)
	c.VANDPS(t, s, s)
	c.VCMPPS(operand.U8(3), d, d, t)
	c.VORPS(t, s, s)
}

// stepPS sets s = 1 for h > 0, 0 for h <= 0, NaN for NaN (step32), and
// z = 0; t is clobbered. AVX2 only.
func (v vec) stepPS(h, s, z, t Op) {
	c := v.c
	c.VXORPS(z, z, z)
	c.VCMPPS(operand.U8(14), z, h, s)
	v.andK("ONE", s, s)
	c.VCMPPS(operand.U8(3), h, h, t)
	c.VORPS(t, s, s)
}
