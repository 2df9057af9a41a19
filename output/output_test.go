package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hostile is evidence a compromised host could return: terminal escape
// sequences (colour, OSC title, a C1 CSI), a carriage return, a bidi
// override, and CSV metacharacters.
const (
	hostileEscape = "PermitRootLogin yes \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \u009b2J\rhidden"
	hostileCSV    = "Banner \"/etc/issue\", next\nline"
	hostileBidi   = "user \u202eevil\u202c name"
	formula       = "=HYPERLINK(\"http://evil.example/\",\"click\")"
)

// sample is a fixed report: host "local" with two policies and a result of
// every status, and host "ssh:db1.example.com" that could not be reached.
func sample() *result.Report {
	at := time.Date(2025, 3, 1, 10, 0, 3, 0, time.UTC)
	l1 := []result.Result{
		{
			CID: 1101, Title: "Ensure permissions on /etc/passwd are configured", Category: "File permissions",
			Criticality: policy.Serious, Status: result.Pass,
			Expected: "mode 0644 or stricter, owner root:root", Actual: []string{"/etc/passwd 0644 root:root"},
			Method: "local", Time: at,
			References:  map[string][]string{"cis": {"7.1.1"}, "stig": {"V-238357"}},
			Remediation: "chown root:root /etc/passwd && chmod 0644 /etc/passwd",
		},
		{
			CID: 1205, Title: "Ensure SSH root login is disabled", Category: "SSH server",
			Criticality: policy.Critical, Status: result.Fail,
			Expected: "PermitRootLogin no", Actual: []string{hostileEscape, hostileCSV},
			Method: "local", Time: at,
			References:  map[string][]string{"cis": {"5.2.10"}, "pci-dss": {"2.2.6", "8.6.1"}},
			Remediation: "Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.",
		},
		{
			CID: 1310, Title: "Ensure only approved accounts have UID 0 (管理者)", Category: "Accounts",
			Criticality: policy.Minimal, Status: result.Fail,
			Expected: "only root", Actual: []string{formula, hostileBidi, "-1", "@SUM(A1:A9)"},
			Method: "local", Time: at,
		},
		{
			CID: 1402, Title: "Ensure /etc/shadow is not world readable", Category: "File permissions",
			Criticality: policy.Serious, Status: result.Error,
			Expected: "mode 0640 or stricter", Actual: []string{},
			Reason: result.ReasonPermissionDenied, Message: "open /etc/shadow: permission denied",
			Method: "local", Time: at,
			References: map[string][]string{"cis": {"7.1.5"}},
		},
		{
			CID: 1501, Title: "Ensure Apache ServerTokens is Prod", Category: "Web server",
			Criticality: policy.Medium, Status: result.NA,
			Expected: "applies when package apache2 is installed", Actual: []string{"package apache2: not installed"},
			Message: "not applicable: package apache2 is installed is not the case",
			Method:  "local", Time: at,
		},
		{
			CID: 1602, Title: "Ensure backups are restored and tested every quarter", Category: "Operations",
			Criticality: policy.Urgent, Status: result.NotChecked,
			Expected: "Review the backup restore test records", Actual: []string{},
			Message: "manual control: no automated check",
			Method:  "local", Time: at,
		},
		{
			CID: 1703, Title: "Ensure no unowned files or directories exist anywhere on local file systems", Category: "File system",
			Criticality: policy.Urgent, Status: result.Fail,
			Expected: "none",
			Actual: []string{
				"/srv/data/old-backup-2019.tar.gz uid 1042", "/srv/data/tmp/export.csv uid 1042",
				"/opt/legacy/bin/tool uid 2001", "/var/tmp/núcleo-ñandú.log uid 3001",
			},
			Method: "local", Time: at,
			References: map[string][]string{"cis": {"7.1.12"}},
		},
	}
	stig := []result.Result{
		{
			CID: 1101, Title: "Ensure permissions on /etc/passwd are configured", Category: "File permissions",
			Criticality: policy.Serious, Status: result.Pass,
			Expected: "mode 0644 or stricter, owner root:root", Actual: []string{"/etc/passwd 0644 root:root"},
			Method: "local", Time: at,
			References:  map[string][]string{"cis": {"7.1.1"}, "stig": {"V-238357"}},
			Remediation: "chown root:root /etc/passwd && chmod 0644 /etc/passwd",
		},
		{
			CID: 1205, Title: "Ensure SSH root login is disabled", Category: "SSH server",
			Criticality: policy.Urgent, Status: result.Fail, // overridden by the policy
			Expected: "PermitRootLogin no", Actual: []string{"PermitRootLogin yes"},
			Method: "local", Time: at,
			References:  map[string][]string{"cis": {"5.2.10"}, "pci-dss": {"2.2.6", "8.6.1"}},
			Remediation: "Set PermitRootLogin no in /etc/ssh/sshd_config and reload sshd.",
		},
	}
	return &result.Report{
		Schema:   result.SchemaVersion,
		Tool:     "plumb 0.3.0",
		Started:  time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		Finished: time.Date(2025, 3, 1, 10, 0, 7, 500_000_000, time.UTC),
		Hosts: []result.Host{
			{
				Target: "local",
				Facts: target.Facts{
					Hostname: "web1", Family: "linux", Distro: "debian", Version: "12",
					Name: "Debian GNU/Linux 12 (bookworm)", Technology: "debian-12",
					Kernel: "6.1.0-18-amd64", Arch: "amd64", Live: true,
				},
				Policies: []result.PolicyRun{
					{ID: "plumb-linux-l1", Version: "1.2.0", Title: "Plumb Linux Level 1 baseline", Results: l1, Summary: result.Summarize(l1)},
					{ID: "plumb-linux-stig", Version: "2025.1", Title: "Plumb Linux STIG selection", Results: stig, Summary: result.Summarize(stig)},
				},
				Stats: result.Stats{Objects: 42, FilesRead: 30, EntriesWalked: 12345, Commands: 0, Seconds: 1.25},
			},
			{
				Target:   "ssh:db1.example.com",
				Error:    "ssh: handshake failed: unable to authenticate, attempted methods [none publickey]",
				Reason:   result.ReasonAuthFailed,
				Policies: []result.PolicyRun{},
			},
		},
	}
}

func render(t *testing.T, format string, r *result.Report, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, r, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		format string
		opts   Options
	}{
		{"table", "table", Options{}},
		{"table-narrow", "table", Options{Width: 80}},
		{"table-color", "table", Options{Color: true}},
		{"json", "json", Options{}},
		{"csv", "csv", Options{}},
		{"junit", "junit", Options{}},
		{"sarif", "sarif", Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.format, sample(), tc.opts)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./output -update)", err)
			}
			if !bytes.Equal(got, want) {
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
						t.Fatalf("%s differs from %s at line %d:\n got: %q\nwant: %q\n(run go test ./output -update if the change is intended)", tc.name, path, i+1, g, w)
					}
				}
				t.Fatalf("%s differs from %s", tc.name, path)
			}
		})
	}
}

func TestFormats(t *testing.T) {
	for _, f := range Formats {
		if writers[f] == nil {
			t.Errorf("format %s has no writer", f)
		}
	}
	if len(writers) != len(Formats) {
		t.Errorf("%d writers for %d formats", len(writers), len(Formats))
	}
	var buf bytes.Buffer
	err := Write(&buf, "yaml", sample(), Options{})
	if err == nil {
		t.Fatal("unknown format accepted")
	}
	for _, f := range Formats {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list %s", err, f)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("unknown format wrote %q", buf.String())
	}
	if err := Write(&buf, "json", nil, Options{}); err == nil {
		t.Error("nil report accepted")
	}
}

func TestEmptyReport(t *testing.T) {
	for _, f := range Formats {
		out := render(t, f, &result.Report{}, Options{})
		if len(out) == 0 || out[len(out)-1] != '\n' {
			t.Errorf("%s: empty report renders %q", f, out)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := sample()
	out := render(t, "json", in, Options{})
	if !bytes.HasSuffix(out, []byte("}\n")) || bytes.HasSuffix(out, []byte("\n\n")) {
		t.Error("JSON does not end with exactly one newline")
	}
	var back result.Report
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, in) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, *in)
	}
	if !reflect.DeepEqual(in, sample()) {
		t.Error("Write modified the report")
	}
	// Terminal-active characters are escaped even inside JSON strings.
	for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\r"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("JSON contains raw %q", bad)
		}
	}
}

func TestJSONNeverNull(t *testing.T) {
	r := &result.Report{Hosts: []result.Host{
		{Target: "a", Error: "boom", Reason: result.ReasonUnreachable},
		{Target: "b", Policies: []result.PolicyRun{{ID: "p", Results: []result.Result{{CID: 1, Status: result.Pass, Criticality: policy.Minimal}}}}},
		{Target: "c", Policies: []result.PolicyRun{{ID: "q"}}},
	}}
	out := render(t, "json", r, Options{})
	if bytes.Contains(out, []byte("null")) {
		t.Errorf("JSON contains null:\n%s", out)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["schema"] != result.SchemaVersion {
		t.Errorf("schema = %v", doc["schema"])
	}
	if r.Hosts[0].Policies != nil || r.Hosts[2].Policies[0].Results != nil {
		t.Error("Write modified the report")
	}
}

// JUnit document as a CI system reads it.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	r := sample()
	out := render(t, "junit", r, Options{})
	var doc junitDoc
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	var want [4]int // tests, failures, errors, skipped
	suite := 0
	for _, h := range r.Hosts {
		if len(h.Policies) == 0 {
			want[0]++
			want[2]++
			s := doc.Suites[suite]
			if s.Tests != 1 || s.Errors != 1 || s.Cases[0].Error == nil || s.Cases[0].Error.Type != h.Reason {
				t.Errorf("unreachable host suite %+v", s)
			}
			suite++
			continue
		}
		for _, pr := range h.Policies {
			s := doc.Suites[suite]
			suite++
			c := pr.Summary.Counts
			got := [4]int{s.Tests, s.Failures, s.Errors, s.Skipped}
			exp := [4]int{pr.Summary.Total, c[result.Fail], c[result.Error], c[result.NA] + c[result.NotChecked]}
			if got != exp {
				t.Errorf("suite %s counts %v, want %v", s.Name, got, exp)
			}
			var cases [4]int
			for i, tc := range s.Cases {
				res := pr.Results[i]
				cases[0]++
				if tc.Classname != h.Target+"/"+pr.ID {
					t.Errorf("classname %q", tc.Classname)
				}
				if tc.Name != strconv.Itoa(res.CID)+" "+res.Title {
					t.Errorf("name %q for %d %s", tc.Name, res.CID, res.Title)
				}
				switch {
				case tc.Failure != nil:
					cases[1]++
					if res.Status != result.Fail || !strings.Contains(tc.Failure.Text, "Expected: "+res.Expected) {
						t.Errorf("failure for %d (%s): %+v", res.CID, res.Status, tc.Failure)
					}
				case tc.Error != nil:
					cases[2]++
					if res.Status != result.Error || tc.Error.Type != res.Reason {
						t.Errorf("error for %d (%s): %+v", res.CID, res.Status, tc.Error)
					}
				case tc.Skipped != nil:
					cases[3]++
					if res.Status != result.NA && res.Status != result.NotChecked {
						t.Errorf("skipped for %d (%s)", res.CID, res.Status)
					}
				default:
					if res.Status != result.Pass {
						t.Errorf("passed testcase for %d (%s)", res.CID, res.Status)
					}
				}
			}
			if cases != exp {
				t.Errorf("suite %s has %v testcases by state, want %v", s.Name, cases, exp)
			}
			for i := range want {
				want[i] += exp[i]
			}
		}
	}
	if suite != len(doc.Suites) {
		t.Errorf("%d suites, want %d", len(doc.Suites), suite)
	}
	if got := [4]int{doc.Tests, doc.Failures, doc.Errors, doc.Skipped}; got != want {
		t.Errorf("testsuites counts %v, want %v", got, want)
	}
	if bytes.Contains(out, []byte("\x1b")) {
		t.Error("JUnit contains ESC")
	}
}

func TestSARIF(t *testing.T) {
	r := sample()
	out := render(t, "sarif", r, Options{})
	var doc struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						Name             string `json:"name"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						Properties struct {
							Criticality string   `json:"criticality"`
							Tags        []string `json:"tags"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Invocations []struct {
				ExecutionSuccessful *bool `json:"executionSuccessful"`
				Notifications       []struct {
					Level   string `json:"level"`
					Message struct {
						Text string `json:"text"`
					} `json:"message"`
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex *int   `json:"ruleIndex"`
				Kind      string `json:"kind"`
				Level     string `json:"level"`
				Message   *struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					LogicalLocations []struct {
						FullyQualifiedName string `json:"fullyQualifiedName"`
					} `json:"logicalLocations"`
				} `json:"locations"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || doc.Schema != "https://json.schemastore.org/sarif-2.1.0.json" || len(doc.Runs) != 1 {
		t.Fatalf("header: version %q schema %q runs %d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "plumb" {
		t.Errorf("driver name %q", run.Tool.Driver.Name)
	}
	seen := map[string]bool{}
	for _, rule := range run.Tool.Driver.Rules {
		if seen[rule.ID] {
			t.Errorf("duplicate rule %s", rule.ID)
		}
		seen[rule.ID] = true
		if rule.Name == "" || rule.Name == rule.ID || strings.ContainsAny(rule.Name, " /") || rule.ShortDescription.Text == "" {
			t.Errorf("rule %+v", rule)
		}
	}
	if len(seen) != 7 {
		t.Errorf("%d rules, want the 7 distinct controls", len(seen))
	}
	if c := run.Tool.Driver.Rules[1].Properties.Criticality; run.Tool.Driver.Rules[1].ID != "PLUMB-1205" || c != "urgent" {
		t.Errorf("rule 1 = %s criticality %s, want PLUMB-1205 with the highest criticality urgent", run.Tool.Driver.Rules[1].ID, c)
	}
	var all []result.Result
	var hosts []string
	for _, h := range r.Hosts {
		for _, pr := range h.Policies {
			all = append(all, pr.Results...)
			for range pr.Results {
				hosts = append(hosts, h.Target+"/"+pr.ID)
			}
		}
	}
	if len(run.Results) != len(all) {
		t.Fatalf("%d results, want %d", len(run.Results), len(all))
	}
	for i, res := range run.Results {
		want := all[i]
		if res.RuleIndex == nil || *res.RuleIndex < 0 || *res.RuleIndex >= len(run.Tool.Driver.Rules) {
			t.Fatalf("result %d: ruleIndex %v out of range", i, res.RuleIndex)
		}
		if rid := run.Tool.Driver.Rules[*res.RuleIndex].ID; rid != res.RuleID || rid != "PLUMB-"+strconv.Itoa(want.CID) {
			t.Errorf("result %d: ruleId %s, rules[%d].id %s, cid %d", i, res.RuleID, *res.RuleIndex, rid, want.CID)
		}
		if res.Message == nil || res.Message.Text == "" {
			t.Errorf("result %d: no message text", i)
		}
		if res.Kind != "fail" && res.Level != "none" {
			t.Errorf("result %d: kind %s with level %s (SARIF requires none)", i, res.Kind, res.Level)
		}
		wantKind := map[result.Status]string{result.Pass: "pass", result.Fail: "fail", result.Error: "open", result.NA: "notApplicable", result.NotChecked: "review"}[want.Status]
		if res.Kind != wantKind {
			t.Errorf("result %d (%s): kind %s, want %s", i, want.Status, res.Kind, wantKind)
		}
		if want.Status == result.Fail {
			lv := map[policy.Criticality]string{policy.Urgent: "error", policy.Critical: "error", policy.Serious: "warning", policy.Medium: "warning", policy.Minimal: "note"}[want.Criticality]
			if res.Level != lv {
				t.Errorf("result %d: level %s, want %s", i, res.Level, lv)
			}
		}
		if res.Properties["plumbStatus"] != string(want.Status) {
			t.Errorf("result %d: plumbStatus %v", i, res.Properties["plumbStatus"])
		}
		if want.Status == result.Error && res.Properties["reason"] != want.Reason {
			t.Errorf("result %d: reason %v", i, res.Properties["reason"])
		}
		if len(res.Locations) != 1 || len(res.Locations[0].LogicalLocations) != 1 || res.Locations[0].LogicalLocations[0].FullyQualifiedName != hosts[i] {
			t.Errorf("result %d: locations %+v", i, res.Locations)
		}
	}
	inv := run.Invocations
	if len(inv) != 1 || inv[0].ExecutionSuccessful == nil || *inv[0].ExecutionSuccessful || len(inv[0].Notifications) != 1 ||
		inv[0].Notifications[0].Level != "error" || !strings.Contains(inv[0].Notifications[0].Message.Text, "auth_failed") {
		t.Errorf("invocations %+v", inv)
	}
}

func TestCSV(t *testing.T) {
	r := sample()
	out := render(t, "csv", r, Options{})
	recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range r.Hosts {
		for _, pr := range h.Policies {
			n += len(pr.Results)
		}
		if h.Error != "" && len(h.Policies) == 0 {
			n++ // the host's own row
		}
	}
	if len(recs) != n+1 {
		t.Fatalf("%d records, want header + %d", len(recs), n)
	}
	if !reflect.DeepEqual(recs[0], csvHeader) {
		t.Errorf("header %v", recs[0])
	}
	cells := map[string]bool{}
	for _, rec := range recs[1:] {
		if len(rec) != len(csvHeader) {
			t.Errorf("record has %d fields", len(rec))
		}
		for _, c := range rec {
			cells[c] = true
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("cell %q can start a formula", c)
			}
			for _, r := range c {
				if dangerous(r) {
					t.Errorf("cell %q contains %U", c, r)
				}
			}
		}
	}
	// The formula evidence is defused but kept readable; the comma, quote
	// and newline one survives the CSV quoting, the newline escaped.
	want := "'" + formula + ` | user \u202eevil\u202c name | -1 | @SUM(A1:A9)`
	if !cells[want] {
		t.Errorf("no cell %q", want)
	}
	if !cells[`PermitRootLogin yes \x1b[31mred\x1b[0m \x1b]0;pwned\x07 \u009b2J\rhidden | Banner "/etc/issue", next\nline`] {
		t.Error("hostile evidence cell not found escaped")
	}
	last := recs[len(recs)-1]
	if last[0] != "ssh:db1.example.com" || last[8] != "error" || last[11] != result.ReasonAuthFailed {
		t.Errorf("unreachable host row %v", last)
	}
	if got := csvCell("-1"); got != "'-1" {
		t.Errorf("csvCell(-1) = %q", got)
	}
	if got := csvCell("\tx"); got != `'\tx` {
		t.Errorf("csvCell(tab) = %q", got)
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestTableHostileEvidence(t *testing.T) {
	plain := render(t, "table", sample(), Options{Width: 400})
	colour := render(t, "table", sample(), Options{Width: 400, Color: true})
	for name, out := range map[string][]byte{"plain": plain, "colour (own SGR removed)": sgr.ReplaceAll(colour, nil)} {
		for _, r := range string(out) {
			if r != '\n' && dangerous(r) {
				t.Errorf("%s table contains %U", name, r)
			}
		}
		if !utf8.Valid(out) {
			t.Errorf("%s table is not UTF-8", name)
		}
	}
	if !bytes.Contains(colour, []byte(ansiRed+"Fail"+ansiReset)) {
		t.Error("colour table does not colour Fail")
	}
	if !bytes.Equal(sgr.ReplaceAll(colour, nil), plain) {
		t.Error("colour table differs from plain table beyond SGR sequences")
	}
	if !bytes.Contains(plain, []byte(`\x1b[31mred`)) {
		t.Error("escape sequence not shown escaped")
	}
	if !bytes.Contains(plain, []byte("permission_denied: open /etc/shadow: permission denied")) {
		t.Error("Error row does not show reason and message")
	}
	if !bytes.Contains(plain, []byte("HOST ERROR (auth_failed)")) {
		t.Error("host error not shown")
	}
}

func TestTableWidth(t *testing.T) {
	for _, width := range []int{60, 80, 100, 120, 200} {
		out := render(t, "table", sample(), Options{Width: width})
		row := regexp.MustCompile(`^  +\d+  `)
		for _, line := range strings.Split(string(out), "\n") {
			if !row.MatchString(line) {
				continue
			}
			if w := textWidth(line); w > max(width, 2+4+11+11+3*minFlexCol+5*len(colGap)) {
				t.Errorf("width %d: row is %d cells: %q", width, w, line)
			}
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain ascii":             "plain ascii",
		"a\x1b[2Jb":               `a\x1b[2Jb`,
		"cr\rlf\ntab\t":           `cr\rlf\ntab\t`,
		"c1 \u009b x":             `c1 \u009b x`,
		"del\x7f":                 `del\x7f`,
		"bidi \u202e \u2066":      `bidi \u202e \u2066`,
		"zw\u200bsp":              `zw\u200bsp`,
		"tag \U000e0041":          `tag \U000e0041`,
		"bad \xff utf8":           `bad \xff utf8`,
		"ünïcødé 中文 ✓":            "ünïcødé 中文 ✓",
		"ls\u2028ps\u2029":        `ls\u2028ps\u2029`,
		"keep \\x1b as typed \\n": "keep \\x1b as typed \\n",
	} {
		if got := escapeLine(in); got != want {
			t.Errorf("escapeLine(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeText("a\nb\tc\rd"); got != "a\nb\tc\\rd" {
		t.Errorf("escapeText = %q", got)
	}
	if got := string(jsonSafe([]byte(`{"a":"x` + "\u009b\u202e\U000e0041" + `é"}`))); got != `{"a":"x\u009b\u202e\udb40\udc41é"}` {
		t.Errorf("jsonSafe = %s", got)
	}
}

func TestTruncateAndWidth(t *testing.T) {
	if w := textWidth("中文ab"); w != 6 {
		t.Errorf("textWidth = %d", w)
	}
	if w := textWidth("e\u0301"); w != 1 {
		t.Errorf("textWidth(combining) = %d", w)
	}
	for _, tc := range []struct {
		in   string
		w    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 8, "hello w…"},
		{"中文中文", 5, "中文…"},
		{"abc", 1, "…"},
		{"abc", 0, ""},
	} {
		if got := truncate(tc.in, tc.w); got != tc.want || textWidth(got) > tc.w {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.w, got, tc.want)
		}
	}
}

func TestFit(t *testing.T) {
	for _, tc := range []struct {
		natural, weight []int
		avail           int
		want            []int
	}{
		{[]int{10, 20, 30}, []int{1, 1, 1}, 100, []int{10, 20, 30}},
		{[]int{10, 50, 50}, []int{1, 1, 1}, 70, []int{10, 30, 30}},
		{[]int{10, 50, 50}, []int{1, 1, 1}, 71, []int{10, 30, 31}},
		{[]int{40, 40, 40}, []int{1, 1, 1}, 10, []int{8, 8, 8}},
		{[]int{5, 40, 40}, []int{1, 1, 1}, 10, []int{5, 8, 8}},
		{[]int{50, 50, 50}, []int{3, 2, 4}, 90, []int{30, 20, 40}},
		{[]int{50, 10, 50}, []int{3, 2, 4}, 88, []int{33, 10, 45}},
		{[]int{50, 50, 50}, []int{3, 2, 4}, -5, []int{8, 8, 8}},
	} {
		got := fit(tc.natural, tc.weight, tc.avail, 8)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("fit(%v, %v, %d) = %v, want %v", tc.natural, tc.weight, tc.avail, got, tc.want)
		}
	}
}

// FuzzEscapeLine: whatever a host returns, the escaped text is one line of
// valid UTF-8 with nothing a terminal acts on, and a table row built from
// it fits the table's rules.
func FuzzEscapeLine(f *testing.F) {
	for _, s := range []string{hostileEscape, hostileCSV, hostileBidi, formula, "\xff\xfe", "a\u0085b", "\U000e0041"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := escapeLine(s)
		if !utf8.ValidString(out) {
			t.Fatalf("escapeLine(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if dangerous(r) {
				t.Fatalf("escapeLine(%q) = %q contains %U", s, out, r)
			}
		}
		r := &result.Report{Hosts: []result.Host{{Target: s, Error: s, Reason: s, Policies: []result.PolicyRun{{
			ID: s, Title: s, Version: s,
			Results: []result.Result{{CID: 1, Title: s, Expected: s, Actual: []string{s, s}, Status: result.Error, Reason: s, Message: s}},
		}}}}}
		for _, format := range []string{"table", "csv"} {
			var buf bytes.Buffer
			if err := Write(&buf, format, r, Options{Width: 80}); err != nil {
				t.Fatal(err)
			}
			for _, c := range buf.String() {
				if c != '\n' && dangerous(c) {
					t.Fatalf("%s output for %q contains %U", format, s, c)
				}
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, "junit", r, Options{}); err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(buf.Bytes(), new(junitDoc)); err != nil {
			t.Fatalf("junit for %q does not parse: %v", s, err)
		}
	})
}
