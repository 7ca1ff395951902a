package main

import (
	"github.com/mmcloughlin/avo/operand"
)

// The loops of pointwise_loss's float32 mirror, one per op (or option
// set), for chunks without weight or mask: each reads x, y (and a) and
// writes the loss and the gradients (times gs), computing what
// pointwiseOp computes for the op. The ones without exp or log exist in
// the AVX2 width only (linear8); the others in both (both).

// linear8 are the loops without exp or log.
func (v vec) linear8() {
	c, r := v.c, v.r
	v.pwLoop("pwMSE", 12, []string{"d², 2gs·d, −2gs·d."},
		func() { c.VADDPS(r(15), r(15), r(11)) },
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			c.VMULPS(r(2), r(2), r(3))
			c.VMULPS(r(11), r(2), r(4))
			v.neg(r(4), r(5))
			return r(3), r(4), r(5)
		})
	v.pwLoop("pwL1", 12, []string{"|d|, gs·sign(d), −gs·sign(d)."}, nil,
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			v.abs(r(2), r(3))
			v.signPS(r(2), r(4), r(5))
			c.VMULPS(r(15), r(4), r(4))
			v.neg(r(4), r(5))
			return r(3), r(4), r(5)
		})
	v.pwLoop("pwHuber", 12, []string{"p0 = δ; c = min(|d|, δ):", "½c² + δ(|d| − c), gs·clamp(d, −δ, δ)."},
		func() { v.neg(r(14), r(11)) },
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			v.abs(r(2), r(3))
			c.VMINPS(r(3), r(14), r(4))
			v.mulK("HALF", r(4), r(5))
			c.VMULPS(r(4), r(5), r(5))
			c.VSUBPS(r(4), r(3), r(6))
			c.VFMADD231PS(r(6), r(14), r(5))
			c.VMAXPS(r(2), r(11), r(7))
			c.VMINPS(r(7), r(14), r(7))
			c.VMULPS(r(15), r(7), r(7))
			v.neg(r(7), r(8))
			return r(5), r(7), r(8)
		})
	v.pwLoop("pwSmoothL1", 12, []string{"p0 = β > 0, p1 = gs/β; c = min(|d|, β):", "½c²/β + (|d| − c), (gs/β)·clamp(d, −β, β)."},
		func() { v.neg(r(14), r(11)) },
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			v.abs(r(2), r(3))
			c.VMINPS(r(3), r(14), r(4))
			v.mulK("HALF", r(4), r(5))
			c.VMULPS(r(4), r(5), r(5))
			c.VDIVPS(r(14), r(5), r(5))
			c.VSUBPS(r(4), r(3), r(6))
			c.VADDPS(r(6), r(5), r(5))
			c.VMAXPS(r(2), r(11), r(7))
			c.VMINPS(r(7), r(14), r(7))
			c.VMULPS(r(13), r(7), r(7))
			v.neg(r(7), r(8))
			return r(5), r(7), r(8)
		})
	v.pwLoop("pwHinge", 12, []string{"h = 1 − yx: max(h, 0), −gs·y·step(h), 0."},
		func() { v.neg(r(15), r(11)) },
		func() (Op, Op, Op) {
			c.VMULPS(r(0), r(1), r(2))
			v.loadK("ONE", r(3))
			c.VSUBPS(r(2), r(3), r(2))
			v.stepPS(r(2), r(5), r(4), r(6))
			c.VMAXPS(r(2), r(4), r(3))
			c.VMULPS(r(1), r(11), r(6))
			c.VMULPS(r(5), r(6), r(6))
			return r(3), r(6), r(4)
		})
	v.pwLoop("pwSquaredHinge", 12, []string{"h = max(1 − yx, 0): h², −2gs·y·h, 0."},
		func() {
			c.VADDPS(r(15), r(15), r(11))
			v.neg(r(11), r(11))
		},
		func() (Op, Op, Op) {
			c.VMULPS(r(0), r(1), r(2))
			v.loadK("ONE", r(3))
			c.VSUBPS(r(2), r(3), r(2))
			c.VXORPS(r(4), r(4), r(4))
			c.VMAXPS(r(2), r(4), r(3))
			c.VMULPS(r(3), r(3), r(5))
			c.VMULPS(r(1), r(11), r(6))
			c.VMULPS(r(3), r(6), r(6))
			return r(5), r(6), r(4)
		})
	v.pwLoop("pwHingeEmbedding", 12, []string{"p0 = margin, h = margin − x:", "x and gs for y = 1; max(h, 0) and −gs·step(h) for y = −1; 0."},
		func() { v.neg(r(15), r(11)) },
		func() (Op, Op, Op) {
			c.VSUBPS(r(0), r(14), r(3))
			v.stepPS(r(3), r(8), r(4), r(9))
			c.VMAXPS(r(3), r(4), r(5))
			c.VMULPS(r(11), r(8), r(8))
			c.VCMPPS(operand.U8(14), r(4), r(1), r(2))
			c.VBLENDVPS(r(2), r(0), r(5), r(5))
			c.VBLENDVPS(r(2), r(15), r(8), r(8))
			return r(5), r(8), r(4)
		})
	v.pwLoop("pwMAPE", 12, []string{"p0 = ε, m = max(|y|, ε): 100|d|/m,", "100·sign(d)/m, −100·sign(d)/m − [|y| > ε]·100|d|·sign(y)/m²."}, nil,
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			v.abs(r(2), r(3))
			v.signPS(r(2), r(4), r(5))
			v.abs(r(1), r(5))
			c.VMAXPS(r(5), r(14), r(6))
			v.mulK("HUNDRED", r(3), r(7))
			c.VDIVPS(r(6), r(7), r(8))
			v.mulK("HUNDRED", r(4), r(9))
			c.VDIVPS(r(6), r(9), r(9))
			v.neg(r(9), r(10))
			v.andK("SIGN", r(1), r(11))
			v.orK("ONE", r(11), r(11))
			c.VMULPS(r(11), r(7), r(7))
			c.VMULPS(r(6), r(6), r(11))
			c.VDIVPS(r(11), r(7), r(7))
			c.VCMPPS(operand.U8(14), r(14), r(5), r(11))
			c.VANDPS(r(11), r(7), r(7))
			c.VSUBPS(r(7), r(10), r(10))
			v.scale2(r(9), r(10))
			return r(8), r(9), r(10)
		})
}

// both are the exp/log loops, emitted in both widths.
func (v vec) both() {
	c, r := v.c, v.r
	v.mapLoop("exp32", []string{"l = exp(x)."}, func(x Op) { v.exp(x, r(4), r(5), r(6), r(7)) })
	v.mapLoop("log32", []string{"l = log(x)."}, func(x Op) { v.log(x, r(4), r(5), r(6), r(7)) })

	v.pwLoop("pwLogCosh", 12, []string{
		"as logCosh32, z = |d|: below the knee",
		"w = tanh z by tanhSmall32's polynomial and log cosh = ½·2atanh(s),",
		"s = w²/(2 − w²); at and above it e = exp(−2z), w = (1 − e)/(1 + e) and",
		"log cosh = (z − ln 2) + 2atanh(s), s = e/(2 + e). gs·sign(d)·w and its",
		"negative."}, nil,
		func() (Op, Op, Op) {
			c.VSUBPS(r(1), r(0), r(2))
			v.abs(r(2), r(3))
			c.VADDPS(r(3), r(3), r(4))
			v.neg(r(4), r(4))
			v.exp(r(4), r(5), r(6), r(7), r(8))
			c.VMULPS(r(3), r(3), r(5))
			v.loadK("TH5", r(6))
			for _, k := range []string{"TH4", "TH3", "TH2", "TH1", "TH0"} {
				v.fma213K(k, r(5), r(6))
			}
			c.VMULPS(r(5), r(6), r(6))
			c.VFMADD213PS(r(3), r(3), r(6))
			v.loadK("ONE", r(7))
			c.VSUBPS(r(4), r(7), r(7))
			v.addK("ONE", r(4), r(8))
			c.VDIVPS(r(8), r(7), r(7))
			m := v.mask(9)
			v.cmpK(1, "KNEE", r(3), m)
			v.sel(m, r(6), r(7), r(6))
			c.VMULPS(r(6), r(6), r(5))
			v.sel(m, r(5), r(4), r(7))
			v.loadK("TWO", r(8))
			c.VSUBPS(r(5), r(8), r(8))
			v.addK("TWO", r(4), r(10))
			v.sel(m, r(8), r(10), r(8))
			c.VDIVPS(r(8), r(7), r(7))
			v.atanh2(r(7), r(10), r(11), r(7))
			v.mulK("HALF", r(7), r(10))
			v.subK("LN2", r(3), r(3))
			c.VADDPS(r(7), r(3), r(3))
			v.sel(m, r(10), r(3), r(3))
			v.andK("SIGN", r(2), r(8))
			v.or(r(8), r(6), r(6))
			c.VMULPS(r(15), r(6), r(6))
			v.neg(r(6), r(7))
			return r(3), r(6), r(7)
		})

	v.pwLoop("pwSoftMargin", 12, []string{"z = −yx: max(z, 0) + log1p(exp(−|z|)),", "−gs·y·sigmoid(z), 0."}, nil,
		func() (Op, Op, Op) {
			c.VMULPS(r(0), r(1), r(2))
			v.neg(r(2), r(2))
			v.logistic(r(2), r(3), r(4), r(5), r(6), r(7), r(8), r(9), r(10))
			v.zero(r(6))
			c.VMAXPS(r(2), r(6), r(7))
			c.VADDPS(r(7), r(3), r(3))
			v.neg(r(1), r(6))
			c.VMULPS(r(4), r(6), r(6))
			c.VMULPS(r(15), r(6), r(6))
			v.zero(r(7))
			return r(3), r(6), r(7)
		})

	v.pwLoop("pwBCEWithLogits", 12, []string{
		"a = pos_weight, w = 1 + (a − 1)y,",
		"L = log1p(exp(−|x|)), as opBCEWithLogits:",
		"(1 − y)·max(x, 0) − a·y·min(x, 0) + w·L, gs·((1 − y)·σ(x) − a·y·σ(−x)),",
		"gs·((a − 1)·L − max(x, 0) − a·min(x, 0))."}, nil,
		func() (Op, Op, Op) {
			c.VMOVUPS(at(rDX), r(2))
			v.logistic(r(0), r(3), r(4), r(5), r(6), r(7), r(8), r(9), r(10))
			v.zero(r(6))
			c.VMAXPS(r(0), r(6), r(7))
			c.VMINPS(r(0), r(6), r(8))
			v.subK("ONE", r(2), r(9))
			c.VMULPS(r(1), r(2), r(10))
			v.loadK("ONE", r(11))
			c.VSUBPS(r(1), r(11), r(11))
			v.loadK("ONE", r(6))
			c.VFMADD231PS(r(1), r(9), r(6))
			c.VMULPS(r(3), r(6), r(6))
			c.VFMADD231PS(r(7), r(11), r(6))
			c.VFNMADD231PS(r(8), r(10), r(6))
			c.VMULPS(r(11), r(4), r(4))
			c.VFNMADD231PS(r(5), r(10), r(4))
			c.VMULPS(r(9), r(3), r(3))
			c.VSUBPS(r(7), r(3), r(3))
			c.VFNMADD231PS(r(8), r(2), r(3))
			v.scale2(r(4), r(3))
			return r(6), r(4), r(3)
		})

	v.pwLoop("pwSigmoidFocal", 13, []string{
		"γ = 2; p0 = α, f = 1 where α >= 0,",
		"p2 = 2α − 1. As opSigmoidFocal: p = σ(x), pn = σ(−x), L = log1p(exp(−|x|)),",
		"ce = (1 − y)·max(x, 0) − y·min(x, 0) + L, q = (1 − y)p + y·pn:",
		"l0 = ce·q², gx = ((1 − y)p − y·pn)q² + 2ce·q(1 − 2y)·p·pn,",
		"gy = −xq² + 2ce·q(pn − p); with α: α_t = αy + (1 − α)(1 − y),",
		"α_t·l0, α_t·gx, α_t·gy + (2α − 1)·l0."}, nil,
		func() (Op, Op, Op) {
			v.logistic(r(0), r(2), r(3), r(4), r(5), r(6), r(7), r(8), r(9))
			v.zero(r(5))
			c.VMAXPS(r(0), r(5), r(6))
			c.VMINPS(r(0), r(5), r(7))
			v.loadK("ONE", r(8))
			c.VSUBPS(r(1), r(8), r(8))
			c.VFMADD231PS(r(6), r(8), r(2))
			c.VFNMADD231PS(r(7), r(1), r(2))
			c.VMULPS(r(3), r(8), r(5))
			c.VFMADD231PS(r(4), r(1), r(5))
			c.VMULPS(r(3), r(8), r(6))
			c.VFNMADD231PS(r(4), r(1), r(6))
			c.VMULPS(r(5), r(5), r(7))
			c.VADDPS(r(5), r(5), r(8))
			c.VMULPS(r(7), r(2), r(9))
			c.VMULPS(r(8), r(2), r(10))
			c.VMULPS(r(4), r(3), r(11))
			c.VADDPS(r(1), r(1), r(5))
			v.loadK("ONE", r(8))
			c.VSUBPS(r(5), r(8), r(5))
			c.VMULPS(r(11), r(5), r(5))
			c.VMULPS(r(10), r(5), r(5))
			c.VFMADD231PS(r(7), r(6), r(5))
			c.VSUBPS(r(3), r(4), r(4))
			c.VMULPS(r(10), r(4), r(4))
			c.VFNMADD231PS(r(7), r(0), r(4))
			c.TESTQ(rR13, rR13)
			c.JZ(operand.LabelRef("scale"))
			v.loadK("ONE", r(10))
			c.VSUBPS(r(14), r(10), r(11))
			c.VSUBPS(r(1), r(10), r(10))
			c.VMULPS(r(11), r(10), r(10))
			c.VFMADD231PS(r(1), r(14), r(10))
			c.VMULPS(r(10), r(4), r(4))
			c.VFMADD231PS(r(9), r(12), r(4))
			c.VMULPS(r(10), r(5), r(5))
			c.VMULPS(r(10), r(9), r(9))
			c.Label("scale")
			v.scale2(r(5), r(4))
			return r(9), r(5), r(4)
		})

	v.pwLoop("pwMSLE", 12, []string{
		"p0 = ε, e = log(max(x, ε) + 1) −",
		"log(max(y, ε) + 1): e², gs·[x > ε]·2e/(x + 1), −gs·[y > ε]·2e/(y + 1)."}, nil,
		func() (Op, Op, Op) {
			c.VMAXPS(r(0), r(14), r(2))
			v.addK("ONE", r(2), r(2))
			v.log(r(2), r(4), r(5), r(6), r(7))
			c.VMAXPS(r(1), r(14), r(3))
			v.addK("ONE", r(3), r(3))
			v.log(r(3), r(4), r(5), r(6), r(7))
			c.VSUBPS(r(3), r(2), r(2))
			c.VMULPS(r(2), r(2), r(3))
			c.VADDPS(r(2), r(2), r(4))
			v.addK("ONE", r(0), r(5))
			c.VDIVPS(r(5), r(4), r(5))
			c.VCMPPS(operand.U8(14), r(14), r(0), v.mask(6))
			v.keep(v.mask(6), r(5), r(5))
			v.addK("ONE", r(1), r(6))
			c.VDIVPS(r(6), r(4), r(6))
			v.neg(r(6), r(6))
			c.VCMPPS(operand.U8(14), r(14), r(1), v.mask(7))
			v.keep(v.mask(7), r(6), r(6))
			v.scale2(r(5), r(6))
			return r(3), r(5), r(6)
		})

	v.pwLoop("pwBCE", 12, []string{
		"lx = max(log x, −100), l1x = max(log(1 − x), −100):",
		"−(y·lx + (1 − y)·l1x), gs·(x − y)/fmax(x(1 − x), 1e-12), gs·(l1x − lx)."}, nil,
		func() (Op, Op, Op) {
			v.mov(r(0), r(2))
			v.log(r(2), r(4), r(5), r(6), r(7))
			v.loadK("ONE", r(3))
			c.VSUBPS(r(0), r(3), r(3))
			v.log(r(3), r(4), r(5), r(6), r(7))
			v.loadK("M100", r(4))
			c.VMAXPS(r(2), r(4), r(2))
			c.VMAXPS(r(3), r(4), r(3))
			c.VMULPS(r(2), r(1), r(5))
			v.loadK("ONE", r(6))
			c.VSUBPS(r(1), r(6), r(6))
			c.VFMADD231PS(r(3), r(6), r(5))
			v.neg(r(5), r(5))
			v.loadK("ONE", r(6))
			c.VSUBPS(r(0), r(6), r(6))
			c.VMULPS(r(0), r(6), r(6))
			v.maxK("TINY", r(6), r(6))
			c.VSUBPS(r(1), r(0), r(7))
			c.VDIVPS(r(6), r(7), r(7))
			c.VSUBPS(r(2), r(3), r(8))
			v.scale2(r(7), r(8))
			return r(5), r(7), r(8)
		})

	v.pwLoop("pwKLDiv", 12, []string{"ly = log y: [y ≠ 0]·y·ly − yx, −gs·y,", "gs·(ly + 1 − x)."}, nil,
		func() (Op, Op, Op) {
			v.mov(r(1), r(2))
			v.log(r(2), r(4), r(5), r(6), r(7))
			c.VMULPS(r(2), r(1), r(3))
			v.zero(r(4))
			c.VCMPPS(operand.U8(4), r(4), r(1), v.mask(4))
			v.keep(v.mask(4), r(3), r(3))
			c.VFNMADD231PS(r(0), r(1), r(3))
			v.neg(r(1), r(5))
			v.addK("ONE", r(2), r(6))
			c.VSUBPS(r(0), r(6), r(6))
			v.scale2(r(5), r(6))
			return r(3), r(5), r(6)
		})

	v.pwLoop("pwKLDivLog", 12, []string{"log_target, ey = exp(y): ey(y − x),", "−gs·ey, gs·ey(y − x + 1)."}, nil,
		func() (Op, Op, Op) {
			v.mov(r(1), r(2))
			v.exp(r(2), r(4), r(5), r(6), r(7))
			c.VSUBPS(r(0), r(1), r(3))
			c.VMULPS(r(3), r(2), r(4))
			v.neg(r(2), r(5))
			v.addK("ONE", r(3), r(6))
			c.VMULPS(r(6), r(2), r(6))
			v.scale2(r(5), r(6))
			return r(4), r(5), r(6)
		})

	// poissonFull adds, where f is set and y > 1, Stirling's term
	// y·log y − y + ½log(2πy) to the loss in V4 and log y + 1/(2y) to the
	// target's gradient in V6.
	poissonFull := func() {
		c.TESTQ(rR13, rR13)
		c.JZ(operand.LabelRef("scale"))
		v.mov(r(1), r(2))
		v.log(r(2), r(7), r(8), r(9), r(10))
		c.VMULPS(r(2), r(1), r(3))
		c.VSUBPS(r(1), r(3), r(3))
		v.addK("LOG2PI", r(2), r(7))
		v.fma231K("HALF", r(7), r(3))
		m := v.mask(8)
		v.cmpK(14, "ONE", r(1), m)
		v.keep(m, r(3), r(3))
		c.VADDPS(r(3), r(4), r(4))
		v.loadK("HALF", r(7))
		c.VDIVPS(r(1), r(7), r(7))
		c.VADDPS(r(2), r(7), r(7))
		v.keep(m, r(7), r(7))
		c.VADDPS(r(7), r(6), r(6))
		c.Label("scale")
		v.scale2(r(5), r(6))
	}

	v.pwLoop("pwPoisson", 13, []string{"p2 = ε, f = full; lx = log(x + ε):", "x − y·lx, gs·(1 − y/(x + ε)), −gs·lx;",
		"where f is set and y > 1, Stirling's term y·log y − y + ½log(2πy) is",
		"added to the loss and log y + 1/(2y) to the target's gradient."}, nil,
		func() (Op, Op, Op) {
			c.VADDPS(r(12), r(0), r(2))
			v.mov(r(2), r(3))
			v.log(r(3), r(4), r(5), r(6), r(7))
			v.mov(r(0), r(4))
			c.VFNMADD231PS(r(3), r(1), r(4))
			c.VDIVPS(r(2), r(1), r(5))
			v.loadK("ONE", r(6))
			c.VSUBPS(r(5), r(6), r(5))
			v.neg(r(3), r(6))
			poissonFull()
			return r(4), r(5), r(6)
		})

	v.pwLoop("pwPoissonLog", 12, []string{"log_input, f = full: e^x − yx,", "gs·(e^x − y), −gs·x; Stirling's term as pwPoisson."}, nil,
		func() (Op, Op, Op) {
			v.mov(r(0), r(2))
			v.exp(r(2), r(4), r(5), r(6), r(7))
			v.mov(r(2), r(4))
			c.VFNMADD231PS(r(0), r(1), r(4))
			c.VSUBPS(r(1), r(2), r(5))
			v.neg(r(0), r(6))
			poissonFull()
			return r(4), r(5), r(6)
		})
}
