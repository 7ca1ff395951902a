
// A logits tile hidden·Wᵀ + bias on Go slices: hidden [2, 3], W [4, 3]
// (trans_b), bias [4].
func ExampleMatmul() {
	hidden := []float32{1, 2, 3, 4, 5, 6}
	w := []float32{1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}
	bias := []float32{0, 0, 0, 0.5}
	logits := make([]float32, 2*4)
	if err := Matmul(false, true, 2, 4, 3, 1, hidden, w, 0, logits, bias); err != nil {
		fmt.Println(err)
	}
	fmt.Println(logits)
	// Output: [1 2 3 6.5 4 5 6 15.5]
}
