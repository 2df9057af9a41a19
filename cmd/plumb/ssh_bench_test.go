package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/sshtest"
)

// BenchmarkSSHFleet scans 50 loopback hosts with the full baseline
// (plumb-linux-l2) at concurrency 1, 10 and 50 and prints hosts per
// minute, the scanner's peak RSS and SSH sessions per host; then the
// overhead of an SSH scan of this machine over a local scan of it.
//
// Each host is a private sshd whose sessions are chrooted into the cached
// Debian 12 root (test.sh builds it), so a host is a small real Debian
// system rather than 50 copies of this machine's whole file system.
//
//	PLUMB_TEST_DEBIAN_ROOT=/var/cache/plumb-test/debootstrap-bookworm \
//	  go test ./cmd/plumb -run '^$' -bench SSHFleet -benchtime 1x
func BenchmarkSSHFleet(b *testing.B) {
	root := debianRoot(b)
	const hosts = 50
	key := sshtest.NewKey(b, "")
	dir := b.TempDir()
	keyFile := key.WriteFile(b, dir)
	var known, inv strings.Builder
	inv.WriteString("defaults:\n  user: root\n  key: " + keyFile + "\n  known_hosts: " + filepath.Join(dir, "known_hosts") + "\nhosts:\n")
	for i := range hosts {
		srv := sshtest.Start(b, sshtest.Options{Config: []string{"ChrootDirectory " + root}})
		srv.AuthorizeKey(b, "root", key.Public)
		known.WriteString(srv.KnownHostsLine() + "\n")
		fmt.Fprintf(&inv, "  - {host: %s, port: %d, name: host%02d}\n", srv.Host, srv.Port, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	invFile := filepath.Join(dir, "hosts.yaml")
	if err := os.WriteFile(invFile, []byte(inv.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, c := range []int{1, 10, 50} {
		start := time.Now()
		out, stderr, code := run(b, "scan", "--targets", invFile, "--policy", "plumb-linux-l2", "--format", "json", "--no-progress", "--agent=false", "--concurrency", fmt.Sprint(c))
		wall := time.Since(start)
		if code != 0 {
			b.Fatalf("concurrency %d: exit %d: %s", c, code, stderr)
		}
		rep := decode(b, out)
		sessions, failed := 0, 0
		for _, h := range rep.Hosts {
			sessions += h.Stats.SSHSessions
			if h.Error != "" {
				failed++
			}
		}
		perMin := float64(len(rep.Hosts)) / wall.Minutes()
		b.Logf("concurrency %2d: %d hosts (%d failed) in %.1fs = %.0f hosts/min, %.1f SSH sessions per host, scanner peak RSS %.0f MiB so far",
			c, len(rep.Hosts), failed, wall.Seconds(), perMin, float64(sessions)/float64(len(rep.Hosts)), maxRSS())
		b.ReportMetric(perMin, fmt.Sprintf("hosts/min@c%d", c))
	}

	// Overhead: this machine over SSH against the same machine locally.
	_, flags := sshRoot(b)
	args := []string{"scan", "--policy", "plumb-linux-l2", "--format", "json", "--no-progress"}
	start := time.Now()
	if _, stderr, code := run(b, args...); code != 0 {
		b.Fatalf("local: exit %d: %s", code, stderr)
	}
	local := time.Since(start)
	start = time.Now()
	if _, stderr, code := run(b, append(args, flags...)...); code != 0 {
		b.Fatalf("ssh: exit %d: %s", code, stderr)
	}
	remote := time.Since(start)
	b.Logf("this machine, plumb-linux-l2: local %.1fs, over SSH %.1fs (%.1fx)", local.Seconds(), remote.Seconds(), remote.Seconds()/local.Seconds())
	b.ReportMetric(remote.Seconds()/local.Seconds(), "ssh/local")
}

// maxRSS is this process's peak resident set in MiB.
func maxRSS() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}
