package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/scap/oval"
)

const dpkgStatus = "/var/lib/dpkg/status"

// maxDatabase bounds a package or account database read whole: a dpkg
// status file of a desktop system is several megabytes.
const maxDatabase = 64 << 20

// dpkgDB is the parsed dpkg status database, nil when the target has none.
type dpkgDB struct {
	pkgs  map[string]parse.Package
	names []string // sorted
	err   error    // malformed stanzas (the rest is usable)
}

func (p *Prober) dpkg(ctx context.Context) (*dpkgDB, error) {
	v, err := p.raw.do(ctx, "dpkg", func() (any, error) {
		data, err := p.readFileLimit(ctx, dpkgStatus, max(p.opts.MaxFileSize, maxDatabase))
		if errors.Is(err, fs.ErrNotExist) {
			return (*dpkgDB)(nil), nil
		}
		if err != nil {
			return nil, err
		}
		pkgs, perr := parse.DpkgStatus(data)
		db := &dpkgDB{pkgs: pkgs, err: perr}
		for n := range pkgs {
			db.names = append(db.names, n)
		}
		sort.Strings(db.names)
		return db, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*dpkgDB), nil
}

// current reports whether dpkg has a current version of the package, as
// apt's cache (which oscap 1.3 queries) sees it: any state but
// not-installed and config-files.
func current(pkg parse.Package) bool {
	f := strings.Fields(pkg.Status)
	return len(f) == 3 && f[2] != "not-installed" && f[2] != "config-files"
}

// splitDebVersion splits a Debian version as oscap does: epoch before the
// first ':' ("0" without one), release after the first '-' that follows,
// and evr rebuilt as epoch:version-release (epoch:version without a
// release), the debian_evr_string an SSG state compares.
func splitDebVersion(v string) (epoch, version, release, evr string) {
	epoch, rest := "0", v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, rest = v[:i], v[i+1:]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		version, release = rest[:i], rest[i+1:]
		return epoch, version, release, epoch + ":" + version + "-" + release
	}
	return epoch, rest, "", epoch + ":" + rest
}

// collectDpkg reports installed Debian packages from /var/lib/dpkg/status
// (on every target kind: it is a file). A target without a dpkg database
// has no dpkginfo items.
func (p *Prober) collectDpkg(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ne, err := requireEntity(obj, "name")
	if err != nil {
		return oval.Collected{}, err
	}
	db, err := p.dpkg(ctx)
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: dpkgStatus + ": " + errText(err)}, nil
	}
	r := newResult(obj)
	if db == nil {
		return r.collected(), nil
	}
	m := newMatcher(p.pats, ne)
	names := db.names
	if isEquals(ne) {
		names = ne.Values
	}
	for _, name := range names {
		pkg, ok := db.pkgs[name]
		if !ok || !current(pkg) {
			continue
		}
		if ok, err := m.match(name); err != nil {
			return oval.Collected{}, err
		} else if !ok {
			continue
		}
		epoch, version, release, evr := splitDebVersion(pkg.Version)
		r.add(oval.Item{Entities: []oval.ItemEntity{
			strEnt("name", pkg.Name),
			strEnt("arch", pkg.Arch),
			strEnt("epoch", epoch),
			strEnt("release", release),
			strEnt("version", version),
			{Name: "evr", Value: evr, Datatype: "debian_evr_string"},
		}}, "")
	}
	return r.collected(), nil
}

// rpmDBFiles are the files of an RPM database, in its known formats and
// places.
var rpmDBFiles = []string{
	"/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db",
	"/usr/lib/sysimage/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db",
}

// rpmQueryFormat prints one package per line, tab-separated; the key id
// is the last 8 bytes of the signature as rpm prints it ("Key ID ...").
const rpmQueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%|DSAHEADER?{%{DSAHEADER:pgpsig}}:{%|RSAHEADER?{%{RSAHEADER:pgpsig}}:{(none)}|}|\n`

type rpmPkg struct {
	name, epoch, version, release, arch, keyid string
}

// rpms lists installed RPMs. A target without an RPM database (a Debian
// system, even with the rpm tool installed) has none; a database that is
// there but cannot be read (a root directory: reading it needs rpm
// itself, which is never run from a root) is not collectable.
func (p *Prober) rpms(ctx context.Context) ([]rpmPkg, error) {
	v, err := p.raw.do(ctx, "rpm", func() (any, error) {
		found := false
		for _, f := range rpmDBFiles {
			if fi, err := p.t.Stat(ctx, f); err == nil && fi.Mode.IsRegular() && fi.Size > 0 {
				found = true
				break
			}
		}
		if !found {
			return []rpmPkg(nil), nil
		}
		if !p.live(ctx) {
			return nil, notCollectable("rpminfo_object", "an RPM database is read by running rpm, which needs a live target")
		}
		p.stats.commands.Add(1)
		res, err := p.t.Run(ctx, []string{"rpm", "-qa", "--qf", rpmQueryFormat}, 64<<20)
		if err != nil {
			return nil, notCollectable("rpminfo_object", "rpm -qa: "+err.Error())
		}
		if res.Exit != 0 {
			return nil, fmt.Errorf("rpm -qa exited %d: %s", res.Exit, firstLine(res.Stderr))
		}
		return parseRPMList(string(res.Stdout)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]rpmPkg), nil
}

func parseRPMList(out string) []rpmPkg {
	var pkgs []rpmPkg
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 6 || f[0] == "" {
			continue
		}
		keyid := ""
		if i := strings.LastIndex(f[5], "Key ID "); i >= 0 {
			keyid = strings.TrimSpace(f[5][i+len("Key ID "):])
		}
		pkgs = append(pkgs, rpmPkg{name: f[0], epoch: f[1], version: f[2], release: f[3], arch: f[4], keyid: keyid})
	}
	return pkgs
}

// collectRPM reports installed RPMs the way oscap's rpminfo probe does:
// epoch "(none)" when unset, evr with epoch 0 then.
func (p *Prober) collectRPM(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ne, err := requireEntity(obj, "name")
	if err != nil {
		return oval.Collected{}, err
	}
	pkgs, err := p.rpms(ctx)
	if err != nil {
		if errors.Is(err, oval.ErrNotCollectable) {
			return oval.Collected{}, err
		}
		return oval.Collected{Flag: oval.FlagError, Message: err.Error()}, nil
	}
	r := newResult(obj)
	m := newMatcher(p.pats, ne)
	for _, pkg := range pkgs {
		ok, err := m.match(pkg.name)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok {
			continue
		}
		epoch := pkg.epoch
		evrEpoch := epoch
		if epoch == "" || epoch == "(none)" {
			epoch, evrEpoch = "(none)", "0"
		}
		ents := []oval.ItemEntity{
			strEnt("name", pkg.name),
			strEnt("arch", pkg.arch),
			strEnt("epoch", epoch),
			strEnt("release", pkg.release),
			strEnt("version", pkg.version),
			{Name: "evr", Value: evrEpoch + ":" + pkg.version + "-" + pkg.release, Datatype: "evr_string"},
		}
		if pkg.keyid != "" {
			ents = append(ents, strEnt("signature_keyid", pkg.keyid))
		} else {
			ents = append(ents, missingEnt("signature_keyid", "", oval.StatusNotExist))
		}
		ents = append(ents, strEnt("extended_name", pkg.name+"-"+evrEpoch+":"+pkg.version+"-"+pkg.release+"."+pkg.arch))
		r.add(oval.Item{Entities: ents}, "")
	}
	return r.collected(), nil
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}
