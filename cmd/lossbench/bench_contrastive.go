package main

import (
	"math/rand/v2"

	"github.com/lossengine/lossengine/device"
	"github.com/lossengine/lossengine/losses"
)

// The contrastive losses in the sweep (not in the default sweep: run them
// with -loss). nt_xent_loss: NxD, the two-view form (embeddings = z1, z2 [N, D]);
// info_nce_loss: BxD, in-batch (query, positive_key [B, D]); supcon_loss:
// BxD, two views of B samples (features [B, 2, D]), no labels. Each call computes the loss and the gradient w.r.t.
// every embedding input.
func init() {
	benchLosses = append(benchLosses,
		benchLoss{name: "nt_xent_loss", dims: 2, shapes: []string{"2048x128"},
			byteModel: "NxD two views: reads 2*N*D embeddings, writes 2*N*D gradients: 4*4*N*D bytes " +
				"(and 5 products of (2N)x(2N)xD multiply-adds: the similarities, recomputed by each gradient side)",
			prepare: prepareNTXent},
		benchLoss{name: "info_nce_loss", dims: 2, shapes: []string{"2048x128"},
			byteModel: "BxD in-batch: reads 2*B*D embeddings, writes 2*B*D gradients: 4*4*B*D bytes",
			prepare:   prepareInfoNCE},
		benchLoss{name: "supcon_loss", dims: 2, shapes: []string{"1024x128"},
			byteModel: "BxD, V = 2 views: reads 2*B*D features, writes 2*B*D gradients: 4*4*B*D bytes",
			prepare:   prepareSupCon},
	)
}

func prepareNTXent(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	n, d := shape[0], shape[1]
	ins := map[string]hostIn{"embeddings": {normals(rng, n*d), []int{n, d}}, "z2": {normals(rng, n*d), []int{n, d}}}
	return prepareDecl(dev, mustDecl("nt_xent_loss"), ins, losses.NTXentOptions{}, nil, nil, 4*4*int64(n)*int64(d))
}

func prepareInfoNCE(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	b, d := shape[0], shape[1]
	ins := map[string]hostIn{"query": {normals(rng, b*d), []int{b, d}}, "positive_key": {normals(rng, b*d), []int{b, d}}}
	return prepareDecl(dev, mustDecl("info_nce_loss"), ins, losses.InfoNCEOptions{}, nil, nil, 4*4*int64(b)*int64(d))
}

func prepareSupCon(dev device.Device, shape []int, rng *rand.Rand) (*benchCase, error) {
	b, v, d := shape[0], 2, shape[1]
	ins := map[string]hostIn{"features": {normals(rng, b*v*d), []int{b, v, d}}}
	return prepareDecl(dev, mustDecl("supcon_loss"), ins, losses.SupConOptions{}, nil, nil, 4*2*int64(b)*int64(v)*int64(d))
}
