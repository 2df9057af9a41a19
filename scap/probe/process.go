package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/plumbhq/plumb/scap/oval"
)

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux architecture Plumb runs on (oscap asks sysconf, which says
// the same).
const clockTicks = 100

// pfKthread is PF_KTHREAD in /proc/PID/stat's flags.
const pfKthread = 0x00200000

// procStat is what process58 uses of /proc/PID/stat.
type procStat struct {
	pid      int64
	comm     string
	state    byte
	ppid     int64
	session  int64
	ttyNr    int64
	flags    uint64
	utime    uint64
	stime    uint64
	priority int64
	start    uint64 // clock ticks after boot
	policy   int64  // scheduling policy; -1 when the kernel does not say
}

// parseProcStat parses /proc/PID/stat: "pid (comm) state ppid ...". The
// command name may hold spaces and parentheses, so it runs to the last
// ')'.
func parseProcStat(b []byte) (procStat, error) {
	var st procStat
	open := bytes.IndexByte(b, '(')
	closing := bytes.LastIndexByte(b, ')')
	if open < 0 || closing < open {
		return st, errors.New("no (comm)")
	}
	pid, err := strconv.ParseInt(string(bytes.TrimSpace(b[:open])), 10, 64)
	if err != nil || pid <= 0 {
		return st, fmt.Errorf("bad pid %q", b[:open])
	}
	st.pid = pid
	st.comm = string(b[open+1 : closing])
	f := strings.Fields(string(b[closing+1:]))
	if len(f) < 20 {
		return st, fmt.Errorf("%d fields after the command name, want at least 20", len(f))
	}
	if len(f[0]) != 1 {
		return st, fmt.Errorf("bad state %q", f[0])
	}
	st.state = f[0][0]
	ints := []struct {
		dst *int64
		i   int
	}{{&st.ppid, 1}, {&st.session, 3}, {&st.ttyNr, 4}, {&st.priority, 15}}
	for _, x := range ints {
		if *x.dst, err = strconv.ParseInt(f[x.i], 10, 64); err != nil {
			return st, fmt.Errorf("field %d: %v", x.i+3, err)
		}
	}
	uints := []struct {
		dst *uint64
		i   int
	}{{&st.flags, 6}, {&st.utime, 11}, {&st.stime, 12}, {&st.start, 19}}
	for _, x := range uints {
		if *x.dst, err = strconv.ParseUint(f[x.i], 10, 64); err != nil {
			return st, fmt.Errorf("field %d: %v", x.i+3, err)
		}
	}
	st.policy = -1
	if len(f) > 38 {
		if v, err := strconv.ParseInt(f[38], 10, 64); err == nil {
			st.policy = v
		}
	}
	return st, nil
}

// cmdlineString turns /proc/PID/cmdline into a command line as oscap (and
// ps in the C locale) shows it: trailing NULs dropped, the NULs between
// arguments and newlines made spaces, other unprintable bytes '.'.
func cmdlineString(b []byte) string {
	i := len(b) - 1
	for i > 0 && b[i] == 0 {
		i--
	}
	out := make([]byte, i+1)
	for j := 0; j <= i; j++ {
		c := b[j]
		switch {
		case c == 0 || c == '\n':
			c = ' '
		case c < 0x20 || c >= 0x7f:
			c = '.'
		}
		out[j] = c
	}
	return string(out)
}

// procEntry is one process of the snapshot every process58 object of a
// scan shares.
type procEntry struct {
	st  procStat
	cmd string
}

// vanished reports the errors of reading a process that has exited.
func vanished(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
}

// processes lists the target's user-space processes once per Prober: the
// stat and command line of each. Kernel threads (PF_KTHREAD; oscap skips
// kthreadd and its children, which are the same processes on a host) are
// left out, and so are processes that end while being read.
func (p *Prober) processes(ctx context.Context) ([]procEntry, error) {
	v, err := p.raw.do(ctx, "process58", func() (any, error) {
		ents, err := p.t.ReadDir(ctx, "/proc")
		if err != nil {
			return nil, err
		}
		var pids []int64
		for _, e := range ents {
			if n, err := strconv.ParseInt(path.Base(e.Path), 10, 64); err == nil && n > 0 {
				pids = append(pids, n)
			}
		}
		slices.Sort(pids)
		var out []procEntry
		for _, pid := range pids {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			dir := "/proc/" + strconv.FormatInt(pid, 10)
			b, err := p.t.ReadFile(ctx, dir+"/stat", 64<<10)
			if err != nil {
				continue // ended, or hidden from us
			}
			st, err := parseProcStat(b)
			if err != nil || st.flags&pfKthread != 0 {
				continue
			}
			e := procEntry{st: st}
			if st.state == 'Z' {
				e.cmd = "[" + st.comm + "] <defunct>"
			} else {
				b, err := p.t.ReadFile(ctx, dir+"/cmdline", p.opts.MaxFileSize)
				switch {
				case err != nil && vanished(err):
					continue
				case err != nil || len(b) == 0:
					e.cmd = st.comm // as oscap: the name when there is no command line
				default:
					e.cmd = cmdlineString(b)
				}
			}
			out = append(out, e)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]procEntry), nil
}

// collectProcess reports process58_object from /proc, with oscap's
// conventions: command_line is cmdlineString's ("[comm] <defunct>" for a
// zombie, the bare name when there is no command line); exec_time is
// user+system CPU time as [DD-]HH:MM:SS; start_time is HH:MM:SS when the
// process started today, else Mmm_DD, in the scanner's local time zone
// (the target's is not known); scheduling_class is TS, FF, RR, B, #5
// (SCHED_IDLE) or ?; tty is "?" without a terminal; posix_capability
// lists the effective capabilities that OVAL 5.11 names; exec_shield is
// oscap's heuristic over /proc/PID/maps (true when the last anonymous
// writable mapping is not an executable one at a non-zero offset);
// loginuid is 4294967295 when unset or when the kernel keeps none;
// selinux_domain_label is the type of the process's context, "does not
// exist" when SELinux is off. What cannot be read is "not collected".
//
// A root directory has no processes: the object is not collectable.
func (p *Prober) collectProcess(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	if !p.live(ctx) {
		return oval.Collected{}, notCollectable("process58_object", "processes need a live target")
	}
	ce, err := requireEntity(obj, "command_line")
	if err != nil {
		return oval.Collected{}, err
	}
	var pm *matcher
	if pe, ok := obj.Entity("pid"); ok && !pe.Nil {
		if pe.Datatype == "" {
			pe.Datatype = "int"
		}
		pm = newMatcher(p.pats, pe)
	}
	cm := newMatcher(p.pats, ce)
	procs, err := p.processes(ctx)
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: "/proc: " + errText(err)}, nil
	}
	r := newResult(obj)
	for _, e := range procs {
		if pm != nil {
			ok, err := pm.match(strconv.FormatInt(e.st.pid, 10))
			if err != nil {
				return oval.Collected{}, err
			}
			if !ok {
				continue
			}
		}
		ok, err := cm.match(e.cmd)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok {
			continue
		}
		if it, ok := p.processItem(ctx, e); ok {
			r.add(it, "")
		}
	}
	if err := ctx.Err(); err != nil {
		return oval.Collected{}, err
	}
	return r.collected(), nil
}

// processItem builds the item of a selected process; false when the
// process ended meanwhile.
func (p *Prober) processItem(ctx context.Context, e procEntry) (oval.Item, bool) {
	st := e.st
	dir := "/proc/" + strconv.FormatInt(st.pid, 10)
	notCollected := func(name, datatype string) oval.ItemEntity {
		return missingEnt(name, datatype, oval.StatusNotCollected)
	}
	status, err := p.t.ReadFile(ctx, dir+"/status", 1<<20)
	if err != nil && vanished(err) {
		return oval.Item{}, false
	}
	var uids []string
	var capEff string
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "Uid":
			uids = strings.Fields(v)
		case "CapEff":
			capEff = strings.TrimSpace(v)
		}
	}
	uid := func(name string, i int) oval.ItemEntity {
		if i < len(uids) {
			if n, err := strconv.ParseInt(uids[i], 10, 64); err == nil {
				return intEnt(name, n)
			}
		}
		return notCollected(name, "int")
	}

	schedClass := notCollected("scheduling_class", "")
	if st.policy >= 0 {
		c := "?"
		switch st.policy {
		case 0:
			c = "TS"
		case 1:
			c = "FF"
		case 2:
			c = "RR"
		case 3:
			c = "B"
		case 5:
			c = "#5"
		}
		schedClass = strEnt("scheduling_class", c)
	}

	startTime := notCollected("start_time", "")
	if boot, ok := p.bootTime(ctx); ok {
		startTime = strEnt("start_time", formatStartTime(time.Unix(boot+int64(st.start/clockTicks), 0), time.Now()))
	}

	execShield := notCollected("exec_shield", "boolean")
	if maps, err := p.t.ReadFile(ctx, dir+"/maps", p.opts.MaxFileSize); err == nil {
		execShield = boolEnt("exec_shield", execShieldHeuristic(maps))
	} else if vanished(err) {
		return oval.Item{}, false
	}

	loginuid := notCollected("loginuid", "int")
	switch b, err := p.t.ReadFile(ctx, dir+"/loginuid", 4096); {
	case err == nil:
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil {
			loginuid = uintEnt("loginuid", n)
		}
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := p.t.Stat(ctx, dir); serr != nil {
			return oval.Item{}, false
		}
		loginuid = uintEnt("loginuid", 4294967295) // no audit support: unset
	}

	ents := []oval.ItemEntity{
		strEnt("command_line", e.cmd),
		strEnt("exec_time", formatCPUTime(st.utime/clockTicks+st.stime/clockTicks)),
		intEnt("pid", st.pid),
		intEnt("ppid", st.ppid),
		intEnt("priority", st.priority),
		uid("ruid", 0),
		schedClass,
		startTime,
		strEnt("tty", p.ttyName(ctx, st.ttyNr)),
		uid("user_id", 1),
		execShield,
		loginuid,
	}
	if caps, ok := capabilityNames(capEff); ok {
		for _, c := range caps {
			ents = append(ents, strEnt("posix_capability", c))
		}
	} else {
		ents = append(ents, notCollected("posix_capability", ""))
	}
	ents = append(ents, p.selinuxLabel(ctx, dir), intEnt("session_id", st.session))
	return oval.Item{Entities: ents}, true
}

// formatCPUTime writes seconds as [DD-]HH:MM:SS.
func formatCPUTime(t uint64) string {
	s, m, h, d := t%60, t/60%60, t/3600%24, t/86400
	if d > 0 {
		return fmt.Sprintf("%d-%02d:%02d:%02d", d, h, m, s)
	}
	return fmt.Sprintf("%02d:%02d:%02d", h, m, s)
}

// formatStartTime is oscap's start_time: the time of day for a process
// started today, else the month and day.
func formatStartTime(start, now time.Time) string {
	start, now = start.Local(), now.Local()
	if start.YearDay() != now.YearDay() || start.Year() != now.Year() {
		return start.Format("Jan_02")
	}
	return start.Format("15:04:05")
}

// bootTime is btime of /proc/stat, read once.
func (p *Prober) bootTime(ctx context.Context) (int64, bool) {
	v, _ := p.raw.do(ctx, "btime", func() (any, error) {
		b, err := p.t.ReadFile(ctx, "/proc/stat", p.opts.MaxFileSize)
		if err != nil {
			return int64(-1), nil
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "btime "); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64); err == nil {
					return n, nil
				}
			}
		}
		return int64(-1), nil
	})
	n, ok := v.(int64)
	return n, ok && n >= 0
}

// execShieldHeuristic is oscap's reading of /proc/PID/maps (after Steve
// Grubb's lsexec): for the last anonymous mapping whose permissions start
// with "rw", exec shield counts as off when it is also executable at a
// non-zero offset, on otherwise; no such mapping counts as off. Exec
// shield itself is a long-gone Red Hat kernel patch; the entity is kept
// for agreement with oscap.
func execShieldHeuristic(maps []byte) bool {
	on := false
	for line := range strings.Lines(string(maps)) {
		f := strings.Fields(line)
		if len(f) != 5 || !strings.HasPrefix(f[1], "rw") {
			continue // a named mapping has a sixth field
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		major, minor, ok2 := strings.Cut(f[3], ":")
		if !ok || !ok2 || !isHex(lo) || !isHex(hi) || !isHex(major) || !isHex(minor) {
			continue
		}
		if _, err := strconv.ParseUint(f[4], 10, 64); err != nil {
			continue
		}
		off, err := strconv.ParseUint(f[2], 16, 64)
		if err != nil {
			continue
		}
		on = !(len(f[1]) > 2 && f[1][2] == 'x' && off != 0)
	}
	return on
}

func isHex(s string) bool {
	_, err := strconv.ParseUint(s, 16, 64)
	return err == nil
}

// capNames are the Linux capabilities by bit, as far as OVAL 5.11's
// EntityItemCapabilityType names them (CAP_PERFMON and later are not in
// it).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
}

// capabilityNames names the bits of a CapEff mask.
func capabilityNames(hex string) ([]string, bool) {
	if hex == "" {
		return nil, false
	}
	mask, err := strconv.ParseUint(hex, 16, 64)
	if err != nil {
		return nil, false
	}
	var out []string
	for bit, name := range capNames {
		if mask&(1<<bit) != 0 {
			out = append(out, name)
		}
	}
	return out, true
}

// selinuxLabel is the type of a process's SELinux context.
func (p *Prober) selinuxLabel(ctx context.Context, dir string) oval.ItemEntity {
	const name = "selinux_domain_label"
	on, _ := p.raw.do(ctx, "selinux", func() (any, error) {
		_, err := p.t.Stat(ctx, "/sys/fs/selinux/enforce")
		return err == nil, nil
	})
	if b, _ := on.(bool); !b {
		return missingEnt(name, "", oval.StatusNotExist)
	}
	b, err := p.t.ReadFile(ctx, dir+"/attr/current", 4096)
	if err != nil {
		return missingEnt(name, "", oval.StatusNotCollected)
	}
	parts := strings.SplitN(strings.TrimRight(string(b), "\x00\n"), ":", 4)
	if len(parts) < 3 {
		return missingEnt(name, "", oval.StatusError)
	}
	return strEnt(name, parts[2])
}

// ttyDriver is a line of /proc/tty/drivers.
type ttyDriver struct {
	dev          string // device path without /dev/
	major        int64
	minLo, minHi int64
}

// ttyName names a controlling terminal from stat's tty_nr as ps does
// (abbreviated, without /dev/): "?" for none, pts/N for pseudo
// terminals, ttyN, ttySN and console for the usual devices, then the
// kernel's driver table with the names that exist on the target.
func (p *Prober) ttyName(ctx context.Context, nr int64) string {
	if nr == 0 {
		return "?"
	}
	major := (nr >> 8) & 0xfff
	minor := (nr & 0xff) | ((nr >> 12) & 0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return "pts/" + strconv.FormatInt(minor+(major-136)*256, 10)
	case major == 4 && minor < 64:
		return "tty" + strconv.FormatInt(minor, 10)
	case major == 4 && minor < 256:
		return "ttyS" + strconv.FormatInt(minor-64, 10)
	case major == 5 && minor == 1:
		return "console"
	case major == 5 && minor == 0:
		return "tty"
	}
	v, _ := p.raw.do(ctx, "ttydrivers", func() (any, error) {
		b, err := p.t.ReadFile(ctx, "/proc/tty/drivers", 1<<20)
		if err != nil {
			return []ttyDriver(nil), nil
		}
		return parseTTYDrivers(b), nil
	})
	drivers, _ := v.([]ttyDriver)
	for _, d := range drivers {
		if d.major != major || minor < d.minLo || minor > d.minHi {
			continue
		}
		for _, cand := range []string{
			d.dev + strconv.FormatInt(minor, 10),
			d.dev + "/" + strconv.FormatInt(minor, 10),
			d.dev + strconv.FormatInt(minor-d.minLo, 10),
		} {
			if _, err := p.t.Stat(ctx, "/dev/"+cand); err == nil {
				return cand
			}
		}
	}
	return "?"
}

func parseTTYDrivers(b []byte) []ttyDriver {
	var out []ttyDriver
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[1], "/dev/") {
			continue
		}
		major, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			continue
		}
		lo, hi, isRange := strings.Cut(f[3], "-")
		l, err1 := strconv.ParseInt(lo, 10, 64)
		h := l
		var err2 error
		if isRange {
			h, err2 = strconv.ParseInt(hi, 10, 64)
		}
		if err1 != nil || err2 != nil || h < l {
			continue
		}
		out = append(out, ttyDriver{dev: strings.TrimPrefix(f[1], "/dev/"), major: major, minLo: l, minHi: h})
	}
	return out
}
