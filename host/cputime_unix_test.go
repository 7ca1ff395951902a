//go:build unix

package host

import "syscall"

// cpuTime is the CPU time this process has used, all threads, in
// nanoseconds: on a shared machine it moves less with other people's load
// than the wall clock does.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
