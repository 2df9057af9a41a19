package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

// outcome is the evaluation of one check.
type outcome struct {
	status   result.Status // Pass, Fail or Error
	expected string
	actual   []string
	reason   string
	message  string
}

func pass(expected string, actual ...string) outcome {
	return outcome{status: result.Pass, expected: expected, actual: actual}
}

func fail(expected string, actual ...string) outcome {
	return outcome{status: result.Fail, expected: expected, actual: actual}
}

func verdict(ok bool, expected string, actual ...string) outcome {
	if ok {
		return pass(expected, actual...)
	}
	return fail(expected, actual...)
}

// errOutcome turns a collection error into an Error outcome with a reason.
// It never becomes a Fail: we did not get the data.
func errOutcome(expected string, err error) outcome {
	reason := result.ReasonCollectionFailed
	switch {
	case errors.Is(err, target.ErrPrivilege): // before ErrPermission: a refused sudo explains the denial
		reason = result.ReasonPrivilege
	case errors.Is(err, fs.ErrPermission):
		reason = result.ReasonPermissionDenied
	case errors.Is(err, target.ErrNotSupported):
		reason = result.ReasonNotCollectable
	case errors.Is(err, context.DeadlineExceeded):
		reason = result.ReasonTimeout
	case errors.Is(err, target.ErrUnreachable):
		reason = result.ReasonUnreachable
	case errors.Is(err, target.ErrAuth):
		reason = result.ReasonAuthFailed
	case errors.Is(err, target.ErrHostKey):
		reason = result.ReasonHostKeyMismatch
	}
	return outcome{status: result.Error, expected: expected, reason: reason, message: err.Error()}
}

func (e *evaluator) eval(ctx context.Context, ch *policy.Check) outcome {
	switch {
	case ch.File != nil:
		return e.file(ctx, ch.File)
	case ch.Line != nil:
		return e.line(ctx, ch.Line)
	case ch.SSHD != nil:
		return e.sshd(ctx, ch.SSHD)
	case ch.Setting != nil:
		return e.setting(ctx, ch.Setting)
	case ch.Sysctl != nil:
		return e.sysctl(ctx, ch.Sysctl)
	case ch.Package != nil:
		return e.pkg(ctx, ch.Package)
	case ch.Service != nil:
		return e.service(ctx, ch.Service)
	case ch.Mount != nil:
		return e.mount(ctx, ch.Mount)
	case ch.Module != nil:
		return e.module(ctx, ch.Module)
	case ch.Accounts != nil:
		return e.accounts(ctx, ch.Accounts)
	case ch.PAM != nil:
		return e.pam(ctx, ch.PAM)
	case ch.Search != nil:
		return e.search(ctx, ch.Search)
	case ch.Command != nil:
		return e.command(ctx, ch.Command)
	case ch.All != nil:
		return e.combine(ctx, ch.All, true)
	case ch.Any != nil:
		return e.combine(ctx, ch.Any, false)
	}
	return outcome{status: result.Error, reason: result.ReasonInvalidCheck, message: "check has no kind"}
}

// combine: all fails if any part fails, else errors if any part errors;
// any passes if any part passes, else errors if any part errors.
func (e *evaluator) combine(ctx context.Context, parts []policy.Check, all bool) outcome {
	var exp, act, msgs []string
	counts := map[result.Status]int{}
	reason := ""
	for i := range parts {
		o := e.eval(ctx, &parts[i])
		counts[o.status]++
		exp = append(exp, o.expected)
		act = append(act, o.actual...)
		if o.status == result.Error {
			if reason == "" {
				reason = o.reason
			}
			msgs = append(msgs, o.message)
		}
	}
	joiner := " and "
	if !all {
		joiner = " or "
	}
	out := outcome{expected: strings.Join(exp, joiner), actual: act}
	switch {
	case all && counts[result.Fail] > 0, !all && counts[result.Pass] == 0 && counts[result.Error] == 0:
		out.status = result.Fail
	case counts[result.Error] > 0 && (all || counts[result.Pass] == 0):
		out.status, out.reason, out.message = result.Error, reason, strings.Join(msgs, "; ")
	default:
		out.status = result.Pass
	}
	return out
}

type evaluator struct {
	c *collector
}

func (e *evaluator) names(ctx context.Context) (users map[uint32]string, groups map[uint32]string) {
	users, groups = map[uint32]string{}, map[uint32]string{}
	if v, err := e.c.get(ctx, object{kPasswd, ""}); err == nil {
		for _, u := range v.([]parse.User) {
			if _, dup := users[uint32(u.UID)]; !dup {
				users[uint32(u.UID)] = u.Name
			}
		}
	}
	if v, err := e.c.get(ctx, object{kGroup, ""}); err == nil {
		for _, g := range v.([]parse.Group) {
			if _, dup := groups[uint32(g.GID)]; !dup {
				groups[uint32(g.GID)] = g.Name
			}
		}
	}
	return users, groups
}

func idMatches(want string, id uint32, name string) bool {
	if n, err := strconv.ParseUint(want, 10, 32); err == nil {
		return uint32(n) == id
	}
	return want == name
}

func (e *evaluator) file(ctx context.Context, fc *policy.FileCheck) outcome {
	wantExist := fc.Exists == nil || *fc.Exists
	var exp []string
	if !wantExist {
		exp = append(exp, "absent")
	} else {
		exp = append(exp, "exists")
		if fc.Mode != "" {
			exp = append(exp, "mode "+fc.Mode+" or stricter")
		}
		if fc.Owner != "" {
			exp = append(exp, "owner "+fc.Owner)
		}
		if fc.Group != "" {
			exp = append(exp, "group "+fc.Group)
		}
	}
	expected := fc.Path + ": " + strings.Join(exp, ", ")
	v, err := e.c.get(ctx, object{kStat, fc.Path})
	if errors.Is(err, fs.ErrNotExist) {
		return verdict(!wantExist, expected, fc.Path+": absent")
	}
	if err != nil {
		return errOutcome(expected, err)
	}
	fi := v.(target.FileInfo)
	users, groups := e.names(ctx)
	actual := fmt.Sprintf("%s: mode %04o owner %s(%d) group %s(%d)", fc.Path, perm(fi.Mode), orQ(users[fi.UID]), fi.UID, orQ(groups[fi.GID]), fi.GID)
	if !wantExist {
		return fail(expected, actual)
	}
	ok := true
	if fc.Mode != "" {
		allowed, err := strconv.ParseUint(fc.Mode, 8, 32)
		if err != nil {
			return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: "mode " + fc.Mode + " is not octal"}
		}
		if uint64(perm(fi.Mode))&^allowed != 0 {
			ok = false
		}
	}
	if fc.Owner != "" && !idMatches(fc.Owner, fi.UID, users[fi.UID]) {
		ok = false
	}
	if fc.Group != "" && !idMatches(fc.Group, fi.GID, groups[fi.GID]) {
		ok = false
	}
	return verdict(ok, expected, actual)
}

// perm returns the Unix permission bits including set-id and sticky.
func perm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

func orQ(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// files expands a path or glob into existing files, in lexical order.
func (e *evaluator) files(ctx context.Context, p string) ([]string, error) {
	return e.c.glob(ctx, p)
}

const maxEvidence = 20

func (e *evaluator) line(ctx context.Context, lc *policy.LineCheck) outcome {
	absent := lc.Expect == "absent"
	expected := fmt.Sprintf("%s: a line matching /%s/", lc.Path, lc.Pattern)
	if absent {
		expected = fmt.Sprintf("%s: no line matching /%s/", lc.Path, lc.Pattern)
	}
	re, err := regexp.Compile(lc.Pattern)
	if err != nil {
		return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
	}
	names, err := e.files(ctx, lc.Path)
	if err != nil {
		return errOutcome(expected, err)
	}
	var hits []string
	read := 0
	for _, n := range names {
		data, found, err := e.c.readOptional(ctx, n)
		if err != nil {
			return errOutcome(expected, err)
		}
		if !found {
			continue
		}
		read++
		prev := 0
		for _, loc := range re.FindAllIndex(data, maxEvidence) {
			ln := 1 + bytes.Count(data[:loc[0]], []byte{'\n'})
			if ln == prev {
				continue // a line with several matches is listed once
			}
			prev = ln
			hits = append(hits, fmt.Sprintf("%s:%d: %s", n, ln, lineAt(data, loc[0])))
		}
	}
	if len(hits) == 0 {
		what := "no matching line"
		if read == 0 {
			what = "no such file"
		}
		return verdict(absent, expected, lc.Path+": "+what)
	}
	return verdict(!absent, expected, hits...)
}

func lineAt(data []byte, off int) string {
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	end := len(data)
	if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
		end = off + i
	}
	s := string(data[start:end])
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return strings.TrimSpace(s)
}

func (e *evaluator) sshd(ctx context.Context, sc *policy.SSHDCheck) outcome {
	expected := sc.Key + " " + describe(sc.Compare)
	v, err := e.c.get(ctx, object{kSSHD, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	val, src, ok := v.(*parse.SSHDConfig).Get(sc.Key)
	passed, shown, err := compare(sc.Compare, val, ok)
	if err != nil {
		return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
	}
	actual := sc.Key + " " + shown
	if ok {
		actual += " (" + src + ")"
	}
	return verdict(passed, expected, actual)
}

func (e *evaluator) setting(ctx context.Context, sc *policy.SettingCheck) outcome {
	expected := fmt.Sprintf("%s: %s %s", sc.Path, sc.Key, describe(sc.Compare))
	names, err := e.files(ctx, sc.Path)
	if err != nil {
		return errOutcome(expected, err)
	}
	var last parse.Setting
	var src string
	found := false
	for _, n := range names {
		data, ok, err := e.c.readOptional(ctx, n)
		if err != nil {
			return errOutcome(expected, err)
		}
		if !ok {
			continue
		}
		var all []parse.Setting
		if sc.Format == "login.defs" {
			all = parse.LoginDefs(data)
		} else {
			all = parse.KeyValue(data)
		}
		if s, ok := parse.Last(all, sc.Key); ok {
			last, src, found = s, fmt.Sprintf("%s:%d", n, s.Line), true
		}
	}
	passed, shown, err := compare(sc.Compare, last.Value, found)
	if err != nil {
		return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
	}
	actual := sc.Key + " " + shown
	if found {
		actual += " (" + src + ")"
	}
	return verdict(passed, expected, actual)
}

func (e *evaluator) sysctl(ctx context.Context, sc *policy.SysctlCheck) outcome {
	source := sc.Source
	if source == "" {
		source = "both"
	}
	expected := sc.Key + " " + describe(sc.Compare)
	var parts []outcome
	if source == "runtime" || (source == "both" && e.c.facts.Live) {
		o := func() outcome {
			exp := expected + " (running kernel)"
			v, err := e.c.get(ctx, object{kSysctlRuntime, sc.Key})
			if errors.Is(err, fs.ErrNotExist) {
				// The kernel does not have this parameter (module not loaded, IPv6 off).
				ok, shown, _ := compare(sc.Compare, "", false)
				return verdict(ok, exp, "running kernel: "+sc.Key+" "+shown+" (no such parameter)")
			}
			if err != nil {
				return errOutcome(exp, err)
			}
			ok, shown, err := compare(sc.Compare, v.(string), true)
			if err != nil {
				return outcome{status: result.Error, expected: exp, reason: result.ReasonInvalidCheck, message: err.Error()}
			}
			return verdict(ok, exp, "running kernel: "+sc.Key+" = "+shown)
		}()
		parts = append(parts, o)
	}
	if source == "config" || source == "both" {
		o := func() outcome {
			exp := expected + " (persisted in sysctl.d)"
			v, err := e.c.get(ctx, object{kSysctlConfig, ""})
			if err != nil {
				return errOutcome(exp, err)
			}
			s, found := v.(sysctlConfig).lookup(sc.Key)
			ok, shown, err := compare(sc.Compare, s.value, found)
			if err != nil {
				return outcome{status: result.Error, expected: exp, reason: result.ReasonInvalidCheck, message: err.Error()}
			}
			act := "persisted: " + sc.Key + " " + shown
			if found {
				act = "persisted: " + sc.Key + " = " + shown + " (" + s.source + ")"
			}
			return verdict(ok, exp, act)
		}()
		parts = append(parts, o)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return combineOutcomes(parts)
}

// combineOutcomes is combine for already evaluated parts (all semantics).
func combineOutcomes(parts []outcome) outcome {
	out := outcome{status: result.Pass}
	var exp []string
	for _, p := range parts {
		exp = append(exp, p.expected)
		out.actual = append(out.actual, p.actual...)
		switch {
		case p.status == result.Fail:
			out.status = result.Fail
		case p.status == result.Error && out.status != result.Fail:
			out.status, out.reason, out.message = result.Error, p.reason, p.message
		}
	}
	if out.status != result.Error {
		out.reason, out.message = "", ""
	}
	out.expected = strings.Join(exp, " and ")
	return out
}

func (e *evaluator) pkg(ctx context.Context, pc *policy.PackageCheck) outcome {
	want := pc.Installed == nil || *pc.Installed
	expected := pc.Name + " installed"
	if !want {
		expected = pc.Name + " not installed"
	} else if pc.MinVersion != "" {
		expected += ", version >= " + pc.MinVersion
	}
	v, err := e.c.get(ctx, object{kPackages, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	db := v.(*packageDB)
	p, ok := db.pkgs[pc.Name]
	if !ok || !p.Installed() {
		what := pc.Name + ": not installed"
		if ok {
			what = pc.Name + ": " + p.Status
		}
		return verdict(!want, expected, what+" ("+db.source+")")
	}
	actual := fmt.Sprintf("%s %s installed (%s)", pc.Name, p.Version, db.source)
	if !want {
		return fail(expected, actual)
	}
	if pc.MinVersion != "" && db.compare(p.Version, pc.MinVersion) < 0 {
		return fail(expected, actual)
	}
	return pass(expected, actual)
}

func (e *evaluator) service(ctx context.Context, sc *policy.ServiceCheck) outcome {
	expected := sc.Unit + " " + sc.State
	if sc.State == "disabled" {
		expected = sc.Unit + " not enabled (disabled, masked or not installed)"
	}
	v, err := e.c.get(ctx, object{kUnits, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	state, evidence, err := v.(*unitState).state(ctx, e.c, sc.Unit)
	if err != nil {
		return errOutcome(expected, err)
	}
	var ok bool
	switch sc.State {
	case "enabled":
		ok = state == "enabled"
	case "masked":
		ok = state == "masked"
	default:
		ok = state != "enabled"
	}
	return verdict(ok, expected, sc.Unit+": "+evidence)
}

func (e *evaluator) mount(ctx context.Context, mc *policy.MountCheck) outcome {
	var exp []string
	if mc.Separate {
		exp = append(exp, "a separate file system")
	}
	if len(mc.Options) > 0 {
		exp = append(exp, "mounted with "+strings.Join(mc.Options, ","))
	}
	expected := mc.Path + ": " + strings.Join(exp, ", ")
	v, err := e.c.get(ctx, object{kMounts, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	mt := v.(*mountTable)
	m, ok := mt.find(mc.Path)
	if !ok {
		return fail(expected, mc.Path+": not a separate mount ("+mt.source+")")
	}
	var missing []string
	for _, o := range mc.Options {
		if !m.HasOption(o) {
			missing = append(missing, o)
		}
	}
	actual := fmt.Sprintf("%s: %s %s (%s)", mc.Path, m.FSType, strings.Join(m.Options, ","), mt.source)
	if len(missing) > 0 {
		actual += "; missing " + strings.Join(missing, ",")
	}
	return verdict(len(missing) == 0, expected, actual)
}

func (e *evaluator) module(ctx context.Context, mc *policy.ModuleCheck) outcome {
	name := strings.ReplaceAll(mc.Name, "-", "_")
	expected := mc.Name + " cannot be loaded (install /bin/false or blacklist) and is not loaded"
	if !mc.Disabled {
		expected = mc.Name + " may be loaded"
	}
	v, err := e.c.get(ctx, object{kModprobe, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	var disabledBy []string
	for _, m := range v.([]modprobeEntry) {
		if strings.ReplaceAll(m.Module, "-", "_") != name {
			continue
		}
		switch m.Cmd {
		case "blacklist":
			disabledBy = append(disabledBy, "blacklist at "+m.source)
		case "install":
			if len(m.Args) > 0 && slicesContains([]string{"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"}, m.Args[0]) {
				disabledBy = append(disabledBy, "install "+m.Args[0]+" at "+m.source)
			}
		}
	}
	var actual []string
	if len(disabledBy) > 0 {
		actual = append(actual, mc.Name+": disabled by "+strings.Join(disabledBy, ", "))
	} else {
		actual = append(actual, mc.Name+": not disabled in modprobe.d")
	}
	loaded := false
	if e.c.facts.Live {
		lv, err := e.c.get(ctx, object{kModules, ""})
		if err != nil {
			return errOutcome(expected, err)
		}
		loaded = lv.(map[string]bool)[name]
		if loaded {
			actual = append(actual, mc.Name+": loaded now")
		}
	}
	disabled := len(disabledBy) > 0 && !loaded
	return verdict(disabled == mc.Disabled, expected, actual...)
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (e *evaluator) pam(ctx context.Context, pc *policy.PAMCheck) outcome {
	want := pc.Present == nil || *pc.Present
	expected := fmt.Sprintf("%s: %s %s", pc.File, pc.Type, pc.Module)
	if pc.Arg != "" {
		if pc.Op == "" && pc.Value == "" {
			expected += " with " + pc.Arg
		} else {
			expected += " with " + pc.Arg + " " + describe(pc.Compare)
		}
	}
	if !want {
		expected = fmt.Sprintf("%s: no %s %s line", pc.File, pc.Type, pc.Module)
	}
	v, err := e.c.get(ctx, object{kPAM, pc.File})
	if err != nil {
		return errOutcome(expected, err)
	}
	var lines []parse.PAMLine
	for _, l := range v.([]parse.PAMLine) {
		if l.Type == pc.Type && path.Base(l.Module) == pc.Module {
			lines = append(lines, l)
		}
	}
	show := func(l parse.PAMLine) string {
		return fmt.Sprintf("%s:%d: %s %s %s %s", pc.File, l.Line, l.Type, l.Control, l.Module, strings.Join(l.Args, " "))
	}
	if len(lines) == 0 {
		return verdict(!want, expected, fmt.Sprintf("%s: no %s %s line", pc.File, pc.Type, pc.Module))
	}
	if !want {
		return fail(expected, show(lines[0]))
	}
	if pc.Arg == "" {
		return pass(expected, show(lines[0]))
	}
	// Any matching line that satisfies the argument comparison passes.
	var actual []string
	for _, l := range lines {
		val, has := l.Arg(pc.Arg)
		if pc.Op == "" && pc.Value == "" {
			if has {
				return pass(expected, show(l))
			}
			actual = append(actual, show(l))
			continue
		}
		ok, _, err := compare(pc.Compare, val, has)
		if err != nil {
			return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
		}
		if ok {
			return pass(expected, show(l))
		}
		actual = append(actual, show(l))
	}
	return fail(expected, actual...)
}

func (e *evaluator) command(ctx context.Context, cc *policy.CommandCheck) outcome {
	expected := strings.Join(cc.Argv, " ")
	if cc.Exit != nil {
		expected += fmt.Sprintf(": exit %d", *cc.Exit)
	}
	if cc.Op != "" || cc.Value != "" {
		expected += ": output " + describe(cc.Compare)
	}
	v, err := e.c.get(ctx, object{kCommand, strings.Join(cc.Argv, "\x00")})
	if err != nil {
		return errOutcome(expected, err)
	}
	res := v.(target.CmdResult)
	out := strings.TrimSpace(string(res.Stdout))
	actual := fmt.Sprintf("exit %d, output %q", res.Exit, truncate(out, 500))
	if cc.Exit != nil && res.Exit != *cc.Exit {
		return fail(expected, actual)
	}
	if cc.Op == "" && cc.Value == "" {
		return pass(expected, actual)
	}
	ok, _, err := compare(cc.Compare, out, true)
	if err != nil {
		return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
	}
	return verdict(ok, expected, actual)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (e *evaluator) search(ctx context.Context, sc *policy.SearchCheck) outcome {
	expected := "no " + strings.ReplaceAll(sc.Kind, "_", " ")
	if len(sc.Allow) > 0 {
		expected += " outside the allowed list (" + strings.Join(sc.Allow, ", ") + ")"
	}
	v, err := e.c.get(ctx, object{kWalk, ""})
	if err != nil {
		return errOutcome(expected, err)
	}
	w := v.(*walkResult)
	if sc.Kind == searchUnowned && w.idsErr != "" {
		return errOutcome(expected, errors.New("cannot tell owners without the user and group databases: "+w.idsErr))
	}
	var found []string
	for _, p := range w.matches[sc.Kind] {
		if !allowed(sc.Allow, p) {
			found = append(found, p)
		}
	}
	extra := w.counts[sc.Kind] - len(w.matches[sc.Kind])
	if len(found) == 0 && extra == 0 {
		msg := "none found"
		if w.errors > 0 {
			msg += fmt.Sprintf(" (%d directories could not be read)", w.errors)
		}
		return pass(expected, msg)
	}
	sort.Strings(found)
	actual := found
	if len(actual) > maxEvidence {
		actual = append(actual[:maxEvidence:maxEvidence], fmt.Sprintf("... %d more", len(found)-maxEvidence+extra))
	} else if extra > 0 {
		actual = append(actual, fmt.Sprintf("... %d more", extra))
	}
	return fail(expected, actual...)
}

func allowed(globs []string, p string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, p); ok || g == p {
			return true
		}
	}
	return false
}
