package sshtarget

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plumbhq/plumb/target"
)

// unameScript prints the kernel name, release and machine, then the host
// name (the kernel's node name, as os.Hostname reads it locally).
const unameScript = shellPrelude + "uname -srm && uname -n"

// Facts reads os-release over SFTP and the kernel and host name with one
// command, both at once. Live is true. An OS without os-release is not an
// error (the Technology is then empty); a failure of either part is
// returned with the facts known.
func (t *Target) Facts(ctx context.Context) (target.Facts, error) {
	type osr struct {
		kv  map[string]string
		err error
	}
	ch := make(chan osr, 1)
	go func() {
		kv, err := target.ReadOSRelease(ctx, t)
		ch <- osr{kv, err}
	}()
	uctx, cancel := context.WithTimeout(ctx, t.cfg.CommandTimeout)
	defer cancel()
	res, uerr := t.runScript(uctx, unameScript, nil, 4096)
	o := <-ch
	f := target.OSReleaseFacts(o.kv)
	f.Live = true
	if uerr == nil && res.Exit != 0 {
		uerr = fmt.Errorf("exit %d: %q", res.Exit, clip(string(res.Stderr), 200))
	}
	if uerr == nil {
		uerr = parseUname(&f, string(res.Stdout))
	}
	if uerr != nil {
		uerr = fmt.Errorf("facts of %s: uname: %w", t.name, uerr)
	}
	return f, errors.Join(o.err, uerr)
}

// parseUname fills Family, Kernel, Arch and Hostname from
// "Linux 6.1.0-18-amd64 x86_64\nhost\n". Values are host text: control
// characters are dropped and lengths bounded.
func parseUname(f *target.Facts, out string) error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		return fmt.Errorf("unexpected output %q", clip(out, 200))
	}
	fields := strings.Fields(lines[0])
	if len(fields) != 3 {
		return fmt.Errorf("unexpected output %q", clip(out, 200))
	}
	f.Family = strings.ToLower(printable(fields[0], 64))
	f.Kernel = printable(fields[1], 256)
	f.Arch = goarch(printable(fields[2], 64))
	f.Hostname = printable(strings.TrimSpace(lines[1]), 256)
	return nil
}

// printable keeps the printable ASCII of s, at most n bytes.
func printable(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// goarch maps uname -m to Go's GOARCH spelling, as target.Local reports
// runtime.GOARCH; an unknown machine is kept as the host says it.
func goarch(m string) string {
	switch m {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i486", "i586", "i686":
		return "386"
	case "ppc64le":
		return "ppc64le"
	case "ppc64":
		return "ppc64"
	case "s390x":
		return "s390x"
	case "riscv64":
		return "riscv64"
	case "loongarch64":
		return "loong64"
	case "mips64":
		return "mips64"
	}
	if strings.HasPrefix(m, "armv") {
		return "arm"
	}
	return m
}
