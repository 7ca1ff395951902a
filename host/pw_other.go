//go:build !amd64 || purego

package host

// vecLoop reports false: the vector loops are built for amd64 alone.
func vecLoop(op int32, p0, p1, p2, gs float32, args *pwArgs) bool { return false }
