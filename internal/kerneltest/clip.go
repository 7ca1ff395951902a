package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lossengine/lossengine/internal/kernelspec"
)

func init() { addFamily("clip", testClip, clipSizeCases) }

// Tolerances of the clip family, float32 kernels against the float64
// mirror on the same float32 inputs: partial states (s is a power of two,
// exact on both sides; q a float32 sum of ≤ n/blocks terms), the total and
// the coefficient.
var (
	clipStateTol = tol{rel: 2e-5}
	clipTotalTol = tol{rel: 2e-5}
)

// clipData returns n gradient values of the given kind: "normal" (N(0, 1)),
// "huge" (|g| near 1e30, whose squares overflow float32), "tiny" (|g| near
// 1e-30, whose squares underflow it), "mixed" (scales 1e-20 to 1e20),
// "nonfinite" (normal with a NaN, +Inf and −Inf), "inf" (normal with one
// −Inf) and "zeros".
func clipData(rng *rand.Rand, n int, kind string) []float32 {
	x := randn(rng, n, 1)
	switch kind {
	case "huge":
		for i := range x {
			x[i] *= 1e30
		}
	case "tiny":
		for i := range x {
			x[i] *= 1e-30
		}
	case "mixed":
		for i := range x {
			x[i] *= float32(math.Pow(10, float64(rng.IntN(41)-20)))
		}
	case "nonfinite":
		for k, v := range []float32{nan, posInf, negInf} {
			x[(k*n)/3] = v
		}
	case "inf":
		x[n/2] = negInf
	case "zeros":
		clear(x)
	}
	return x
}

var clipNorms = []struct {
	p    float64
	pinf int32
}{{2, 0}, {1, 0}, {3, 0}, {0.5, 0}, {1, 1}}

func testClip(t *testing.T, s *suite) {
	t.Run("clip_norm_partial", func(t *testing.T) { testClipPartial(t, s) })
	t.Run("clip_norm_total", func(t *testing.T) { testClipTotal(t, s) })
	t.Run("clip_scale", func(t *testing.T) { testClipScale(t, s) })
	t.Run("clip_value", func(t *testing.T) { testClipValue(t, s) })
}

// testClipPartial: the partial states of a buffer at an offset inside a
// larger one, into the middle of a workspace prefilled with 42 (the slots
// before and after must stay 42).
func testClipPartial(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 7, 300, 1001, 70001} {
		for _, kind := range []string{"normal", "huge", "tiny", "mixed", "nonfinite", "inf", "zeros"} {
			for _, nt := range clipNorms {
				for _, blocks := range grids(n) {
					seed := i
					i++
					name := fmt.Sprintf("n=%d/%s/p=%v/inf=%d/blocks=%d", n, kind, nt.p, nt.pinf, blocks)
					t.Run(name, func(t *testing.T) {
						r := s.rig(t)
						rng := newRand(71, seed)
						const off, slot = 5, 2
						g := append(append(filled(off, 1e30), clipData(rng, n, kind)...), filled(3, nan)...)
						r.launch("clip_norm_partial", blocks, g, int32(off), int32(n), nt.p, nt.pinf, int32(slot),
							filled(3*(slot+blocks+1), 42))
						r.compare(exact, on("ws", clipStateTol))
					})
				}
			}
		}
	}
}

// testClipTotal: the total and coefficient from random states (powers of
// two s from 2⁻¹²⁶ to 2¹²⁷, q from 0 to 600, e mostly 0), and from the
// mirror's states of real data, for every mode, a max_norm that clips and
// one that does not.
func testClipTotal(t *testing.T, s *suite) {
	i := 0
	for _, slots := range []int{0, 1, 5, 300, 3000} {
		for _, e := range []float32{0, posInf, nan} {
			for _, nt := range clipNorms {
				for _, mode := range []int32{0, kernelspec.ClipOptax, kernelspec.ClipErrorNonfinite} {
					for _, maxNorm := range []float64{0.5, 1e30} {
						seed := i
						i++
						if mode == kernelspec.ClipOptax && (nt.p != 2 || nt.pinf != 0) {
							continue
						}
						if e != 0 && slots == 0 {
							continue
						}
						name := fmt.Sprintf("slots=%d/e=%v/p=%v/inf=%d/mode=%d/max=%g", slots, e, nt.p, nt.pinf, mode, maxNorm)
						t.Run(name, func(t *testing.T) {
							r := s.rig(t)
							rng := newRand(72, seed)
							ws := make([]float32, 3*slots)
							// scales within 2^±20 of a common one, so that
							// several slots count; one far smaller
							base := rng.IntN(200) - 110
							for k := range slots {
								ws[3*k] = float32(math.Ldexp(1, base+rng.IntN(20)))
								ws[3*k+1] = float32(rng.Float64() * 600)
								if nt.pinf != 0 {
									ws[3*k] = float32(math.Ldexp(1+rng.Float64(), base+rng.IntN(20)))
									ws[3*k+1] = 0
								}
							}
							if slots > 1 {
								ws[0] = float32(math.Ldexp(1, -126))
							}
							if slots > 0 {
								ws[3*(slots/2)+2] = e
							}
							r.launch("clip_norm_total", 1, ws, int32(slots), nt.p, nt.pinf, maxNorm, mode, filled(3, 42))
							r.compare(exact, on("st", clipTotalTol))
						})
					}
				}
			}
		}
	}
	for _, kind := range []string{"normal", "huge", "tiny", "mixed"} {
		for _, nt := range clipNorms {
			t.Run(fmt.Sprintf("from-data/%s/p=%v/inf=%d", kind, nt.p, nt.pinf), func(t *testing.T) {
				r := s.rig(t)
				const n = 100003
				blocks := partialBlocks(n)
				g := clipData(newRand(73, int(nt.p*10)+int(nt.pinf)), n, kind)
				r.launch("clip_norm_partial", blocks, g, int32(0), int32(n), nt.p, nt.pinf, int32(0), zeros(3*blocks))
				r.compare(exact, on("ws", clipStateTol))
				ws := r.mirror("ws")
				r.launch("clip_norm_total", 1, ws, int32(blocks), nt.p, nt.pinf, 1.0, int32(0), zeros(3))
				r.compare(exact, on("st", clipTotalTol))
			})
		}
	}
}

// testClipScale: a coefficient applied to a buffer at an offset, in place
// and into another buffer (prefilled with 42), and the skip flags (1:
// coef 1, written only out of place; 2: nothing written); elements outside
// [off, off+n) stay.
func testClipScale(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{1, 300, 70001} {
		for _, st := range [][]float32{{5, 0.37, 0}, {5, 1, 1}, {nan, nan, 2}, {nan, nan, 0}, {posInf, 0, 0}} {
			for _, inplace := range []int32{1, 0} {
				for _, blocks := range grids(n) {
					seed := i
					i++
					t.Run(fmt.Sprintf("n=%d/st=%v/inplace=%d/blocks=%d", n, st, inplace, blocks), func(t *testing.T) {
						r := s.rig(t)
						x := r.buf(clipData(newRand(74, seed), n+9, "nonfinite"))
						var y any = x
						if inplace == 0 {
							y = filled(n+9, 42)
						}
						r.launch("clip_scale", blocks, x, int32(4), int32(n), st, inplace, y)
						r.compare(exact)
					})
				}
			}
		}
	}
}

// testClipValue: clamping with NaN and ±Inf in the data, at 0.5 and at
// +Inf (no change).
func testClipValue(t *testing.T, s *suite) {
	i := 0
	for _, n := range []int{0, 1, 300, 70001} {
		for _, v := range []float64{0.5, math.Inf(1)} {
			for _, blocks := range grids(n) {
				seed := i
				i++
				t.Run(fmt.Sprintf("n=%d/v=%v/blocks=%d", n, v, blocks), func(t *testing.T) {
					r := s.rig(t)
					g := filled(3, 7)
					if n > 0 {
						g = append(clipData(newRand(75, seed), n, "nonfinite"), 7, 7, 7)
					}
					r.launch("clip_value", blocks, g, int32(n), v)
					r.compare(exact)
				})
			}
		}
	}
}

// clipSizeCases: 300 elements over two blocks.
func clipSizeCases() []sizeCase {
	const m = 300
	return []sizeCase{
		{kernel: "clip_norm_partial", what: "offset and slot", blocks: 2,
			args: []any{need(m + 4), int32(4), int32(m), 2.0, int32(0), int32(1), need(3 * 3)}},
		{kernel: "clip_norm_total", what: "slots", blocks: 1,
			args: []any{needFill(3*5, 0.5), int32(5), 2.0, int32(0), 1.0, int32(0), need(3)}},
		{kernel: "clip_scale", what: "offset", blocks: 2, guarded: true,
			args: []any{need(m + 4), int32(4), int32(m), needFill(3, 0.5), int32(0), need(m + 4)}},
		{kernel: "clip_value", what: "in place", blocks: 2, guarded: true,
			args: []any{need(m), int32(m), 0.3}},
	}
}
