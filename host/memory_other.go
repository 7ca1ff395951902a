//go:build !linux

package host

// physicalMemory is the machine's RAM in bytes (0 if unknown).
func physicalMemory() int64 { return 0 }
