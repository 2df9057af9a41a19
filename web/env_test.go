package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/server"
	"github.com/plumbhq/plumb/store"
	"github.com/plumbhq/plumb/target"
)

// clock is the store's (and so the server's and the dashboard's) time: the
// real time shifted by an offset, so the story can take snapshots on
// three past days and end now.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time           { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) set(off time.Duration)    { c.mu.Lock(); c.off = off; c.mu.Unlock() }
func (c *clock) advance(d time.Duration)  { c.mu.Lock(); c.off += d; c.mu.Unlock() }
func (c *clock) offset() time.Duration    { c.mu.Lock(); defer c.mu.Unlock(); return c.off }
func (c *clock) String() string           { return c.offset().String() }
func (c *clock) days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// Hostile strings: scan data and names that would run script, break out
// of attributes or read as spreadsheet formulas if they were not escaped.
const (
	hostileName     = `<script>alert("asset")</script>`
	hostileTag      = `"><img src=x onerror=alert(5)>`
	hostileTitle    = `<script>alert("title")</script> SSH check`
	hostileExpected = `"><svg onload=alert(2)>`
	hostileActual   = `</pre><script>alert(3)</script>`
	hostileFormula  = `=HYPERLINK("http://evil.example","click")`
	hostileTech     = `deb<i>ian</i>`
	hostileCID      = 990001
)

// env is a real server over a fresh SQLite store, with one token per role
// and a story's data: a group web of four Debian 12 fixture hosts scanned
// on three days (remediation in between), an approved exception that
// expires within 14 days and a pending one, a host whose results carry
// hostile strings, a scan still running, and daily score snapshots.
type env struct {
	t      testing.TB
	dir    string
	st     *store.Store
	srv    *server.Server
	http   *httptest.Server
	lib    *policy.Library
	clk    *clock
	logs   *syncBuffer
	tokens map[string]string // role -> secret

	group    store.Group
	assets   []store.Asset // web1..web4
	hostile  store.Asset
	approved store.Exception // group-scoped, expiring in 10 days
	pending  store.Exception
	running  store.Scan
	trees    map[int64]string
}

// syncBuffer collects the server's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

// newServer starts a server over a fresh store with a token per role.
func newServer(t testing.TB, secure bool) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "plumb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := library.Load()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := secret.ParseKey(secret.NewKey())
	box, _ := secret.New(key)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := server.New(server.Config{Store: st, Library: lib, Box: box, Lease: time.Minute, Logger: log, SecureCookies: secure})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, st: st, srv: srv, lib: lib, logs: logs, clk: &clock{}, tokens: map[string]string{}, trees: map[int64]string{}}
	st.Now = e.clk.now
	admin, err := srv.Bootstrap(ctx)
	if err != nil || admin == "" {
		t.Fatalf("Bootstrap = %q, %v", admin, err)
	}
	e.tokens[api.RoleAdmin] = admin
	for _, role := range api.Roles[1:] {
		tok, err := srv.CreateToken(ctx, role+"-token", role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = tok
	}
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)
	return e
}

// newEnv builds the story's data through the API, as scanner workers and
// users would.
func newEnv(t testing.TB) *env {
	t.Helper()
	e := newServer(t, false)
	hardened := writeFixture(t, fixture.Debian12Hardened())
	misconfigured := writeFixture(t, fixture.Debian12Misconfigured())

	e.clk.set(-e.clk.days(3))
	e.must("admin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"plumb-linux-l1"}}, 200, nil)
	e.must("operator", "POST", "/v1/groups", api.GroupInput{Name: "web", Description: "web tier", MatchTags: []string{"web"},
		Policies: []string{"plumb-linux-l1"}}, 201, &e.group)
	for i := range 4 {
		var a store.Asset
		e.must("operator", "POST", "/v1/assets", api.AssetInput{Name: fmt.Sprintf("web%d", i+1),
			Addresses: []string{fmt.Sprintf("10.9.0.%d", i+1)}, Tags: []string{"web"}}, 201, &a)
		e.assets = append(e.assets, a)
		e.trees[a.ID] = hardened
		if i >= 2 {
			e.trees[a.ID] = misconfigured
		}
	}
	// Day 1: two hardened hosts, two misconfigured.
	e.scanGroup(e.group.ID)
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)

	// Day 2: web4 remediated.
	e.clk.advance(e.clk.days(1))
	e.trees[e.assets[3].ID] = hardened
	e.scanGroup(e.group.ID)
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)

	// Day 3: an exception for one failing control of web3, group-wide,
	// expiring in 10 days; another requested and not yet decided.
	e.clk.advance(e.clk.days(1))
	var fails api.List[store.Result]
	e.must("auditor", "GET", fmt.Sprintf("/v1/posture?status=fail&asset=%d&limit=1000", e.assets[2].ID), nil, 200, &fails)
	if len(fails.Items) < 2 {
		t.Fatalf("web3 fails %d controls, want several", len(fails.Items))
	}
	req := api.ExceptionInput{Type: store.RiskAcceptance, Policy: "plumb-linux-l1", CID: fails.Items[0].CID, Group: e.group.ID,
		Owner: "web team <ops@example.com>", Justification: "Legacy load balancer health checks need this until the Q2 migration.",
		Expires: e.clk.now().Add(e.clk.days(10) + e.clk.days(1))}
	e.must("operator", "POST", "/v1/exceptions", req, 201, &e.approved)
	e.must("approver", "POST", fmt.Sprintf("/v1/exceptions/%d/approve", e.approved.ID), "{}", 200, &e.approved)
	req2 := api.ExceptionInput{Type: store.MitigatingControl, Policy: "plumb-linux-l1", CID: fails.Items[1].CID, Assets: []int64{e.assets[2].ID},
		Owner: "platform", Justification: "A host firewall blocks the service from every other network.", Expires: e.clk.now().Add(e.clk.days(90))}
	e.must("operator", "POST", "/v1/exceptions", req2, 201, &e.pending)
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)

	// Today: a host whose results carry hostile strings, a scan in
	// progress (one host of four done, one running), and a snapshot.
	e.clk.set(0)
	var err error
	e.hostile, err = e.st.CreateAsset(context.Background(), store.Asset{Name: hostileName, Addresses: []string{"10.9.9.9"},
		Tags: []string{"lab", hostileTag}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.scanHostile()
	e.must("operator", "POST", "/v1/scans", api.ScanInput{Name: "nightly <web>", Groups: []int64{e.group.ID}}, 201, &e.running)
	e.runJob(e.claim())
	e.claim()
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)
	return e
}

func writeFixture(t testing.TB, tree fixture.Tree) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the fixture roots need root to set file owners")
		}
		t.Skip("the fixture roots need root to set file owners")
	}
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// scanGroup launches a scan of group and runs its jobs.
func (e *env) scanGroup(group int64) store.Scan {
	e.t.Helper()
	var sc store.Scan
	e.must("operator", "POST", "/v1/scans", api.ScanInput{Groups: []int64{group}}, 201, &sc)
	for range sc.Jobs {
		e.runJob(e.claim())
	}
	return sc
}

func (e *env) claim() api.Claim {
	e.t.Helper()
	var c api.Claim
	e.must("scanner", "POST", "/v1/jobs/claim", api.ClaimRequest{Worker: "web-test"}, 200, &c)
	return c
}

// runJob scans the claimed asset's fixture tree as an unpacked root with
// the real engine and posts the results.
func (e *env) runJob(c api.Claim) {
	e.t.Helper()
	var runs []engine.Run
	for _, d := range c.Policies {
		var p policy.Policy
		if err := json.Unmarshal(d.Document, &p); err != nil {
			e.t.Fatal(err)
		}
		rules, err := p.Rules(e.lib)
		if err != nil {
			e.t.Fatal(err)
		}
		runs = append(runs, engine.Run{Policy: &p, Rules: rules})
	}
	tg, err := target.NewRoot(e.trees[c.Asset.ID])
	if err != nil {
		e.t.Fatal(err)
	}
	host, err := (&engine.Engine{Now: e.clk.now}).Scan(context.Background(), tg, runs)
	tg.Close()
	if err != nil || host.Error != "" {
		e.t.Fatalf("scan of %s: %v %s", c.Asset.Name, err, host.Error)
	}
	comp := api.Completion{Attempt: c.Job.Attempt, Technology: host.Facts.Technology}
	for _, run := range host.Policies {
		for _, r := range run.Results {
			comp.Results = append(comp.Results, store.Result{Policy: run.ID, PolicyVersion: c.Policies[0].Version, Result: r})
		}
	}
	e.must("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", c.Job.ID), comp, 204, nil)
}

// scanHostile scans the hostile host: a worker posts results whose every
// string field is hostile.
func (e *env) scanHostile() {
	e.t.Helper()
	var sc store.Scan
	e.must("operator", "POST", "/v1/scans", api.ScanInput{Assets: []int64{e.hostile.ID}, Policies: []string{"plumb-linux-l1"}}, 201, &sc)
	c := e.claim()
	now := e.clk.now()
	v := c.Policies[0].Version
	comp := api.Completion{Attempt: c.Job.Attempt, Technology: hostileTech, Results: []store.Result{
		{Policy: "plumb-linux-l1", PolicyVersion: v, Result: result.Result{CID: hostileCID, Title: hostileTitle, Category: "<b>ssh</b>",
			Criticality: policy.Urgent, Status: result.Fail, Expected: hostileExpected, Actual: []string{hostileActual, hostileFormula, "javascript:alert(4)"},
			Method: "scanner", Time: now, References: map[string][]string{"cis<x>": {"<b>5.2.1</b>"}}, Remediation: "<script>alert(6)</script>\nrm -rf /"}},
		{Policy: "plumb-linux-l1", PolicyVersion: v, Result: result.Result{CID: hostileCID + 1, Title: "Error " + hostileTitle,
			Criticality: policy.Serious, Status: result.Error, Expected: hostileFormula, Reason: "<i>permission_denied</i>", Message: hostileActual,
			Method: "scanner", Time: now}},
		{Policy: "plumb-linux-l1", PolicyVersion: v, Result: result.Result{CID: hostileCID + 2, Title: "Pass", Criticality: policy.Minimal,
			Status: result.Pass, Expected: "yes", Actual: []string{"yes"}, Method: "scanner", Time: now}},
	}}
	e.must("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", c.Job.ID), comp, 204, nil)
}

// do sends body (a string as it is, anything else as JSON) to the API and
// returns the status and the answer.
func (e *env) do(role, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.http.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// must sends a request that has to answer want, and decodes the answer
// into out.
func (e *env) must(role, method, path string, body any, want int, out any) {
	e.t.Helper()
	status, data := e.do(role, method, path, body)
	if status != want {
		e.t.Fatalf("%s %s as %s = %d, want %d: %s", method, path, role, status, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
}

// uiClient is a dashboard user: a cookie jar, and redirects not followed
// so that the tests see them.
type uiClient struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) client() *uiClient {
	jar, _ := cookiejar.New(nil)
	return &uiClient{e: e, jar: jar, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// answer is an answer of the dashboard.
type answer struct {
	status int
	header http.Header
	body   string
}

func (c *uiClient) send(req *http.Request) answer {
	c.e.t.Helper()
	resp, err := c.c.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

func (c *uiClient) get(path string) answer {
	c.e.t.Helper()
	req, err := http.NewRequest("GET", c.e.http.URL+path, nil)
	if err != nil {
		c.e.t.Fatal(err)
	}
	return c.send(req)
}

// post sends a form; headers are extra request headers.
func (c *uiClient) post(path string, form url.Values, headers ...string) answer {
	c.e.t.Helper()
	req, err := http.NewRequest("POST", c.e.http.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.send(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the CSRF value of a page's form.
func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", body)
	}
	return m[1]
}

// login signs in with a token through the login form and returns the
// answer to the form's POST.
func (c *uiClient) login(secret, next string) answer {
	c.e.t.Helper()
	p := c.get("/ui/login")
	if p.status != 200 {
		c.e.t.Fatalf("GET /ui/login = %d", p.status)
	}
	return c.post("/ui/login", url.Values{"csrf": {csrfOf(c.e.t, p.body)}, "token": {secret}, "next": {next}})
}

// loggedIn is a client signed in as role.
func (e *env) loggedIn(role string) *uiClient {
	e.t.Helper()
	c := e.client()
	if p := c.login(e.tokens[role], ""); p.status != http.StatusSeeOther {
		e.t.Fatalf("login as %s = %d:\n%s", role, p.status, p.body)
	}
	return c
}

// sessionCookie is the client's session cookie for the dashboard.
func (c *uiClient) sessionCookie() *http.Cookie {
	u, _ := url.Parse(c.e.http.URL + "/ui/")
	for _, k := range c.jar.Cookies(u) {
		if k.Name == "plumb_session" {
			return k
		}
	}
	return nil
}
