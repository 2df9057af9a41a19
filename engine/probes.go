package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/target"
)

const sshdConfig = "/etc/ssh/sshd_config"

func (c *collector) collectSSHD(ctx context.Context) (any, error) {
	data, _, err := c.readOptional(ctx, sshdConfig)
	if err != nil {
		return nil, err
	}
	include := func(pattern string) ([]parse.File, error) {
		names, err := c.glob(ctx, pattern)
		if err != nil {
			return nil, err
		}
		var files []parse.File
		for _, n := range names {
			d, found, err := c.readOptional(ctx, n)
			if err != nil {
				return nil, err
			}
			if found {
				files = append(files, parse.File{Name: n, Data: d})
			}
		}
		return files, nil
	}
	return parse.SSHD(sshdConfig, data, include)
}

func (c *collector) collectSysctlRuntime(ctx context.Context, key string) (any, error) {
	if !c.facts.Live {
		return nil, fmt.Errorf("runtime kernel parameters: %w (no running kernel)", target.ErrNotSupported)
	}
	p := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if strings.Contains(key, "/") || strings.Contains(key, "..") {
		return nil, fmt.Errorf("invalid sysctl key %q", key)
	}
	data, err := c.t.ReadFile(ctx, p, 64<<10)
	if err != nil {
		return nil, err
	}
	return strings.Join(strings.Fields(string(data)), " "), nil
}

// sysctlSetting is one persisted kernel parameter and where it was set.
type sysctlSetting struct {
	key, value, source string
}

// sysctlConfig holds persisted settings in the order systemd-sysctl applies them.
type sysctlConfig []sysctlSetting

var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

func (c *collector) confDirFiles(ctx context.Context, dirs []string) ([]string, error) {
	names := map[string][]string{}
	for _, d := range dirs {
		ents, err := c.t.ReadDir(ctx, d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !e.Mode.IsDir() {
				names[d] = append(names[d], path.Base(e.Path))
			}
		}
	}
	return parse.ConfDirOrder(dirs, names, ".conf"), nil
}

func (c *collector) collectSysctlConfig(ctx context.Context) (any, error) {
	files, err := c.confDirFiles(ctx, sysctlDirs)
	if err != nil {
		return nil, err
	}
	// procps' "sysctl --system" also reads /etc/sysctl.conf last; Debian
	// links it as /etc/sysctl.d/99-sysctl.conf, which is read already.
	linked := false
	for _, f := range files {
		if l, err := c.t.Readlink(ctx, f); err == nil && path.Clean(path.Join(path.Dir(f), l)) == "/etc/sysctl.conf" {
			linked = true
		}
	}
	if !linked {
		files = append(files, "/etc/sysctl.conf")
	}
	var cfg sysctlConfig
	for _, f := range files {
		data, found, err := c.readOptional(ctx, f)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		for _, s := range parse.Sysctl(data) {
			cfg = append(cfg, sysctlSetting{key: s.Key, value: strings.Join(strings.Fields(s.Value), " "), source: fmt.Sprintf("%s:%d", f, s.Line)})
		}
	}
	return cfg, nil
}

// lookup returns the last setting that applies to key (glob keys included).
func (cfg sysctlConfig) lookup(key string) (sysctlSetting, bool) {
	want := strings.ReplaceAll(key, ".", "/")
	for i := len(cfg) - 1; i >= 0; i-- {
		k := cfg[i].key
		if k == key {
			return cfg[i], true
		}
		if hasMeta(k) {
			if ok, _ := path.Match(strings.ReplaceAll(k, ".", "/"), want); ok {
				return cfg[i], true
			}
		}
	}
	return sysctlSetting{}, false
}

// packageDB is the installed-package database, from dpkg or rpm.
type packageDB struct {
	format string // dpkg or rpm
	source string
	pkgs   map[string]parse.Package
}

func (c *collector) collectPackages(ctx context.Context) (any, error) {
	const dpkgStatus = "/var/lib/dpkg/status"
	data, found, err := c.readOptional(ctx, dpkgStatus)
	if err != nil {
		return nil, err
	}
	if found {
		pkgs, perr := parse.DpkgStatus(data)
		if pkgs == nil && perr != nil {
			return nil, fmt.Errorf("%s: %w", dpkgStatus, perr)
		}
		return &packageDB{format: "dpkg", source: dpkgStatus, pkgs: pkgs}, nil
	}
	if !c.facts.Live {
		return nil, fmt.Errorf("package database: no %s, and reading an rpm database needs a live host: %w", dpkgStatus, target.ErrNotSupported)
	}
	c.commands.Add(1)
	res, err := c.t.Run(ctx, []string{"rpm", "-qa", "--qf", `%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n`}, 16<<20)
	if err != nil {
		return nil, fmt.Errorf("package database: no %s and rpm failed: %w", dpkgStatus, err)
	}
	if res.Exit != 0 {
		return nil, fmt.Errorf("rpm -qa exited %d: %s", res.Exit, firstLine(res.Stderr))
	}
	db := &packageDB{format: "rpm", source: "rpm -qa", pkgs: map[string]parse.Package{}}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		db.pkgs[f[0]] = parse.Package{Name: f[0], Version: strings.TrimPrefix(f[1], "0:"), Arch: f[2], Status: "install ok installed"}
	}
	return db, nil
}

func (db *packageDB) compare(a, b string) int {
	if db.format == "rpm" {
		return parse.CompareRPMVersion(a, b)
	}
	return parse.CompareDebVersion(a, b)
}

// unitState records systemd enablement read from unit directories.
type unitState struct {
	wantedBy map[string][]string // unit -> the .wants/.requires directories linking it
	masked   map[string]string   // unit -> the masking link
	aliases  map[string]string   // alias unit file -> unit it points at
}

// Unit directories in systemd's search order for the system manager.
var unitDirs = []string{"/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"}

func (c *collector) collectUnits(ctx context.Context) (any, error) {
	st := &unitState{wantedBy: map[string][]string{}, masked: map[string]string{}, aliases: map[string]string{}}
	for _, dir := range unitDirs {
		ents, err := c.t.ReadDir(ctx, dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			name := path.Base(e.Path)
			switch {
			case e.Mode.IsDir() && (strings.HasSuffix(name, ".wants") || strings.HasSuffix(name, ".requires")):
				links, err := c.t.ReadDir(ctx, e.Path)
				if err != nil {
					return nil, err
				}
				for _, l := range links {
					u := path.Base(l.Path)
					st.wantedBy[u] = append(st.wantedBy[u], e.Path)
				}
			case e.Mode&fs.ModeSymlink != 0:
				link := e.Link
				if link == "" {
					link, _ = c.t.Readlink(ctx, e.Path)
				}
				if link == "/dev/null" {
					if _, seen := st.masked[name]; !seen {
						st.masked[name] = e.Path
					}
				} else if link != "" && (dir == "/etc/systemd/system" || dir == "/run/systemd/system") {
					st.aliases[name] = path.Base(link)
				}
			case e.Mode.IsRegular() && e.Size == 0 && (dir == "/etc/systemd/system" || dir == "/run/systemd/system"):
				// An empty unit file in /etc masks too.
				if _, seen := st.masked[name]; !seen {
					st.masked[name] = e.Path
				}
			}
		}
	}
	return st, nil
}

// state returns enabled, masked, disabled or absent, with evidence.
func (st *unitState) state(ctx context.Context, c *collector, unit string) (string, string, error) {
	if m, ok := st.masked[unit]; ok {
		return "masked", "masked by " + m, nil
	}
	names := []string{unit}
	for alias, target := range st.aliases {
		if target == unit {
			names = append(names, alias)
		}
	}
	for _, n := range names {
		if dirs := st.wantedBy[n]; len(dirs) > 0 {
			return "enabled", "enabled: linked from " + strings.Join(dirs, ", "), nil
		}
	}
	for _, dir := range unitDirs {
		_, err := c.get(ctx, object{kStat, dir + "/" + unit})
		if err == nil {
			return "disabled", "disabled: unit file " + dir + "/" + unit + " is not linked from any .wants or .requires directory", nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
	}
	return "absent", "not installed: no unit file " + unit, nil
}

// mountTable is the live mount table, or etc/fstab for a root directory.
type mountTable struct {
	source string
	mounts []parse.Mount
}

func (c *collector) collectMounts(ctx context.Context) (any, error) {
	src := "/etc/fstab"
	if c.facts.Live {
		src = "/proc/self/mounts"
	}
	data, found, err := c.readOptional(ctx, src)
	if err != nil {
		return nil, err
	}
	if !found {
		return &mountTable{source: src}, nil
	}
	ms, err := parse.Mounts(data)
	if ms == nil && err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return &mountTable{source: src, mounts: ms}, nil
}

// find returns the mount entry for mount point p (the last one wins, as
// the last mount on a path hides the earlier ones).
func (mt *mountTable) find(p string) (parse.Mount, bool) {
	for i := len(mt.mounts) - 1; i >= 0; i-- {
		if path.Clean(mt.mounts[i].Target) == path.Clean(p) {
			return mt.mounts[i], true
		}
	}
	return parse.Mount{}, false
}

type modprobeEntry struct {
	parse.Modprobe
	source string
}

var modprobeDirs = []string{"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d"}

func (c *collector) collectModprobe(ctx context.Context) (any, error) {
	files, err := c.confDirFiles(ctx, modprobeDirs)
	if err != nil {
		return nil, err
	}
	var out []modprobeEntry
	for _, f := range files {
		data, found, err := c.readOptional(ctx, f)
		if err != nil {
			return nil, err
		}
		if !found {
			continue
		}
		for _, m := range parse.ModprobeConf(data) {
			out = append(out, modprobeEntry{Modprobe: m, source: fmt.Sprintf("%s:%d", f, m.Line)})
		}
	}
	return out, nil
}

func (c *collector) collectModules(ctx context.Context) (any, error) {
	if !c.facts.Live {
		return nil, fmt.Errorf("loaded kernel modules: %w (no running kernel)", target.ErrNotSupported)
	}
	data, err := c.t.ReadFile(ctx, "/proc/modules", 4<<20)
	if errors.Is(err, fs.ErrNotExist) {
		// A kernel built without loadable module support has no
		// /proc/modules: nothing is loaded, and nothing can be.
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	loaded := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			loaded[strings.ReplaceAll(f[0], "-", "_")] = true
		}
	}
	return loaded, nil
}

func (c *collector) collectPasswd(ctx context.Context) (any, error) {
	return readAccounts(ctx, c, "/etc/passwd", parse.Passwd)
}

func (c *collector) collectShadow(ctx context.Context) (any, error) {
	return readAccounts(ctx, c, "/etc/shadow", parse.ShadowFile)
}

func (c *collector) collectGroup(ctx context.Context) (any, error) {
	return readAccounts(ctx, c, "/etc/group", parse.GroupFile)
}

// readAccounts reads an account database; a parse error fails the object
// only when nothing at all could be read from the file.
func readAccounts[T any](ctx context.Context, c *collector, path string, parseFn func([]byte) ([]T, error)) (any, error) {
	data, err := c.readFile(ctx, path)
	if err != nil {
		return nil, err
	}
	v, perr := parseFn(data)
	if v == nil && perr != nil {
		return nil, fmt.Errorf("%s: %w", path, perr)
	}
	return v, nil
}

func (c *collector) collectPAM(ctx context.Context, file string) (any, error) {
	data, found, err := c.readOptional(ctx, file)
	if err != nil {
		return nil, err
	}
	if !found {
		return []parse.PAMLine(nil), nil
	}
	return parse.PAM(data), nil
}

func (c *collector) collectCommand(ctx context.Context, argv []string) (any, error) {
	if !c.facts.Live {
		return nil, fmt.Errorf("running %s: %w (a root directory is never executed)", argv[0], target.ErrNotSupported)
	}
	c.commands.Add(1)
	return c.t.Run(ctx, argv, 1<<20)
}

// Search kinds, all answered by one walk.
const (
	searchWorldWritableFiles = "world_writable_files"
	searchWorldWritableDirs  = "world_writable_dirs"
	searchUnowned            = "unowned"
	searchSUID               = "suid"
	searchSGID               = "sgid"
)

// maxMatches bounds the evidence a search keeps per kind; the count is exact.
const maxMatches = 1000

type walkResult struct {
	matches map[string][]string
	counts  map[string]int
	errors  int    // directories that could not be read
	idsErr  string // why unowned could not be evaluated
}

// collectWalk walks the target's local file systems once and answers
// every search kind from that one walk.
func (c *collector) collectWalk(ctx context.Context) (any, error) {
	uids, gids := map[uint32]bool{}, map[uint32]bool{}
	res := &walkResult{matches: map[string][]string{}, counts: map[string]int{}}
	users, uerr := c.get(ctx, object{kPasswd, ""})
	groups, gerr := c.get(ctx, object{kGroup, ""})
	if err := errors.Join(uerr, gerr); err != nil {
		res.idsErr = err.Error()
	} else {
		for _, u := range users.([]parse.User) {
			uids[uint32(u.UID)] = true
		}
		for _, g := range groups.([]parse.Group) {
			gids[uint32(g.GID)] = true
		}
	}
	add := func(kind, p string) {
		res.counts[kind]++
		if len(res.matches[kind]) < maxMatches {
			res.matches[kind] = append(res.matches[kind], p)
		}
	}
	opts := target.WalkOptions{Roots: []string{"/"}, Exclude: []string{"/proc", "/sys"}, LocalOnly: true}
	if !c.facts.Live {
		opts.Exclude = []string{"/proc", "/sys", "/dev", "/run"}
		opts.LocalOnly = false
	}
	opts.OnError = func(string, error) { res.errors++ }
	err := c.t.Walk(ctx, opts, func(fi target.FileInfo) error {
		c.entriesWalked.Add(1)
		m := fi.Mode
		switch {
		case m.IsRegular():
			if m.Perm()&0o002 != 0 {
				add(searchWorldWritableFiles, fi.Path)
			}
			if m&fs.ModeSetuid != 0 {
				add(searchSUID, fi.Path)
			}
			if m&fs.ModeSetgid != 0 {
				add(searchSGID, fi.Path)
			}
		case m.IsDir():
			if m.Perm()&0o002 != 0 && m&fs.ModeSticky == 0 {
				add(searchWorldWritableDirs, fi.Path)
			}
		}
		if res.idsErr == "" && (!uids[fi.UID] || !gids[fi.GID]) {
			add(searchUnowned, fi.Path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, v := range res.matches {
		sort.Strings(v)
	}
	return res, nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
