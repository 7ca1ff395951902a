package host

// alphaLin and betaLin: the float32 mirror's probability-domain path.
func (j *ctcJob[T]) alphaLin(n, tn int, lab []int32) (float64, bool) { return 0, false }

func (j *ctcJob[T]) betaLin(n, tn int, lab []int32, scale float64, gradOn bool) (float64, bool) {
	return 0, false
}
