package probe

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/scap/oval"
)

// unitDirs is the system manager's unit search path, highest priority
// first (Debian's order, with /lib before /usr/lib). Generator and
// transient directories exist only on a running system.
var unitDirs = []string{
	"/etc/systemd/system.control", "/run/systemd/system.control", "/run/systemd/transient",
	"/run/systemd/generator.early", "/etc/systemd/system", "/etc/systemd/system.attached",
	"/run/systemd/system", "/run/systemd/system.attached", "/run/systemd/generator",
	"/usr/local/lib/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
	"/run/systemd/generator.late",
}

var unitSuffixes = []string{".service", ".socket", ".target", ".device", ".mount", ".automount", ".swap", ".path", ".timer", ".slice", ".scope"}

func isUnitName(n string) bool {
	if n == "" || strings.HasPrefix(n, ".") {
		return false
	}
	for _, s := range unitSuffixes {
		if strings.HasSuffix(n, s) && len(n) > len(s) {
			return true
		}
	}
	return false
}

// unitDB is the units of a target as its unit files describe them.
type unitDB struct {
	dirs     []string
	files    map[string]unitSource // name -> highest-priority entry
	aliases  map[string]string     // alias name -> name it points to
	wantDirs map[string][]string   // unit name -> its .wants directories
	reqDirs  map[string][]string   // unit name -> its .requires directories
	dropDirs map[string][]string   // unit name (or "service", "a-") -> its .d directories
	listed   map[string]bool       // names linked from .wants/.requires dirs
}

// unitSource is where a unit name is defined.
type unitSource struct {
	dir, path string // directory and file (the symlink's target for a linked unit)
	masked    bool
}

// units reads the unit directories once.
func (p *Prober) units(ctx context.Context) (*unitDB, error) {
	v, err := p.raw.do(ctx, "units", func() (any, error) { return p.loadUnits(ctx) })
	if err != nil {
		return nil, err
	}
	return v.(*unitDB), nil
}

func (p *Prober) loadUnits(ctx context.Context) (*unitDB, error) {
	db := &unitDB{files: map[string]unitSource{}, aliases: map[string]string{}, wantDirs: map[string][]string{},
		reqDirs: map[string][]string{}, dropDirs: map[string][]string{}, listed: map[string]bool{}}
	seenReal := map[string]bool{}
	for _, dir := range unitDirs {
		real, err := p.realpath(ctx, dir)
		if err != nil {
			if absent(err) {
				continue
			}
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if seenReal[real] {
			continue // /lib/systemd/system on a merged-/usr system
		}
		seenReal[real] = true
		ents, err := p.readDir(ctx, dir)
		if err != nil {
			if absent(err) {
				continue
			}
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		db.dirs = append(db.dirs, dir)
		for _, e := range ents {
			name := path.Base(e.Path)
			switch {
			case e.Mode.IsDir() && strings.HasSuffix(name, ".wants"):
				u := strings.TrimSuffix(name, ".wants")
				db.wantDirs[u] = append(db.wantDirs[u], e.Path)
				p.noteListed(ctx, db, e.Path)
				continue
			case e.Mode.IsDir() && strings.HasSuffix(name, ".requires"):
				u := strings.TrimSuffix(name, ".requires")
				db.reqDirs[u] = append(db.reqDirs[u], e.Path)
				p.noteListed(ctx, db, e.Path)
				continue
			case e.Mode.IsDir() && strings.HasSuffix(name, ".d"):
				u := strings.TrimSuffix(name, ".d")
				db.dropDirs[u] = append(db.dropDirs[u], e.Path)
				continue
			}
			if !isUnitName(name) {
				continue
			}
			if _, seen := db.files[name]; seen {
				continue
			}
			if _, seen := db.aliases[name]; seen {
				continue
			}
			switch {
			case e.Mode&fs.ModeSymlink != 0:
				if e.Link == "/dev/null" {
					db.files[name] = unitSource{dir: dir, path: e.Path, masked: true}
					continue
				}
				target := path.Base(e.Link)
				if target == name {
					real, err := p.realpath(ctx, e.Path)
					if err != nil {
						continue // dangling: systemd ignores it
					}
					if real == "/dev/null" {
						db.files[name] = unitSource{dir: dir, path: e.Path, masked: true}
					} else {
						db.files[name] = unitSource{dir: dir, path: real}
					}
					continue
				}
				db.aliases[name] = target
			case e.Mode.IsRegular():
				db.files[name] = unitSource{dir: dir, path: e.Path, masked: e.Size == 0}
			}
		}
	}
	return db, nil
}

// noteListed records the units linked from a .wants or .requires
// directory: they are loaded (and listed) even without a file of their
// own (template instances such as getty@tty1.service).
func (p *Prober) noteListed(ctx context.Context, db *unitDB, dir string) {
	ents, err := p.readDir(ctx, dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if n := path.Base(e.Path); isUnitName(n) {
			db.listed[n] = true
		}
	}
}

// primary resolves aliases: the name systemd reports as the unit's Id.
func (db *unitDB) primary(name string) string {
	for i := 0; i < 16; i++ {
		next, ok := db.aliases[name]
		if !ok {
			return name
		}
		name = next
	}
	return name
}

// names returns the primary name and its aliases, sorted after it.
func (db *unitDB) names(primary string) []string {
	out := []string{primary}
	var al []string
	for a := range db.aliases {
		if a != primary && db.primary(a) == primary {
			al = append(al, a)
		}
	}
	sort.Strings(al)
	return append(out, al...)
}

// source finds the file of a unit, falling back to the template of an
// instance ("getty@tty1.service" is defined by "getty@.service").
func (db *unitDB) source(name string) (unitSource, bool) {
	if s, ok := db.files[name]; ok {
		return s, true
	}
	if at := strings.IndexByte(name, '@'); at > 0 {
		dot := strings.LastIndexByte(name, '.')
		if dot > at+1 {
			tmpl := name[:at+1] + name[dot:]
			if s, ok := db.files[db.primary(tmpl)]; ok {
				return s, true
			}
		}
	}
	return unitSource{}, false
}

// all returns the primary names of every unit the files define or link.
func (db *unitDB) all() []string {
	set := map[string]bool{}
	for n := range db.files {
		if !strings.Contains(n, "@.") {
			set[n] = true
		}
	}
	for n := range db.listed {
		if _, ok := db.source(db.primary(n)); ok {
			set[db.primary(n)] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// unitInfo is one unit's properties as its files define them.
type unitInfo struct {
	id, fragment, loadState, fileState string
	names, dropins                     []string
	lists                              map[string][]string // Wants, Requires, After, ...
	scalars                            map[string]string   // Description, booleans
}

// unitListKeys are the [Unit] settings that are lists of units or words.
var unitListKeys = map[string]bool{
	"Wants": true, "Requires": true, "Requisite": true, "BindsTo": true, "PartOf": true, "Upholds": true,
	"Conflicts": true, "Before": true, "After": true, "OnFailure": true, "OnSuccess": true,
	"PropagatesReloadTo": true, "ReloadPropagatedFrom": true, "JoinsNamespaceOf": true,
	"Documentation": true, "RequiresMountsFor": true,
}

// unitBoolKeys are [Unit] booleans exposed as properties, with defaults.
var unitBoolKeys = map[string]string{
	"DefaultDependencies": "true", "StopWhenUnneeded": "false", "RefuseManualStart": "false",
	"RefuseManualStop": "false", "AllowIsolate": "false", "IgnoreOnIsolate": "false",
}

// loadUnit reads a unit's fragment and drop-ins.
func (p *Prober) loadUnit(ctx context.Context, db *unitDB, name string) (*unitInfo, error) {
	v, err := p.raw.do(ctx, "unit\x00"+name, func() (any, error) { return p.readUnit(ctx, db, name) })
	if err != nil {
		return nil, err
	}
	return v.(*unitInfo), nil
}

func (p *Prober) readUnit(ctx context.Context, db *unitDB, name string) (*unitInfo, error) {
	id := db.primary(name)
	u := &unitInfo{id: id, names: db.names(id), lists: map[string][]string{}, scalars: map[string]string{}}
	for k, v := range unitBoolKeys {
		u.scalars[k] = v
	}
	src, ok := db.source(id)
	var entries []parse.UnitEntry
	install := false
	switch {
	case !ok:
		u.loadState, u.fileState = "not-found", ""
	case src.masked:
		u.loadState, u.fileState = "masked", "masked"
		if strings.HasPrefix(src.dir, "/run/") {
			u.fileState = "masked-runtime"
		}
	default:
		u.loadState, u.fragment = "loaded", src.path
		data, err := p.readFile(ctx, src.path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src.path, err)
		}
		entries = parse.Unit(data)
		for _, e := range entries {
			if e.Section == "Install" && e.Value != "" {
				switch e.Key {
				case "WantedBy", "RequiredBy", "UpheldBy", "Alias":
					install = true
				}
			}
		}
	}
	dropins, err := p.dropins(ctx, db, u.names)
	if err != nil {
		return nil, err
	}
	for _, f := range dropins {
		data, err := p.readFile(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		u.dropins = append(u.dropins, f)
		entries = append(entries, parse.Unit(data)...)
	}
	for _, e := range entries {
		if e.Section != "Unit" {
			continue
		}
		switch {
		case unitListKeys[e.Key]:
			if e.Value == "" {
				u.lists[e.Key] = nil // an empty assignment resets the list
				continue
			}
			for _, w := range strings.Fields(e.Value) {
				if e.Key != "Documentation" && e.Key != "RequiresMountsFor" {
					w = db.primary(w)
				}
				u.lists[e.Key] = appendNew(u.lists[e.Key], w)
			}
		case e.Key == "Description":
			u.scalars["Description"] = e.Value
		default:
			if _, ok := unitBoolKeys[e.Key]; ok {
				if b, ok := systemdBool(e.Value); ok {
					u.scalars[e.Key] = b
				}
			}
		}
	}
	for _, n := range u.names {
		for _, d := range db.wantDirs[n] {
			u.lists["Wants"] = p.appendLinked(ctx, db, u.lists["Wants"], d)
		}
		for _, d := range db.reqDirs[n] {
			u.lists["Requires"] = p.appendLinked(ctx, db, u.lists["Requires"], d)
		}
	}
	if u.loadState == "loaded" {
		u.fileState = p.unitFileState(ctx, db, u, src, install)
	}
	return u, nil
}

func (p *Prober) appendLinked(ctx context.Context, db *unitDB, list []string, dir string) []string {
	ents, err := p.readDir(ctx, dir)
	if err != nil {
		return list
	}
	for _, e := range ents {
		if n := path.Base(e.Path); isUnitName(n) {
			list = appendNew(list, db.primary(n))
		}
	}
	return list
}

func appendNew(list []string, w string) []string {
	for _, x := range list {
		if x == w {
			return list
		}
	}
	return append(list, w)
}

// systemdBool parses a systemd boolean into "true"/"false".
func systemdBool(v string) (string, bool) {
	switch strings.ToLower(v) {
	case "1", "yes", "y", "true", "t", "on":
		return "true", true
	case "0", "no", "n", "false", "f", "off":
		return "false", true
	}
	return "", false
}

// dropins returns a unit's drop-in files: NAME.d/*.conf for each of its
// names, their type ("service.d") and prefix ("a-.service.d" for
// "a-b.service") directories, across the search path; a file name in a
// higher-priority directory hides the same name in lower ones; sorted by
// file name.
func (p *Prober) dropins(ctx context.Context, db *unitDB, names []string) ([]string, error) {
	var keys []string
	for _, n := range names {
		keys = append(keys, n)
		ext := path.Ext(n)
		base := strings.TrimSuffix(n, ext)
		for i := strings.LastIndexByte(base, '-'); i > 0; i = strings.LastIndexByte(base[:i], '-') {
			keys = append(keys, base[:i+1]+ext)
		}
		keys = append(keys, strings.TrimPrefix(ext, "."))
	}
	byName := map[string]string{}
	for _, dir := range db.dirs {
		for _, k := range keys {
			for _, d := range db.dropDirs[k] {
				if path.Dir(d) != dir {
					continue
				}
				ents, err := p.readDir(ctx, d)
				if err != nil {
					if absent(err) {
						continue
					}
					return nil, fmt.Errorf("%s: %w", d, err)
				}
				for _, e := range ents {
					n := path.Base(e.Path)
					if !strings.HasSuffix(n, ".conf") {
						continue
					}
					if _, hidden := byName[n]; !hidden {
						byName[n] = e.Path
					}
				}
			}
		}
	}
	out := make([]string, 0, len(byName))
	for _, n := range sortedKeys(byName) {
		out = append(out, byName[n])
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// unitFileState is systemctl is-enabled's answer, from links in the
// configuration directories: enabled when a .wants/.requires link (or an
// alias) in /etc names the unit, enabled-runtime for one in /run only;
// otherwise static without an [Install] section that enables it,
// generated for a generator's unit, disabled else.
func (p *Prober) unitFileState(ctx context.Context, db *unitDB, u *unitInfo, src unitSource, install bool) string {
	if strings.HasPrefix(src.dir, "/run/systemd/generator") {
		return "generated"
	}
	names := map[string]bool{}
	for _, n := range u.names {
		names[n] = true
	}
	state := ""
	check := func(dir string, runtime bool) {
		ents, err := p.readDir(ctx, dir)
		if err != nil {
			return
		}
		for _, e := range ents {
			n := path.Base(e.Path)
			isLinkDir := e.Mode.IsDir() && (strings.HasSuffix(n, ".wants") || strings.HasSuffix(n, ".requires"))
			if isLinkDir {
				links, _ := p.readDir(ctx, e.Path)
				for _, l := range links {
					if names[path.Base(l.Path)] || names[db.primary(path.Base(l.Path))] {
						if runtime {
							if state == "" {
								state = "enabled-runtime"
							}
						} else {
							state = "enabled"
						}
					}
				}
			} else if e.Mode&fs.ModeSymlink != 0 && n != u.id && names[n] && !runtime {
				state = "enabled"
			}
		}
	}
	check("/etc/systemd/system", false)
	if state != "enabled" {
		check("/run/systemd/system", true)
	}
	switch {
	case state != "":
		return state
	case !install:
		return "static"
	}
	return "disabled"
}

// runtimeProps are unit properties only a running systemd knows.
var runtimeProps = map[string]bool{
	"ActiveState": true, "SubState": true, "FreezerState": true, "Job": true, "InvocationID": true,
	"StateChangeTimestamp": true, "StateChangeTimestampMonotonic": true,
	"ActiveEnterTimestamp": true, "ActiveEnterTimestampMonotonic": true,
	"ActiveExitTimestamp": true, "ActiveExitTimestampMonotonic": true,
	"InactiveEnterTimestamp": true, "InactiveEnterTimestampMonotonic": true,
	"InactiveExitTimestamp": true, "InactiveExitTimestampMonotonic": true,
	"ConditionResult": true, "AssertResult": true, "ConditionTimestamp": true, "AssertTimestamp": true,
	"NeedDaemonReload": true, "Refs": true, "CanStart": true, "CanStop": true, "CanReload": true, "CanIsolate": true,
}

// fileProps are the properties derived from unit files, in name order.
var fileProps = []string{
	"After", "AllowIsolate", "Before", "BindsTo", "Conflicts", "DefaultDependencies", "Description",
	"Documentation", "DropInPaths", "FragmentPath", "Id", "IgnoreOnIsolate", "JoinsNamespaceOf", "LoadState",
	"Names", "OnFailure", "OnSuccess", "PartOf", "PropagatesReloadTo", "RefuseManualStart", "RefuseManualStop",
	"ReloadPropagatedFrom", "Requires", "RequiresMountsFor", "Requisite", "StopWhenUnneeded", "UnitFileState",
	"Upholds", "Wants",
}

// values returns a file-derived property's values (nil: no item, as
// D-Bus reports an empty array with no value).
func (u *unitInfo) values(prop string) []string {
	switch prop {
	case "Id":
		return []string{u.id}
	case "Names":
		return u.names
	case "LoadState":
		return []string{u.loadState}
	case "UnitFileState":
		return []string{u.fileState}
	case "FragmentPath":
		return []string{u.fragment}
	case "DropInPaths":
		return u.dropins
	case "Description":
		return []string{u.scalars["Description"]}
	}
	if unitListKeys[prop] {
		return u.lists[prop]
	}
	if v, ok := u.scalars[prop]; ok {
		return []string{v}
	}
	return nil
}

// systemctlOK tells how units are read on this target: through a running
// systemd (systemctl on a live target: ok, with the loaded units), or
// from the unit files (not ok, with why).
func (p *Prober) systemctlOK(ctx context.Context) (units []string, ok bool, why string) {
	type listing struct {
		units []string
		ok    bool
		why   string
	}
	v, _ := p.raw.do(ctx, "systemctl", func() (any, error) {
		if !p.live(ctx) {
			return listing{why: "a root directory has no running systemd"}, nil
		}
		if p.opts.NoSystemctl {
			return listing{why: "systemctl is disabled by the scan options"}, nil
		}
		p.stats.commands.Add(1)
		res, err := p.t.Run(ctx, []string{"systemctl", "list-units", "--all", "--full", "--plain", "--no-legend", "--no-pager"}, 16<<20)
		if err != nil {
			return listing{why: "systemctl: " + err.Error()}, nil
		}
		if res.Exit != 0 {
			return listing{why: "systemctl: " + firstLine(append(res.Stderr, res.Stdout...))}, nil
		}
		return listing{units: parseListUnits(string(res.Stdout)), ok: true}, nil
	})
	l, _ := v.(listing)
	return l.units, l.ok, l.why
}

// parseListUnits reads the unit names of systemctl list-units --plain.
func parseListUnits(out string) []string {
	var units []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && (f[0] == "●" || f[0] == "*") {
			f = f[1:]
		}
		if len(f) > 0 && isUnitName(f[0]) {
			units = append(units, f[0])
		}
	}
	return units
}

// systemctlShow runs systemctl show for one unit and returns its
// properties (every property when props is empty).
func (p *Prober) systemctlShow(ctx context.Context, unit string, props []string) (map[string]string, error) {
	argv := []string{"systemctl", "show", "--no-pager"}
	for _, pr := range props {
		argv = append(argv, "-p", pr)
	}
	argv = append(argv, "--", unit)
	key := "show\x00" + strings.Join(argv, "\x00")
	v, err := p.raw.do(ctx, key, func() (any, error) {
		p.stats.commands.Add(1)
		res, err := p.t.Run(ctx, argv, 16<<20)
		if err != nil {
			return nil, err
		}
		if res.Exit != 0 {
			return nil, fmt.Errorf("systemctl show %s exited %d: %s", unit, res.Exit, firstLine(res.Stderr))
		}
		return parseShow(string(res.Stdout)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]string), nil
}

// parseShow reads systemctl show's "Name=value" lines (the first '='
// splits; a later line for the same name wins).
func parseShow(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		m[k] = v
	}
	return m
}

// showArrays are the Unit properties systemctl show prints as
// space-separated lists; D-Bus (and so oscap) gives one value each.
var showArrays = map[string]bool{
	"Names": true, "Requires": true, "Requisite": true, "Wants": true, "BindsTo": true, "PartOf": true,
	"Upholds": true, "RequiredBy": true, "RequisiteOf": true, "WantedBy": true, "BoundBy": true,
	"UpheldBy": true, "ConsistsOf": true, "Conflicts": true, "ConflictedBy": true, "Before": true,
	"After": true, "OnFailure": true, "OnFailureOf": true, "OnSuccess": true, "OnSuccessOf": true,
	"Triggers": true, "TriggeredBy": true, "PropagatesReloadTo": true, "ReloadPropagatedFrom": true,
	"PropagatesStopTo": true, "StopPropagatedFrom": true, "JoinsNamespaceOf": true, "SliceOf": true,
	"RequiresMountsFor": true, "Documentation": true, "DropInPaths": true, "Markers": true,
}

func showValues(prop, v string) []string {
	if showArrays[prop] {
		return strings.Fields(v)
	}
	return []string{v}
}

// collectUnitProperty reports unit properties. On a live target with a
// running systemd it asks systemctl (the units systemd has loaded, their
// Unit properties), which is what oscap asks over D-Bus. Elsewhere the
// units and their file-derived properties come from the unit files; the
// runtime state (ActiveState, SubState, ...) is then not collectable.
func (p *Prober) collectUnitProperty(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ue, err := requireEntity(obj, "unit")
	if err != nil {
		return oval.Collected{}, err
	}
	pe, err := requireEntity(obj, "property")
	if err != nil {
		return oval.Collected{}, err
	}
	um, pm := newMatcher(p.pats, ue), newMatcher(p.pats, pe)
	r := newResult(obj)
	add := func(unit, prop string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ents := []oval.ItemEntity{strEnt("unit", unit), strEnt("property", prop)}
		for _, v := range vals {
			ents = append(ents, strEnt("value", v))
		}
		r.add(oval.Item{Entities: ents}, "")
	}
	if units, ok, _ := p.systemctlOK(ctx); ok {
		var props []string
		if isEquals(pe) {
			props = pe.Values
		}
		for _, u := range units {
			if ok, err := um.match(u); err != nil {
				return oval.Collected{}, err
			} else if !ok {
				continue
			}
			shown, err := p.systemctlShow(ctx, u, props)
			if err != nil {
				r.itemError(err.Error())
				continue
			}
			for _, k := range sortedKeys(shown) {
				if !isUnitProp(k) {
					continue
				}
				if ok, err := pm.match(k); err != nil {
					return oval.Collected{}, err
				} else if ok {
					add(u, k, showValues(k, shown[k]))
				}
			}
		}
		return r.collected(), nil
	}
	_, _, why := p.systemctlOK(ctx)
	db, err := p.units(ctx)
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: err.Error()}, nil
	}
	var props []string
	for _, name := range fileProps {
		if ok, err := pm.match(name); err != nil {
			return oval.Collected{}, err
		} else if ok {
			props = append(props, name)
		}
	}
	runtime := false
	for name := range runtimeProps {
		if ok, _ := pm.match(name); ok {
			runtime = true
		}
	}
	for _, name := range db.all() {
		if ok, err := um.match(name); err != nil {
			return oval.Collected{}, err
		} else if !ok {
			continue
		}
		if runtime {
			return oval.Collected{}, notCollectable("systemdunitproperty_object", "unit runtime state needs a running systemd: "+why)
		}
		u, err := p.loadUnit(ctx, db, name)
		if err != nil {
			r.itemError(err.Error())
			continue
		}
		for _, prop := range props {
			add(u.id, prop, u.values(prop))
		}
	}
	return r.collected(), nil
}

// isUnitProp reports properties of systemd's Unit interface (systemctl
// show also prints the Service, Socket, ... ones, which oscap's D-Bus
// query does not see).
func isUnitProp(k string) bool {
	if runtimeProps[k] || showArrays[k] || unitBoolKeys[k] != "" {
		return true
	}
	switch k {
	case "Id", "Following", "Description", "LoadState", "FragmentPath", "SourcePath", "UnitFileState",
		"UnitFilePreset", "OnFailureJobMode", "JobTimeoutUSec", "JobRunningTimeoutUSec", "JobTimeoutAction",
		"JobTimeoutRebootArgument", "Conditions", "Asserts", "LoadError", "Transient", "Perpetual",
		"StartLimitIntervalUSec", "StartLimitBurst", "StartLimitAction", "FailureAction", "SuccessAction",
		"FailureActionExitStatus", "SuccessActionExitStatus", "RebootArgument", "CollectMode",
		"AccessSELinuxContext", "ActivationDetails", "CanClean", "CanFreeze", "CanLiveMount":
		return true
	}
	return false
}

// collectUnitDependency reports, per unit, what oscap reports: the
// Requires and Wants of the unit, and recursively of every target among
// them (systemctl list-dependencies only descends into targets).
func (p *Prober) collectUnitDependency(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ue, err := requireEntity(obj, "unit")
	if err != nil {
		return oval.Collected{}, err
	}
	um := newMatcher(p.pats, ue)
	r := newResult(obj)
	var units []string
	var deps func(unit string) ([]string, error)
	if list, ok, _ := p.systemctlOK(ctx); ok {
		units = list
		deps = func(unit string) ([]string, error) {
			shown, err := p.systemctlShow(ctx, unit, []string{"Requires", "Wants"})
			if err != nil {
				return nil, err
			}
			return append(strings.Fields(shown["Requires"]), strings.Fields(shown["Wants"])...), nil
		}
	} else {
		db, err := p.units(ctx)
		if err != nil {
			return oval.Collected{Flag: oval.FlagError, Message: err.Error()}, nil
		}
		units = db.all()
		deps = func(unit string) ([]string, error) {
			u, err := p.loadUnit(ctx, db, unit)
			if err != nil {
				return nil, err
			}
			return append(append([]string(nil), u.lists["Requires"]...), u.lists["Wants"]...), nil
		}
	}
	for _, unit := range units {
		if ok, err := um.match(unit); err != nil {
			return oval.Collected{}, err
		} else if !ok {
			continue
		}
		var out []string
		seen := map[string]bool{}
		visiting := map[string]bool{}
		var walk func(u string) error
		walk = func(u string) error {
			if !strings.HasSuffix(u, ".target") || visiting[u] {
				return nil
			}
			visiting[u] = true
			ds, err := deps(u)
			if err != nil {
				return err
			}
			for _, d := range ds {
				if !seen[d] {
					seen[d] = true
					out = append(out, d)
				}
				if err := walk(d); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(unit); err != nil {
			r.itemError(err.Error())
			continue
		}
		ents := []oval.ItemEntity{strEnt("unit", unit)}
		for _, d := range out {
			ents = append(ents, strEnt("dependency", d))
		}
		r.add(oval.Item{Entities: ents}, "")
	}
	return r.collected(), nil
}
