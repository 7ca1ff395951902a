//go:build !amd64 || purego

package host

// hasAVX2FMA is false where the vector loops are not built.
const hasAVX2FMA = false

// hasAVX512 is false where the vector loops are not built.
const hasAVX512 = false
