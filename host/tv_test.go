package host

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTVGradL1Row checks the float32 rows of tv_grad (the inner loop on
// the sign bits) against the float64 rows on the same values, specials
// included: every element must be the float64 one rounded to float32.
func TestTVGradL1Row(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	specials := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -1e-45, float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), 3.4e38, -3.4e38}
	const f = 0.37
	var tab32 [9]float32
	var tab64 [9]float64
	for k := range tab32 {
		tab32[k], tab64[k] = float32(f*float64(k-4)), f*float64(k-4)
	}
	for it := range 3000 {
		w := 1 + r.IntN(20)
		rows := make([][]float32, 3)
		for i := range rows {
			rows[i] = make([]float32, w)
			for j := range rows[i] {
				switch {
				case it%3 == 0 && r.IntN(8) == 0:
					rows[i][j] = specials[r.IntN(len(specials))]
				case r.IntN(3) == 0:
					rows[i][j] = float32(r.IntN(3))
				default:
					rows[i][j] = r.Float32()
				}
			}
		}
		to64 := func(v []float32) []float64 {
			o := make([]float64, len(v))
			for i, x := range v {
				o[i] = float64(x)
			}
			return o
		}
		up, dn := rows[0], rows[2]
		up64, dn64 := to64(up), to64(dn)
		if it%5 == 1 {
			up, up64 = nil, nil
		}
		if it%7 == 2 {
			dn, dn64 = nil, nil
		}
		g32, g64 := make([]float32, w), make([]float64, w)
		tvGradL1Row(rows[1], up, dn, g32, &tab32, f)
		tvGradL1Row(to64(rows[1]), up64, dn64, g64, &tab64, f)
		for j := range w {
			want := float32(g64[j])
			if math.Float32bits(g32[j]) != math.Float32bits(want) && !(g32[j] != g32[j] && want != want) {
				t.Fatalf("case %d col %d: %v, want %v (rows %v)", it, j, g32[j], want, rows)
			}
		}
	}
}
