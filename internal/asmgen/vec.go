package main

import (
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/operand"
	"github.com/mmcloughlin/avo/reg"
)

// Op is an instruction operand.
type Op = operand.Op

var (
	ys = []reg.VecPhysical{reg.Y0, reg.Y1, reg.Y2, reg.Y3, reg.Y4, reg.Y5, reg.Y6, reg.Y7,
		reg.Y8, reg.Y9, reg.Y10, reg.Y11, reg.Y12, reg.Y13, reg.Y14, reg.Y15}
	zs = []reg.VecPhysical{reg.Z0, reg.Z1, reg.Z2, reg.Z3, reg.Z4, reg.Z5, reg.Z6, reg.Z7,
		reg.Z8, reg.Z9, reg.Z10, reg.Z11, reg.Z12, reg.Z13, reg.Z14, reg.Z15, reg.Z16}
)

// vec emits instructions for one vector width: 8 float32 lanes in YMM
// registers with AVX2/FMA3 (z false), or 16 lanes in ZMM registers with
// AVX-512F (z true). The loops are written once against its methods,
// which pick the instruction of the width: a constant of the table is a
// full 8-lane load for AVX2 and a broadcast of lane 0 for AVX-512; a
// comparison writes a vector mask for AVX2 and a mask register (K3 in
// the loops, K1 and K2 inside exp, log and the logistic) for AVX-512.
type vec struct {
	c *build.Context
	z bool
}

// lanes is the number of float32 lanes.
func (v vec) lanes() int {
	if v.z {
		return 16
	}
	return 8
}

// step is the number of bytes one vector holds.
func (v vec) step() int { return 4 * v.lanes() }

// suffix names the width in function names.
func (v vec) suffix() string {
	if v.z {
		return "AVX512"
	}
	return "AVX2"
}

// r is vector register i of the width.
func (v vec) r(i int) reg.VecPhysical {
	if v.z {
		return zs[i]
	}
	return ys[i]
}

// mask is where a comparison's lanes go: vector register i for AVX2, K3
// for AVX-512.
func (v vec) mask(i int) Op {
	if v.z {
		return reg.K3
	}
	return ys[i]
}

// k is the entry name of the constant table (its base in R12).
func (v vec) k(name string) operand.Mem { return constMem(name) }

// kop emits the AVX2 form op or, with AVX-512, its broadcast form opb
// with the constant name as first operand.
func (v vec) kop(op, opb func(...Op), name string, rest ...Op) {
	ops := append([]Op{v.k(name)}, rest...)
	if v.z {
		opb(ops...)
	} else {
		op(ops...)
	}
}

// loadK sets d to the constant name in every lane.
func (v vec) loadK(name string, d Op) {
	if v.z {
		v.c.VBROADCASTSS(v.k(name), d)
	} else {
		v.c.VMOVUPS(v.k(name), d)
	}
}

func (v vec) addK(name string, a, d Op) { v.kop(v.c.VADDPS, v.c.VADDPS_BCST, name, a, d) }
func (v vec) subK(name string, a, d Op) { v.kop(v.c.VSUBPS, v.c.VSUBPS_BCST, name, a, d) }
func (v vec) mulK(name string, a, d Op) { v.kop(v.c.VMULPS, v.c.VMULPS_BCST, name, a, d) }
func (v vec) maxK(name string, a, d Op) { v.kop(v.c.VMAXPS, v.c.VMAXPS_BCST, name, a, d) }

// fma213K: d = d·a + name.
func (v vec) fma213K(name string, a, d Op) {
	v.kop(v.c.VFMADD213PS, v.c.VFMADD213PS_BCST, name, a, d)
}

// fma231K: d += a·name.
func (v vec) fma231K(name string, a, d Op) {
	v.kop(v.c.VFMADD231PS, v.c.VFMADD231PS_BCST, name, a, d)
}

// fnma231K: d −= a·name.
func (v vec) fnma231K(name string, a, d Op) {
	v.kop(v.c.VFNMADD231PS, v.c.VFNMADD231PS_BCST, name, a, d)
}

// andK, orK and xorK are the bitwise operations with a constant.
func (v vec) andK(name string, a, d Op) { v.kop(v.c.VANDPS, v.c.VPANDD_BCST, name, a, d) }
func (v vec) orK(name string, a, d Op)  { v.kop(v.c.VORPS, v.c.VPORD_BCST, name, a, d) }
func (v vec) xorK(name string, a, d Op) { v.kop(v.c.VXORPS, v.c.VPXORD_BCST, name, a, d) }

// neg sets d = −a (sign bit flipped).
func (v vec) neg(a, d Op) { v.xorK("SIGN", a, d) }

// abs sets d = |a| (sign bit cleared).
func (v vec) abs(a, d Op) { v.andK("ABS", a, d) }

// zero clears d.
func (v vec) zero(d Op) {
	if v.z {
		v.c.VPXORD(d, d, d)
	} else {
		v.c.VXORPS(d, d, d)
	}
}

// or sets d = a | b.
func (v vec) or(a, b, d Op) {
	if v.z {
		v.c.VPORD(a, b, d)
	} else {
		v.c.VORPS(a, b, d)
	}
}

// mov copies register a to d.
func (v vec) mov(a, d Op) {
	if v.z {
		v.c.VMOVAPS(a, d)
	} else {
		v.c.VMOVUPS(a, d)
	}
}

// cmpK sets mask m to the lanes where predicate imm holds for (a, name).
func (v vec) cmpK(imm uint8, name string, a, m Op) {
	v.kop(func(o ...Op) { v.c.VCMPPS(append([]Op{operand.U8(imm)}, o...)...) },
		func(o ...Op) { v.c.VCMPPS_BCST(append([]Op{operand.U8(imm)}, o...)...) }, name, a, m)
}

// keep clears the lanes of a that are not in mask m, into d.
func (v vec) keep(m, a, d Op) {
	if v.z {
		v.c.VMOVAPS_Z(a, m, d)
	} else {
		v.c.VANDPS(m, a, d)
	}
}

// sel sets d = m ? a : b lane by lane.
func (v vec) sel(m, a, b, d Op) {
	switch {
	case !v.z:
		v.c.VBLENDVPS(m, a, b, d)
	case d == b:
		v.c.VMOVAPS(a, m, d)
	default:
		v.c.VBLENDMPS(a, b, m, d)
	}
}

// exp sets x = exp(x) as expf: 0 for x <= −87.33654, +Inf above 88.72, NaN
// for NaN; kk, r, t (and m for AVX2, K1 for AVX-512) are clobbered.
// n = round(x·log2 e), r = x − n·ln 2 in two parts, e^r by Cephes'
// polynomial, then 2^n: AVX2 builds it in two halves, AVX-512 uses
// VSCALEFPS.
func (v vec) exp(x, kk, r, t, m Op) {
	c := v.c
	if v.z {
		m = reg.K1
	}
	v.loadK("EXPCHI", t)
	c.VMINPS(x, t, x)
	v.cmpK(6, "EXPLO", x, m)
	v.loadK("EXPCLO", t)
	c.VMAXPS(x, t, r)
	v.mulK("LOG2E", r, kk)
	if v.z {
		c.VRNDSCALEPS(operand.U8(0), kk, kk)
	} else {
		c.VROUNDPS(operand.U8(0), kk, kk)
	}
	v.fnma231K("EXPC1", kk, r)
	v.fnma231K("EXPC2", kk, r)
	v.loadK("EP0", t)
	for _, p := range []string{"EP1", "EP2", "EP3", "EP4", "EP5"} {
		v.fma213K(p, r, t)
	}
	c.VMULPS(r, r, x)
	c.VFMADD213PS(r, x, t)
	v.addK("ONE", t, t)
	if v.z {
		c.VSCALEFPS(kk, t, t)
		c.VMOVAPS_Z(t, m, x)
		return
	}
	c.VCVTPS2DQ(kk, kk)
	c.VPSRAD(operand.U8(1), kk, r)
	c.VPSUBD(r, kk, kk)
	c.VPADDD(v.k("I127"), r, r)
	c.VPSLLD(operand.U8(23), r, r)
	c.VPADDD(v.k("I127"), kk, kk)
	c.VPSLLD(operand.U8(23), kk, kk)
	c.VMULPS(r, t, t)
	c.VMULPS(kk, t, t)
	c.VANDPS(m, t, x)
}

// log sets x = log(x): −Inf for ±0, NaN below 0 and for NaN, +Inf for
// +Inf; e, m, t, u (and K1, K2 for AVX-512) are clobbered. x = m·2^e with
// m in [√½, √2) — AVX2 scales subnormals by 2^23 and takes the bits apart,
// AVX-512 uses VGETEXPPS and VGETMANTPS — then log x = e·ln 2 + log m,
// log m by Cephes' polynomial in m − 1.
func (v vec) log(x, e, m, t, u Op) {
	c := v.c
	if v.z {
		c.VGETEXPPS(x, e)
		c.VGETMANTPS(operand.U8(4), x, m)
		c.VCMPPS_BCST(operand.U8(14), v.k("SQRT2"), m, reg.K1)
		c.VMULPS_BCST(v.k("HALF"), m, reg.K1, m)
		c.VADDPS_BCST(v.k("ONE"), e, reg.K1, e)
		v.subK("ONE", m, m)
	} else {
		v.cmpK(1, "FLTMIN", x, t)
		v.mulK("TWO23", x, m)
		c.VBLENDVPS(t, m, x, m)
		v.andK("F23", t, e)
		c.VPSRLD(operand.U8(23), m, u)
		c.VPSUBD(v.k("I126"), u, u)
		c.VCVTDQ2PS(u, u)
		c.VSUBPS(e, u, e)
		v.andK("MANT", m, m)
		v.orK("HALF", m, m)
		v.cmpK(1, "SQRTHF", m, t)
		v.andK("ONE", t, u)
		c.VSUBPS(u, e, e)
		c.VANDPS(m, t, u)
		c.VADDPS(u, m, m)
		v.subK("ONE", m, m)
	}
	c.VMULPS(m, m, u)
	v.loadK("LP0", t)
	for _, p := range []string{"LP1", "LP2", "LP3", "LP4", "LP5", "LP6", "LP7", "LP8"} {
		v.fma213K(p, m, t)
	}
	c.VMULPS(m, t, t)
	c.VMULPS(u, t, t)
	v.fma231K("EXPC2", e, t)
	v.fnma231K("HALF", u, t)
	c.VADDPS(m, t, t)
	v.fma231K("EXPC1", e, t)
	if v.z {
		c.VCMPPS_BCST(operand.U8(5), v.k("INF"), x, reg.K1)
		c.VMOVAPS(x, reg.K1, t)
		c.VPXORD(u, u, u)
		c.VCMPPS(operand.U8(0), u, x, reg.K1)
		c.VBROADCASTSS(v.k("NINF"), reg.K1, t)
		c.VCMPPS(operand.U8(1), u, x, reg.K2)
		c.VPTERNLOGD(operand.U8(0xff), t, t, reg.K2, t)
		c.VMOVAPS(t, x)
		return
	}
	v.cmpK(5, "INF", x, u)
	c.VBLENDVPS(u, x, t, t)
	c.VXORPS(u, u, u)
	c.VCMPPS(operand.U8(0), u, x, m)
	c.VBLENDVPS(m, v.k("NINF"), t, t)
	c.VCMPPS(operand.U8(1), u, x, m)
	c.VORPS(m, t, x)
}

// atanh2 sets out = 2·atanh(s) = log((1 + s)/(1 − s)) for s in [0, 1/3]
// (atanh2Unit32), by the odd series to s^15; s2 and p are clobbered, out
// may be s.
func (v vec) atanh2(s, s2, p, out Op) {
	c := v.c
	c.VMULPS(s, s, s2)
	v.loadK("A15", p)
	for _, a := range []string{"A13", "A11", "A9", "A7", "A5", "A3"} {
		v.fma213K(a, s2, p)
	}
	c.VMULPS(s2, p, p)
	c.VFMADD213PS(s, s, p)
	c.VADDPS(p, p, out)
}

// logistic sets, from e = exp(−|x|), l = log1p(e), p = sigmoid(x) and
// pn = sigmoid(−x) (logistic32): r = 1/(1 + e) for the one on x's side
// (x >= 0: p), e·r for the other, so that neither is 1 − sigmoid;
// l = 2·atanh(s), s = e/(2 + e). x is kept; t1..t4 (and K1, K2 for
// AVX-512) are clobbered.
func (v vec) logistic(x, l, p, pn, e, t1, t2, t3, t4 Op) {
	c := v.c
	v.orK("SIGN", x, e)
	v.exp(e, t1, t2, t3, t4)
	v.addK("TWO", e, t1)
	c.VDIVPS(t1, e, t1)
	v.atanh2(t1, t3, t4, l)
	v.addK("ONE", e, t1)
	v.loadK("ONE", t2)
	c.VDIVPS(t1, t2, t2)
	c.VMULPS(t2, e, t3)
	v.zero(t1)
	m := t4
	if v.z {
		m = reg.K2
	}
	c.VCMPPS(operand.U8(13), t1, x, m)
	v.sel(m, t2, t3, p)
	v.sel(m, t3, t2, pn)
}
