package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// batch_triplet_loss in the sweep (not in the default sweep: run it with
// -loss). A shape is BxD: B embeddings of D values in 16 classes; each
// call computes the batch-hard loss (margin 1, l2) and its gradient.
func init() {
	benchLosses = append(benchLosses, benchLoss{name: "batch_triplet_loss", dims: 2, shapes: []string{"1024x128"},
		byteModel: "BxD, batch-hard: reads B*D embeddings and B labels, writes B*D gradients: 4*(2*B*D + B) bytes",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			b, dim := s[0], s[1]
			x := make([]float32, b*dim)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			lab := make([]int32, b)
			for i := range lab {
				lab[i] = int32(r.IntN(16))
			}
			ins := map[string]hostIn{"embeddings": {x, []int{b, dim}}, "labels": {lab, []int{b}}}
			return prepareDecl(d, mustDecl("batch_triplet_loss"), ins, losses.BatchTripletLossOptions{},
				[]string{"loss", "grad_embeddings"}, nil, 4*(2*int64(b)*int64(dim)+int64(b)))
		}})
	// circle_loss: Keras' defaults (gamma 80, margin 0.4), 16 classes.
	benchLosses = append(benchLosses, benchLoss{name: "circle_loss", dims: 2, shapes: []string{"1024x128"},
		byteModel: "BxD: reads B*D embeddings and B labels, writes B*D gradients: 4*(2*B*D + B) bytes",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			b, dim := s[0], s[1]
			x := make([]float32, b*dim)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			lab := make([]int32, b)
			for i := range lab {
				lab[i] = int32(r.IntN(16))
			}
			ins := map[string]hostIn{"embeddings": {x, []int{b, dim}}, "labels": {lab, []int{b}}}
			return prepareDecl(d, mustDecl("circle_loss"), ins, losses.CircleLossOptions{},
				[]string{"loss", "grad_embeddings"}, nil, 4*(2*int64(b)*int64(dim)+int64(b)))
		}})
	// barlow_twins_loss: NxD views, batch_norm, lambd 5e-3, gradients
	// w.r.t. both.
	benchLosses = append(benchLosses, benchLoss{name: "barlow_twins_loss", dims: 2, shapes: []string{"512x1024"},
		byteModel: "NxD, batch_norm: reads 2*N*D values, writes 2*N*D gradients: 4*4*N*D bytes (and 3*N*D*D multiply-adds)",
		prepare: func(d device.Device, s []int, r *rand.Rand) (*benchCase, error) {
			n, dim := s[0], s[1]
			z1, z2 := make([]float32, n*dim), make([]float32, n*dim)
			for i := range z1 {
				z1[i] = float32(r.NormFloat64())
				z2[i] = 0.6*z1[i] + float32(r.NormFloat64())
			}
			ins := map[string]hostIn{"z1": {z1, []int{n, dim}}, "z2": {z2, []int{n, dim}}}
			return prepareDecl(d, mustDecl("barlow_twins_loss"), ins, losses.BarlowTwinsLossOptions{},
				[]string{"loss", "grad_z1", "grad_z2"}, nil, 4*4*int64(n)*int64(dim))
		}})
}
