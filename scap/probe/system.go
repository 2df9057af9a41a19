package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/scap/oval"
)

// collectFamily reports the OS family: every target Plumb scans with
// SCAP content is a Unix-like system, which OVAL calls "unix".
func (p *Prober) collectFamily(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	f, err := p.facts(ctx)
	if err != nil {
		return oval.Collected{}, err
	}
	fam := "unix"
	if f.Family == "windows" {
		fam = "windows"
	}
	return single(obj, oval.Item{Entities: []oval.ItemEntity{strEnt("family", fam)}}), nil
}

// single is the result of an object with exactly one item, filtered.
func single(obj *oval.Object, it oval.Item) oval.Collected {
	r := newResult(obj)
	r.add(it, "")
	return r.collected()
}

// unameMachine maps Go's architecture names to uname -m's.
var unameMachine = map[string]string{
	"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7l",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x",
	"riscv64": "riscv64", "loong64": "loongarch64", "mips64le": "mips64",
}

// collectUname reports uname(2). On a live target the kernel's answers
// come from /proc/sys/kernel; machine_class and processor_type (oscap
// reports the machine for both) come from the target's architecture,
// which a root directory also knows (from its ELF binaries). A root
// directory has no kernel: node name, OS name, release and version are
// not collected there.
func (p *Prober) collectUname(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	f, err := p.facts(ctx)
	if err != nil {
		return oval.Collected{}, err
	}
	machine := unameMachine[f.Arch]
	if machine == "" {
		machine = f.Arch
	}
	mach := func(name string) oval.ItemEntity {
		if machine == "" {
			return missingEnt(name, "", oval.StatusNotCollected)
		}
		return strEnt(name, machine)
	}
	kernel := func(name, file string) oval.ItemEntity {
		if !f.Live {
			return missingEnt(name, "", oval.StatusNotCollected)
		}
		b, err := p.t.ReadFile(ctx, "/proc/sys/kernel/"+file, 64<<10)
		if err != nil {
			return missingEnt(name, "", oval.StatusError)
		}
		return strEnt(name, strings.TrimRight(string(b), "\n"))
	}
	it := oval.Item{Entities: []oval.ItemEntity{
		mach("machine_class"),
		kernel("node_name", "hostname"),
		kernel("os_name", "ostype"),
		kernel("os_release", "osrelease"),
		kernel("os_version", "version"),
		mach("processor_type"),
	}}
	return single(obj, it), nil
}

// collectSysctl reports kernel parameters from /proc/sys, as oscap (and
// the sysctl tool) read them: the name is the path below /proc/sys with
// '/' turned into '.'; a write-only or empty parameter has no item; the
// value is split into one value entity per line (and at any other
// non-printable byte), without the final newline. Only a live target has
// a running kernel.
func (p *Prober) collectSysctl(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	if !p.live(ctx) {
		return oval.Collected{}, notCollectable("sysctl_object", "runtime kernel parameters need a live target")
	}
	ne, err := requireEntity(obj, "name")
	if err != nil {
		return oval.Collected{}, err
	}
	r := newResult(obj)
	m := newMatcher(p.pats, ne)
	if isEquals(ne) {
		for _, name := range ne.Values {
			if name == "" || strings.Contains(name, "/") || strings.Contains(name, "..") {
				continue
			}
			p.sysctlItem(ctx, r, name, "/proc/sys/"+strings.ReplaceAll(name, ".", "/"))
		}
		return r.collected(), nil
	}
	var walk func(dir string, level int)
	walk = func(dir string, level int) {
		ents, err := p.readDir(ctx, dir)
		if err != nil {
			if !absent(err) {
				r.markIncomplete(fmt.Sprintf("%s: %v", dir, errText(err)))
			}
			return
		}
		for _, e := range ents {
			fi := e
			if fi.Mode&fs.ModeSymlink != 0 {
				if fi, err = p.stat(ctx, e.Path); err != nil {
					continue
				}
			}
			if fi.Mode.IsDir() {
				if level < 7 {
					walk(e.Path, level+1)
				}
				continue
			}
			name := strings.ReplaceAll(strings.TrimPrefix(e.Path, "/proc/sys/"), "/", ".")
			ok, err := m.match(name)
			if err != nil {
				r.fail(err)
				return
			}
			if ok {
				p.sysctlItem(ctx, r, name, e.Path)
			}
		}
	}
	walk("/proc/sys", 1)
	return r.collected(), nil
}

func (p *Prober) sysctlItem(ctx context.Context, r *result, name, file string) {
	fi, err := p.t.Stat(ctx, file)
	if err != nil || fi.Mode.IsDir() || fi.Mode&0o400 == 0 {
		return // absent or write-only (route/flush)
	}
	b, err := p.t.ReadFile(ctx, file, 64<<10)
	if err != nil {
		if strings.HasPrefix(file, "/proc/sys/net/ipv6/conf/") && strings.HasSuffix(file, "/stable_secret") {
			return // unreadable until set, and oscap skips it
		}
		r.add(oval.Item{Status: oval.StatusError, Entities: []oval.ItemEntity{strEnt("name", name)},
			Message: fmt.Sprintf("%s: %v", file, errText(err))}, "")
		return
	}
	if len(b) > 8191 {
		b = b[:8191] // oscap's read size
	}
	if len(b) == 0 {
		return
	}
	ents := []oval.ItemEntity{strEnt("name", name)}
	for _, v := range sysctlValues(b) {
		ents = append(ents, strEnt("value", v))
	}
	r.add(oval.Item{Entities: ents}, "")
}

// sysctlValues splits a /proc/sys value as oscap does: the final newline
// is dropped; the text is cut at every newline and at every byte that is
// neither printable nor whitespace; an empty last piece is dropped.
func sysctlValues(b []byte) []string {
	if b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	var out []string
	start := 0
	for i, c := range b {
		printable := c >= 0x20 && c < 0x7f
		space := c == ' ' || (c >= '\t' && c <= '\r')
		if c == '\n' || (!printable && !space) {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	if last := string(b[start:]); last != "" || len(out) == 0 {
		out = append(out, last)
	}
	return out
}

// collectPartition reports mounted file systems from the live mount table,
// as oscap reads /proc/mounts: rootfs entries are skipped; with "equals"
// only the first entry for the mount point is reported. oscap adds
// "bind" to the options of every relatime mount (it tests statvfs's
// ST_RELATIME bit as if it were MS_BIND); that quirk is kept, since SSG
// states compare mount_options. Sizes come from stat -f on the target;
// the UUID from /dev/disk/by-uuid.
//
// An unpacked root has no mount table: its /etc/fstab, the file systems
// it mounts when it boots, stands in for it, as in Plumb's native mount
// checks (sizes are then not collected). oscap-chroot instead reports the
// scanning host's own /proc/mounts, which says nothing about the root.
func (p *Prober) collectPartition(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	me, err := requireEntity(obj, "mount_point")
	if err != nil {
		return oval.Collected{}, err
	}
	src := "/proc/self/mounts"
	if !p.live(ctx) {
		src = "/etc/fstab"
	}
	data, err := p.t.ReadFile(ctx, src, p.opts.MaxFileSize)
	switch {
	case src == "/etc/fstab" && errors.Is(err, fs.ErrNotExist):
		data = nil
	case err != nil:
		return oval.Collected{Flag: oval.FlagError, Message: src + ": " + errText(err)}, nil
	}
	mounts, _ := parse.Mounts(data)
	r := newResult(obj)
	m := newMatcher(p.pats, me)
	first := isEquals(me)
	done := map[string]bool{}
	for _, mt := range mounts {
		if mt.FSType == "rootfs" {
			continue
		}
		ok, err := m.match(mt.Target)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok || (first && done[mt.Target]) {
			continue
		}
		done[mt.Target] = true
		r.add(p.partitionItem(ctx, mt), "")
	}
	return r.collected(), nil
}

func (p *Prober) partitionItem(ctx context.Context, mt parse.Mount) oval.Item {
	ents := []oval.ItemEntity{strEnt("mount_point", mt.Target), strEnt("device", mt.Source)}
	if uuid := p.deviceUUID(ctx, mt.Source); uuid != "" {
		ents = append(ents, strEnt("uuid", uuid))
	} else {
		ents = append(ents, missingEnt("uuid", "", oval.StatusNotExist))
	}
	ents = append(ents, strEnt("fs_type", mt.FSType))
	opts := mt.Options
	if len(opts) == 0 {
		opts = []string{""}
	}
	relatime := false
	for _, o := range opts {
		ents = append(ents, strEnt("mount_options", o))
		relatime = relatime || o == "relatime"
	}
	if relatime {
		ents = append(ents, strEnt("mount_options", "bind"))
	}
	var total, free uint64
	ok := false
	if p.live(ctx) {
		total, free, ok = p.statfs(ctx, mt.Target)
	}
	if ok {
		ents = append(ents, uintEnt("total_space", total), uintEnt("space_used", total-free), uintEnt("space_left", free))
	} else {
		for _, n := range []string{"total_space", "space_used", "space_left"} {
			ents = append(ents, missingEnt(n, "int", oval.StatusNotCollected))
		}
	}
	return oval.Item{Entities: ents}
}

// statfs returns a mounted file system's size and free space in blocks,
// with stat -f run on the target (target.Target has no statfs).
func (p *Prober) statfs(ctx context.Context, mountPoint string) (total, free uint64, ok bool) {
	p.stats.commands.Add(1)
	res, err := p.t.Run(ctx, []string{"stat", "-f", "-c", "%b %f", "--", mountPoint}, 4096)
	if err != nil || res.Exit != 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(res.Stdout))
	if len(f) != 2 {
		return 0, 0, false
	}
	t, err1 := strconv.ParseUint(f[0], 10, 64)
	fr, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || fr > t {
		return 0, 0, false
	}
	return t, fr, true
}

// deviceUUID finds the file system UUID of a device node through the
// /dev/disk/by-uuid links udev maintains.
func (p *Prober) deviceUUID(ctx context.Context, dev string) string {
	if !strings.HasPrefix(dev, "/dev/") {
		return ""
	}
	v, _ := p.raw.do(ctx, "byuuid", func() (any, error) {
		m := map[string]string{}
		ents, err := p.t.ReadDir(ctx, "/dev/disk/by-uuid")
		if err != nil {
			return m, nil
		}
		for _, e := range ents {
			if e.Mode&fs.ModeSymlink == 0 {
				continue
			}
			if real, err := p.realpath(ctx, e.Path); err == nil {
				m[real] = path.Base(e.Path)
			}
		}
		return m, nil
	})
	m, _ := v.(map[string]string)
	if real, err := p.realpath(ctx, dev); err == nil {
		return m[real]
	}
	return m[dev]
}

// collectEnviron reports environment variables of processes from
// /proc/PID/environ. A nil pid means the collecting process itself (oscap
// uses its own pid); here that is whatever reads /proc/self on the target.
// A root directory has no processes.
func (p *Prober) collectEnviron(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	if !p.live(ctx) {
		return oval.Collected{}, notCollectable("environmentvariable58_object", "process environments need a live target")
	}
	ne, err := requireEntity(obj, "name")
	if err != nil {
		return oval.Collected{}, err
	}
	pe, err := requireEntity(obj, "pid")
	if err != nil {
		return oval.Collected{}, err
	}
	r := newResult(obj)
	nm := newMatcher(p.pats, ne)
	var pids []string
	if pe.Nil || (isEquals(pe) && len(pe.Values) == 1 && pe.Values[0] == "0") {
		self, err := p.t.Readlink(ctx, "/proc/self")
		if err != nil {
			return oval.Collected{Flag: oval.FlagError, Message: "/proc/self: " + errText(err)}, nil
		}
		pids = []string{path.Base(self)}
	} else {
		if pe.Datatype == "" {
			pe.Datatype = "int"
		}
		pm := newMatcher(p.pats, pe)
		ents, err := p.t.ReadDir(ctx, "/proc")
		if err != nil {
			return oval.Collected{Flag: oval.FlagError, Message: "/proc: " + errText(err)}, nil
		}
		for _, e := range ents {
			name := path.Base(e.Path)
			if _, err := strconv.ParseUint(name, 10, 31); err != nil {
				continue
			}
			if ok, err := pm.match(name); err != nil {
				return oval.Collected{}, err
			} else if ok {
				pids = append(pids, name)
			}
		}
	}
	for _, pid := range pids {
		pidN, err := strconv.ParseInt(pid, 10, 64)
		if err != nil {
			continue
		}
		data, err := p.t.ReadFile(ctx, "/proc/"+pid+"/environ", p.opts.MaxFileSize)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the process ended
			}
			r.add(oval.Item{Status: oval.StatusError, Entities: []oval.ItemEntity{intEnt("pid", pidN)},
				Message: fmt.Sprintf("/proc/%s/environ: %v", pid, errText(err))}, "")
			continue
		}
		for _, kv := range parseEnviron(data) {
			ok, err := nm.match(kv.name)
			if err != nil {
				return oval.Collected{}, err
			}
			if ok {
				r.add(oval.Item{Entities: []oval.ItemEntity{intEnt("pid", pidN), strEnt("name", kv.name), strEnt("value", kv.value)}}, "")
			}
		}
	}
	return r.collected(), nil
}

type envVar struct{ name, value string }

// parseEnviron splits /proc/PID/environ: NUL-terminated "NAME=value"
// strings. An entry without '=' (a process may overwrite its environment
// area with anything) is skipped, as oscap skips it; the value runs to
// the first NUL.
func parseEnviron(data []byte) []envVar {
	var out []envVar
	for len(data) > 0 {
		entry := data
		if i := bytes.IndexByte(data, 0); i >= 0 {
			entry, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		eq := bytes.IndexByte(entry, '=')
		if eq < 0 {
			continue
		}
		out = append(out, envVar{name: string(entry[:eq]), value: string(entry[eq+1:])})
	}
	return out
}
