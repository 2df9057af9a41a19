//go:build !unix

package report

// peakRSS is the process's peak resident set size in bytes, 0 if unknown.
func peakRSS() float64 { return 0 }
