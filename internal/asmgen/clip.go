package main

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// clip writes clip_amd64.s: the float64 sums of squares of the clip
// family's host mirror (host/clip.go), for p = 2.
func clip(c *build.Context) {
	y := func(i int) reg.VecPhysical { return ys[i] }
	// zero clears the four sums (Y0-Y3) and maxima (Y6-Y9).
	zero := func() {
		for _, i := range []int{0, 1, 2, 3, 6, 7, 8, 9} {
			c.VXORPD(y(i), y(i), y(i))
		}
	}
	// sq widens, squares (exactly) and takes into the sums and maxima the
	// 4·vecs floats at SI, vecs being 4 or 2.
	sq := func(vecs int) {
		regs := []int{4, 5, 10, 11}[:vecs]
		for i, r := range regs {
			c.VCVTPS2PD(operand.Mem{Base: reg.RSI, Disp: 16 * i}, y(r))
		}
		for _, r := range regs {
			c.VMULPD(y(r), y(r), y(r))
		}
		for i, r := range regs {
			c.VADDPD(y(r), y(i), y(i))
		}
		for i, r := range regs {
			c.VMAXPD(y(r), y(6+i), y(6+i))
		}
	}
	// out adds the sums' and maxima's vectors, then lanes, pairwise, and
	// stores the sum and the maximum at DI and 8(DI).
	out := func() {
		c.VADDPD(y(2), y(0), y(0))
		c.VADDPD(y(3), y(1), y(1))
		c.VMAXPD(y(8), y(6), y(6))
		c.VMAXPD(y(9), y(7), y(7))
		c.VADDPD(y(1), y(0), y(0))
		c.VMAXPD(y(7), y(6), y(2))
		c.VEXTRACTF128(operand.U8(1), reg.Y0, reg.X4)
		c.VADDPD(reg.X4, reg.X0, reg.X0)
		c.VHADDPD(reg.X0, reg.X0, reg.X0)
		c.VEXTRACTF128(operand.U8(1), reg.Y2, reg.X5)
		c.VMAXPD(reg.X5, reg.X2, reg.X2)
		c.VPERMILPD(operand.U8(1), reg.X2, reg.X5)
		c.VMAXPD(reg.X5, reg.X2, reg.X2)
		c.VMOVSD(reg.X0, operand.Mem{Base: reg.RDI})
		c.VMOVSD(reg.X2, operand.Mem{Base: reg.RDI, Disp: 8})
	}

	v := vec{c: c}
	v.text("clipSumSqAVX2", "func(x *float32, n int, out *[2]float64)",
		"out[0] = Σ x[i]² and out[1] = max x[i]² over i < n (n a multiple of 8),",
		"in float64: each float32 widened, squared (exact) and added in 16 lanes",
		"(four vectors of 4), the vectors then the lanes added pairwise. The clip",
		"family's host mirror (host/clip.go) uses it for p = 2.")
	c.Load(c.Param("x"), reg.RSI)
	c.Load(c.Param("n"), reg.RCX)
	c.Load(c.Param("out"), reg.RDI)
	zero()
	c.Comment("16 floats a step: four independent sums (Y0-Y3) and maxima (Y6-Y9),",
		"so that the adds' latency does not bound the loop.")
	c.Label("loop16")
	c.CMPQ(reg.RCX, operand.U8(16))
	c.JLT(operand.LabelRef("loop8"))
	sq(4)
	c.ADDQ(operand.U8(64), reg.RSI)
	c.SUBQ(operand.U8(16), reg.RCX)
	c.JMP(operand.LabelRef("loop16"))
	c.Label("loop8")
	c.CMPQ(reg.RCX, operand.U8(8))
	c.JLT(operand.LabelRef("done"))
	sq(2)
	c.ADDQ(operand.U8(32), reg.RSI)
	c.SUBQ(operand.U8(8), reg.RCX)
	c.JMP(operand.LabelRef("loop8"))
	c.Label("done")
	out()
	c.VZEROUPPER()
	c.RET()

	v.text("clipSumSqBlocksAVX2", "func(x *float32, nblocks int, out *float64)",
		"For each run k < nblocks of 256 floats of x, out[2k] = Σ x[i]² and",
		"out[2k+1] = max x[i]² over the run, each computed exactly as",
		"clipSumSqAVX2 computes them for a run of 256 (the same lanes, the same",
		"order), so a buffer's runs cost one call.")
	c.Load(c.Param("x"), reg.RSI)
	c.Load(c.Param("nblocks"), reg.RDX)
	c.Load(c.Param("out"), reg.RDI)
	c.Label("block")
	c.CMPQ(reg.RDX, operand.U8(0))
	c.JLE(operand.LabelRef("end"))
	c.MOVQ(operand.U32(256), reg.RCX)
	zero()
	c.Label("run16")
	sq(4)
	c.ADDQ(operand.U8(64), reg.RSI)
	c.SUBQ(operand.U8(16), reg.RCX)
	c.JNZ(operand.LabelRef("run16"))
	out()
	c.ADDQ(operand.U8(16), reg.RDI)
	c.DECQ(reg.RDX)
	c.JMP(operand.LabelRef("block"))
	c.Label("end")
	c.VZEROUPPER()
	c.RET()
}
