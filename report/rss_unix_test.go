//go:build unix

package report

import (
	"runtime"
	"syscall"
)

// peakRSS is the process's peak resident set size in bytes, 0 if unknown.
func peakRSS() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) // bytes
	}
	return float64(ru.Maxrss) * 1024 // kilobytes
}
