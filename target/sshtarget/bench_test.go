package sshtarget_test

import (
	"context"
	"testing"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// The benchmarks measure the SSH target over loopback against the local
// target, and report what a walk of /usr costs the connection: sessions
// and bytes each way per walk. Loopback has no latency, so they measure
// the protocol and the host's work, not a network.

func benchTargets(b *testing.B) (local target.Target, ssh *sshtarget.Target) {
	e := newEnv(b, sshtest.Options{})
	return target.NewLocal(), dial(b, e.config(e.users.NoSudo))
}

func BenchmarkWalkUsr(b *testing.B) {
	local, ssh := benchTargets(b)
	ctx := context.Background()
	walk := func(b *testing.B, tg target.Target) {
		entries := 0
		for b.Loop() {
			n, err := walkCount(ctx, tg, "/usr")
			if err != nil {
				b.Fatal(err)
			}
			entries = n
		}
		b.ReportMetric(float64(entries), "entries")
	}
	b.Run("local", func(b *testing.B) { walk(b, local) })
	for _, sftpWalk := range []bool{false, true} {
		name := "ssh-find"
		if sftpWalk {
			name = "ssh-sftp"
		}
		b.Run(name, func(b *testing.B) {
			sshtarget.SetSFTPWalk(ssh, sftpWalk)
			defer sshtarget.SetSFTPWalk(ssh, false)
			s0 := ssh.Stats()
			walk(b, ssh)
			s1 := ssh.Stats()
			n := float64(b.N)
			b.ReportMetric(float64(s1.Sessions-s0.Sessions)/n, "sessions/op")
			b.ReportMetric(float64(s1.BytesIn-s0.BytesIn)/n, "bytes-in/op")
			b.ReportMetric(float64(s1.BytesOut-s0.BytesOut)/n, "bytes-out/op")
		})
	}
}

func BenchmarkReadFile(b *testing.B) {
	local, ssh := benchTargets(b)
	ctx := context.Background()
	files := []struct{ name, path string }{
		{"small", "/etc/passwd"},
		{"2MiB", "/usr/lib/x86_64-linux-gnu/libc.so.6"},
	}
	for _, f := range files {
		for _, tg := range []target.Target{local, ssh} {
			b.Run(f.name+"/"+tg.Name()[:min(3, len(tg.Name()))], func(b *testing.B) {
				var size int
				for b.Loop() {
					data, err := tg.ReadFile(ctx, f.path, 8<<20)
					if err != nil {
						b.Skipf("%s: %v", f.path, err)
					}
					size = len(data)
				}
				b.SetBytes(int64(size))
			})
		}
	}
}

func BenchmarkRun(b *testing.B) {
	local, ssh := benchTargets(b)
	ctx := context.Background()
	for _, tg := range []target.Target{local, ssh} {
		b.Run(tg.Name()[:min(3, len(tg.Name()))], func(b *testing.B) {
			for b.Loop() {
				if _, err := tg.Run(ctx, []string{"true"}, 1024); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDial(b *testing.B) {
	e := newEnv(b, sshtest.Options{})
	sudo := e.config(e.users.Sudo)
	sudo.Sudo = sshtarget.SudoSudo
	for name, cfg := range map[string]sshtarget.Config{"login": e.config(e.users.NoSudo), "sudo": sudo} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				tg, err := sshtarget.Dial(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				tg.Close()
			}
		})
	}
}
