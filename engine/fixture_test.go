package engine_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/output"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

// The same flag name as the output package's golden tests:
// go test ./engine -run TestFixture -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// scanTime is stamped on every result so that the goldens are stable.
var scanTime = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// rootPlaceholder replaces the temporary directory in golden output.
const rootPlaceholder = "$ROOT"

// offlineErrors are the only controls that may be Error on the hardened
// root, each with why a root directory cannot answer it. Everything else
// must Pass (or be N/A because it is written for another distribution).
var offlineErrors = map[int]string{
	2332: "AppArmor being active is asked of the running kernel with aa-status: a root directory is never executed",
}

// gates are controls that Pass on the hardened root and must still Pass on
// the misconfigured one, because they are the applicability condition of
// other controls (listed): failing the gate would turn those into N/A
// instead of Fail. The test checks that every gated control does Fail.
var gates = map[int]struct {
	reason string
	gated  []int
}{
	// Packages whose configuration is checked only when they are installed.
	1701: {"auditd must stay installed for its configuration to be checked", []int{1703, 1720, 1721, 1722, 1723, 1724, 1725, 1726, 1727, 1728, 1729, 1730, 1731, 1732, 1733, 1734, 1735}},
	1810: {"rsyslog must stay installed for its configuration to be checked", []int{1811, 1812, 1813, 1814, 1815}},
	2201: {"sudo must stay installed for sudoers to be checked", []int{2202, 2203, 2204, 2205, 2206, 2208}},
	2330: {"apparmor must stay installed for its boot settings to be checked", []int{2331}},
	2340: {"chrony must stay installed for its configuration to be checked", []int{2343, 2344, 2345, 2346}},
	2380: {"aide must stay installed for its schedule to be checked", []int{2381}},
	// Files whose permissions are checked only when they exist.
	2109: {"/etc/cron.allow must exist for its permissions to be checked", []int{2110}},
	2111: {"/etc/at.allow must exist for its permissions to be checked", []int{2112}},
	// Mount points whose options are checked only when they are separate.
	1901: {"/tmp must stay a separate mount for its options to be checked", []int{1902}},
	1908: {"/home must stay a separate mount for its options to be checked", []int{1909}},
	1911: {"/var must stay a separate mount for its options to be checked", []int{1912}},
	1914: {"/var/tmp must stay a separate mount for its options to be checked", []int{1915}},
	1917: {"/var/log must stay a separate mount for its options to be checked", []int{1918}},
	1920: {"/var/log/audit must stay a separate mount for its options to be checked", []int{1921}},
}

// fixtureScan is one scan of a fixture root against every built-in policy.
type fixtureScan struct {
	dir   string
	host  result.Host
	rules map[string][]policy.Rule // policy id -> resolved rules
}

func builtinRuns(t *testing.T, ids ...string) (*policy.Library, []engine.Run) {
	t.Helper()
	lib, err := library.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		for _, p := range lib.Policies() {
			ids = append(ids, p.ID)
		}
	}
	var runs []engine.Run
	for _, id := range ids {
		p := lib.Policy(id)
		if p == nil {
			t.Fatalf("no built-in policy %s", id)
		}
		rules, err := p.Rules(lib)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, engine.Run{Policy: p, Rules: rules})
	}
	return lib, runs
}

func scanTree(t *testing.T, tree fixture.Tree, runs []engine.Run) (string, result.Host) {
	t.Helper()
	if os.Geteuid() != 0 {
		// Owners (root:shadow, alice's home, an orphaned uid) are part of
		// what the controls check; only root can create them.
		if os.Getenv("CI") == "true" {
			t.Fatal("the fixture roots need root to set file owners")
		}
		t.Skip("the fixture roots need root to set file owners")
	}
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	tg, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	host, err := (&engine.Engine{Now: func() time.Time { return scanTime }}).Scan(context.Background(), tg, runs)
	if err != nil {
		t.Fatal(err)
	}
	if host.Error != "" {
		t.Fatalf("scan of the fixture failed: %s", host.Error)
	}
	return tg.Dir(), host
}

func scanFixture(t *testing.T, tree fixture.Tree) fixtureScan {
	t.Helper()
	_, runs := builtinRuns(t)
	dir, host := scanTree(t, tree, runs)
	fs := fixtureScan{dir: dir, host: host, rules: map[string][]policy.Rule{}}
	for _, r := range runs {
		fs.rules[r.Policy.ID] = r.Rules
	}
	return fs
}

// results indexes a scan by policy id and CID.
func (s fixtureScan) results() map[string]map[int]result.Result {
	out := map[string]map[int]result.Result{}
	for _, pr := range s.host.Policies {
		out[pr.ID] = map[int]result.Result{}
		for _, r := range pr.Results {
			out[pr.ID][r.CID] = r
		}
	}
	return out
}

// each calls fn for every result, in policy id then CID order.
func (s fixtureScan) each(fn func(pid string, r result.Result)) {
	pols := append([]result.PolicyRun(nil), s.host.Policies...)
	sort.Slice(pols, func(i, j int) bool { return pols[i].ID < pols[j].ID })
	for _, pr := range pols {
		for _, r := range pr.Results { // the engine sorts results by CID
			fn(pr.ID, r)
		}
	}
}

// goldenText renders a scan as one line per (policy, CID), sorted:
// "policy cid status[(reason)]: evidence | message".
func goldenText(s fixtureScan, name string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s: every built-in policy on the %s fixture root (internal/fixture/debian.go).\n", name, name)
	fmt.Fprintf(&b, "# Regenerate with: go test ./engine -run TestFixtureGolden -update\n")
	pols := append([]result.PolicyRun(nil), s.host.Policies...)
	sort.Slice(pols, func(i, j int) bool { return pols[i].ID < pols[j].ID })
	for _, pr := range pols {
		var counts []string
		for _, st := range result.Statuses {
			counts = append(counts, fmt.Sprintf("%s %d", st.Label(), pr.Summary.Counts[st]))
		}
		fmt.Fprintf(&b, "# %s: %s\n", pr.ID, strings.Join(counts, ", "))
	}
	for _, pr := range pols {
		rs := append([]result.Result(nil), pr.Results...)
		sort.Slice(rs, func(i, j int) bool { return rs[i].CID < rs[j].CID })
		for _, r := range rs {
			status := string(r.Status)
			if r.Reason != "" {
				status += "(" + r.Reason + ")"
			}
			text := strings.Join(r.Actual, " | ")
			if r.Message != "" {
				if text != "" {
					text += " | "
				}
				text += r.Message
			}
			fmt.Fprintf(&b, "%s %d %s: %s\n", pr.ID, r.CID, status, oneLine(text))
		}
	}
	return bytes.ReplaceAll(b.Bytes(), []byte(s.dir), []byte(rootPlaceholder))
}

func oneLine(s string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(s)
}

// compareGolden compares got with testdata/name, or rewrites it with -update.
func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./engine -run TestFixture -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test ./engine -run TestFixture -update if the change is intended)", path, i+1, g, w)
		}
	}
	t.Fatalf("%s differs", path)
}

func TestFixtureGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		tree fixture.Tree
	}{
		{"debian12-hardened", fixture.Debian12Hardened()},
		{"debian12-misconfigured", fixture.Debian12Misconfigured()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := scanFixture(t, tc.tree)
			compareGolden(t, tc.name+".golden", goldenText(s, tc.name))
		})
	}
}

// TestFixtureJSON is the JSON document "plumb scan --root DIR --format json"
// writes for the hardened root and the default policy, with the volatile
// parts fixed: times, the tool version, the scan duration and the
// temporary directory.
func TestFixtureJSON(t *testing.T) {
	_, runs := builtinRuns(t, library.DefaultPolicy)
	dir, host := scanTree(t, fixture.Debian12Hardened(), runs)
	host.Stats.Seconds = 0
	rep := &result.Report{Schema: result.SchemaVersion, Tool: "plumb (fixture test)", Started: scanTime, Finished: scanTime, Hosts: []result.Host{host}}
	var buf bytes.Buffer
	if err := output.Write(&buf, "json", rep, output.Options{}); err != nil {
		t.Fatal(err)
	}
	got := bytes.ReplaceAll(buf.Bytes(), []byte(dir), []byte(rootPlaceholder))
	compareGolden(t, "debian12-hardened-l1.json.golden", got)
}

// TestFixtureIntent states what the fixtures are for, so that a careless
// -update cannot bless a regression: the hardened root passes everything
// a root directory can answer, the misconfigured root fails all of it, no
// control is dodged through N/A, and every built-in control is evaluated.
// (A panic in any probe or check aborts the test binary: no control may
// panic on either root.)
func TestFixtureIntent(t *testing.T) {
	lib, _ := builtinRuns(t)
	hard := scanFixture(t, fixture.Debian12Hardened())
	mis := scanFixture(t, fixture.Debian12Misconfigured())
	hres, mres := hard.results(), mis.results()

	seen := map[int]bool{}
	for _, s := range []struct {
		name string
		scan fixtureScan
		res  map[string]map[int]result.Result
	}{{"hardened", hard, hres}, {"misconfigured", mis, mres}} {
		if len(s.scan.host.Policies) != len(lib.Policies()) {
			t.Errorf("%s: %d policy runs, want %d", s.name, len(s.scan.host.Policies), len(lib.Policies()))
		}
		for _, pr := range s.scan.host.Policies {
			if rules := s.scan.rules[pr.ID]; len(pr.Results) != len(rules) || len(s.res[pr.ID]) != len(rules) {
				t.Errorf("%s %s: %d results (%d distinct) for %d rules", s.name, pr.ID, len(pr.Results), len(s.res[pr.ID]), len(rules))
			}
		}
		for _, pid := range slices.Sorted(maps.Keys(s.scan.rules)) {
			rules, rs := s.scan.rules[pid], s.res[pid]
			for _, rule := range rules {
				r, ok := rs[rule.CID]
				if !ok {
					t.Errorf("%s %s %d: no result", s.name, pid, rule.CID)
					continue
				}
				seen[rule.CID] = true
				switch r.Status {
				case result.Pass, result.Fail, result.NotChecked:
				case result.Error:
					if _, ok := offlineErrors[rule.CID]; !ok || r.Reason != result.ReasonNotCollectable {
						t.Errorf("%s %s %d: unexpected error %s: %s", s.name, pid, rule.CID, r.Reason, r.Message)
					}
				case result.NA:
					// Only controls written for another distribution; an
					// applicability condition that fails means the fixture
					// does not exercise the control.
					if !strings.HasPrefix(r.Expected, "technology ") || rule.Supports("debian-12") {
						t.Errorf("%s %s %d: N/A on debian-12 (%s): the fixture does not exercise it", s.name, pid, rule.CID, r.Message)
					}
				default:
					t.Errorf("%s %s %d: unknown status %q", s.name, pid, rule.CID, r.Status)
				}
				if rule.Check.Manual != "" && r.Status != result.NotChecked && r.Status != result.NA {
					t.Errorf("%s %s %d: manual control is %s", s.name, pid, rule.CID, r.Status)
				}
			}
		}
	}
	for _, c := range lib.Controls() {
		if !seen[c.CID] {
			t.Errorf("control %d (%s) is in no fixture result", c.CID, c.Title)
		}
	}

	// Hardened: nothing fails; the allowlisted errors do occur.
	erred := map[int]bool{}
	hard.each(func(pid string, r result.Result) {
		switch r.Status {
		case result.Fail:
			t.Errorf("hardened %s %d %q fails: %s", pid, r.CID, r.Title, strings.Join(r.Actual, " | "))
		case result.Error:
			erred[r.CID] = true
		}
	})
	for cid, why := range offlineErrors {
		if !erred[cid] {
			t.Errorf("offlineErrors lists %d (%s) but it is not an Error on the hardened root", cid, why)
		}
	}

	// Misconfigured: everything that passed fails, but for the gates.
	usedGates := map[int]bool{}
	hard.each(func(pid string, hr result.Result) {
		if hr.Status != result.Pass {
			return
		}
		mr := mres[pid][hr.CID]
		if g, ok := gates[hr.CID]; ok {
			usedGates[hr.CID] = true
			if mr.Status != result.Pass {
				t.Errorf("misconfigured %s %d is %s; it must pass: %s", pid, hr.CID, mr.Status, g.reason)
			}
			return
		}
		if mr.Status != result.Fail {
			t.Errorf("misconfigured %s %d %q is %s, want fail (it passes on the hardened root): %s",
				pid, hr.CID, hr.Title, mr.Status, strings.Join(mr.Actual, " | "))
		}
	})
	for cid, g := range gates {
		if !usedGates[cid] {
			t.Errorf("gates lists %d (%s) but it does not pass on the hardened root", cid, g.reason)
		}
		for _, c := range g.gated {
			if ctl := lib.Control(c); ctl == nil || ctl.Applicable == nil {
				t.Errorf("gate %d: control %d has no applicability condition to gate", cid, c)
			}
			for pid, rs := range mres {
				if r, ok := rs[c]; ok && r.Status != result.Fail {
					t.Errorf("misconfigured %s %d is %s, want fail: the point of gate %d", pid, c, r.Status, cid)
				}
			}
		}
	}
}
