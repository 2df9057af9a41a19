package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/store"
)

// env is a real server over a fresh SQLite store, with one token per role.
type env struct {
	t      testing.TB
	dir    string // holds the SQLite database plumb.db
	srv    *Server
	st     *store.Store
	http   *httptest.Server
	tokens map[string]string // role -> secret
}

func newEnv(t testing.TB) *env {
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
	srv, err := New(Config{Store: st, Library: lib, Box: box, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, srv: srv, st: st, tokens: map[string]string{}}
	admin, err := srv.Bootstrap(ctx)
	if err != nil || admin == "" {
		t.Fatalf("Bootstrap = %q, %v", admin, err)
	}
	if again, err := srv.Bootstrap(ctx); err != nil || again != "" {
		t.Fatalf("second Bootstrap = %q, %v; want no new token", again, err)
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

// do sends body (a string is sent as it is, anything else as JSON) and
// returns the status and the raw answer.
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
	if tok, ok := e.tokens[role]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if role != "" {
		req.Header.Set("Authorization", "Bearer "+role)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// must sends a request that has to succeed with want and decodes the
// answer into out.
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

func problemOf(t *testing.T, data []byte) api.Problem {
	t.Helper()
	var p api.Problem
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("not a problem document: %v: %s", err, data)
	}
	return p
}

// TestAuthorizationMatrix checks every role against every route. The
// table is written out, not derived from rolePerms, so a change of the
// permissions has to change this test too.
func TestAuthorizationMatrix(t *testing.T) {
	const (
		readers = "admin operator approver auditor"
		writers = "admin operator"
		admin   = "admin"
		audit   = "admin auditor"
		workers = "admin scanner"
		anyone  = "admin operator approver auditor scanner"
		// Exceptions: anyone who manages hosts may ask; only approvers
		// decide (and never on their own request).
		requesters = "admin operator approver"
		approvers  = "approver"
	)
	allowedRoles := map[string]string{
		"GET /v1/whoami":                   anyone,
		"GET /v1/assets":                   readers,
		"POST /v1/assets":                  writers,
		"GET /v1/assets/{id}":              readers,
		"PUT /v1/assets/{id}":              writers,
		"DELETE /v1/assets/{id}":           writers,
		"GET /v1/groups":                   readers,
		"POST /v1/groups":                  writers,
		"GET /v1/groups/{id}":              readers,
		"PUT /v1/groups/{id}":              writers,
		"DELETE /v1/groups/{id}":           writers,
		"GET /v1/groups/{id}/assets":       readers,
		"GET /v1/policies":                 readers,
		"POST /v1/policies":                writers,
		"POST /v1/policies/import":         writers,
		"POST /v1/policies/scap":           writers,
		"GET /v1/policies/{pid}":           readers,
		"GET /v1/policies/{pid}/versions":  readers,
		"GET /v1/credentials":              readers,
		"POST /v1/credentials":             writers,
		"GET /v1/credentials/{id}":         readers,
		"DELETE /v1/credentials/{id}":      writers,
		"GET /v1/scans":                    readers,
		"POST /v1/scans":                   writers,
		"GET /v1/scans/{id}":               readers,
		"POST /v1/scans/{id}/cancel":       writers,
		"GET /v1/scans/{id}/jobs":          readers,
		"GET /v1/schedules":                readers,
		"POST /v1/schedules":               writers,
		"DELETE /v1/schedules/{id}":        writers,
		"GET /v1/results":                  readers,
		"GET /v1/posture":                  readers,
		"GET /v1/posture/summary":          readers,
		"GET /v1/scores":                   readers,
		"GET /v1/trend":                    readers,
		"GET /v1/changes":                  readers,
		"POST /v1/snapshots":               writers,
		"GET /v1/exceptions":               readers,
		"POST /v1/exceptions":              requesters,
		"GET /v1/exceptions/expiring":      readers,
		"GET /v1/exceptions/verify":        audit,
		"GET /v1/exceptions/{id}":          readers,
		"GET /v1/exceptions/{id}/history":  readers,
		"POST /v1/exceptions/{id}/approve": approvers,
		"POST /v1/exceptions/{id}/reject":  approvers,
		"POST /v1/exceptions/{id}/revoke":  approvers,
		"POST /v1/exceptions/{id}/renew":   requesters,
		"GET /v1/reports/policy":           readers,
		"GET /v1/reports/trend":            readers,
		"GET /v1/reports/certificate":      readers,
		"GET /v1/tokens":                   admin,
		"POST /v1/tokens":                  admin,
		"DELETE /v1/tokens/{id}":           admin,
		"GET /v1/audit":                    audit,
		"POST /v1/jobs/claim":              workers,
		"POST /v1/jobs/{id}/heartbeat":     workers,
		"POST /v1/jobs/{id}/complete":      workers,
	}
	e := newEnv(t)
	routes := e.srv.Routes()
	for _, rt := range routes {
		if _, ok := allowedRoles[rt]; !ok {
			t.Errorf("route %s is missing from the matrix", rt)
		}
	}
	for rt := range allowedRoles {
		if !slices.Contains(routes, rt) {
			t.Errorf("matrix names %s, which is not a route", rt)
		}
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt, " ")
		path = strings.NewReplacer("{id}", "999999", "{pid}", "no-such-policy").Replace(path)
		var body any
		if method == "POST" || method == "PUT" {
			body = "{}"
		}
		for _, role := range append(slices.Clone(api.Roles), "", "plumb_forged") {
			t.Run(rt+"/"+role, func(t *testing.T) {
				status, data := e.do(role, method, path, body)
				switch {
				case role == "" || role == "plumb_forged":
					if status != http.StatusUnauthorized {
						t.Errorf("status %d, want 401: %s", status, data)
					}
				case strings.Contains(" "+allowedRoles[rt]+" ", " "+role+" "):
					if status == http.StatusUnauthorized || status == http.StatusForbidden || status >= 500 {
						t.Errorf("status %d, want allowed: %s", status, data)
					}
				default:
					if status != http.StatusForbidden {
						t.Errorf("status %d, want 403: %s", status, data)
					}
				}
			})
		}
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.must("admin", "POST", "/v1/assets", api.AssetInput{Name: "web1", Addresses: []string{"10.0.0.1"}}, 201, nil)
	cid := e.srv.lib.Controls()[0].CID
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field, detail      string
	}{
		{"malformed JSON", "POST", "/v1/assets", `{"name": "x",`, 400, "", "malformed JSON"},
		{"not JSON at all", "POST", "/v1/assets", `name=x`, 400, "", "malformed JSON"},
		{"empty body", "POST", "/v1/assets", ``, 400, "", "empty"},
		{"two values", "POST", "/v1/assets", `{"name":"a","addresses":["10.0.0.9"]} {}`, 400, "", "exactly one"},
		{"wrong type", "POST", "/v1/assets", `{"name": 5}`, 400, "name", "a string"},
		{"wrong element type", "POST", "/v1/assets", `{"name": "x", "addresses": [1]}`, 400, "addresses", "a string"},
		{"unknown field", "POST", "/v1/assets", `{"name": "x", "adresses": ["10.0.0.2"]}`, 400, "adresses", "unknown field"},
		{"invalid IP", "POST", "/v1/assets", api.AssetInput{Name: "x", Addresses: []string{"10.0.0.2", "10.0.0.300"}}, 400, "addresses[1]", "not an IP address"},
		{"invalid hostname", "POST", "/v1/assets", api.AssetInput{Name: "x", Hostnames: []string{"bad host"}}, 400, "hostnames[0]", "not a valid hostname"},
		{"no address", "POST", "/v1/assets", api.AssetInput{Name: "x"}, 400, "addresses", "at least one"},
		{"bad name", "POST", "/v1/assets", api.AssetInput{Name: "-x", Addresses: []string{"10.0.0.3"}}, 400, "name", "not a valid name"},
		{"bad port", "POST", "/v1/assets", api.AssetInput{Name: "x", Addresses: []string{"10.0.0.3"}, Port: 70000}, 400, "port", "not a TCP port"},
		{"duplicate name", "POST", "/v1/assets", api.AssetInput{Name: "web1", Addresses: []string{"10.0.0.4"}}, 409, "name", "already taken"},
		{"duplicate address", "POST", "/v1/assets", api.AssetInput{Name: "web2", Addresses: []string{"10.0.0.1"}}, 409, "addresses", "already taken"},
		{"unknown credential", "POST", "/v1/assets", api.AssetInput{Name: "x", Addresses: []string{"10.0.0.5"}, CredentialID: 42}, 400, "credential_id", "no credential 42"},
		{"oversized body", "POST", "/v1/assets", `{"name": "` + strings.Repeat("a", 2<<20) + `"}`, 413, "", "larger than"},
		{"wrong media type", "POST", "/v1/assets", nil, 415, "", ""},
		{"bad id", "GET", "/v1/assets/abc", nil, 400, "id", "not an id"},
		{"missing asset", "GET", "/v1/assets/12345", nil, 404, "", ""},
		{"bad limit", "GET", "/v1/assets?limit=5000", nil, 400, "limit", "at most 1000"},
		{"negative after", "GET", "/v1/assets?after=-1", nil, 400, "after", ""},
		{"bad status filter", "GET", "/v1/posture?status=broken", nil, 400, "status", ""},
		{"bad criticality", "GET", "/v1/posture?criticality=huge", nil, 400, "criticality", ""},
		{"unknown CID in policy", "POST", "/v1/policies", map[string]any{"id": "mine", "version": "1", "title": "Mine", "controls": []map[string]any{{"cid": cid}, {"cid": 99999999}}}, 400, "controls[1].cid", "no control with CID 99999999"},
		{"policy overriding a builtin", "POST", "/v1/policies", map[string]any{"id": "plumb-linux-l1", "version": "1", "title": "x", "controls": []map[string]any{{"cid": cid}}}, 409, "id", "built-in"},
		{"unknown builtin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"nope"}}, 400, "ids[0]", "no built-in policy"},
		{"credential without secret", "POST", "/v1/credentials", api.CredentialInput{Name: "c", User: "root"}, 400, "private_key", ""},
		{"credential with both", "POST", "/v1/credentials", api.CredentialInput{Name: "c", User: "root", Password: "p", PrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----"}, 400, "password", "not both"},
		{"scan with unknown asset", "POST", "/v1/scans", api.ScanInput{Policies: []string{"x"}, Assets: []int64{777}}, 400, "assets[0]", "no asset 777"},
		{"scan without policy", "POST", "/v1/scans", api.ScanInput{Assets: []int64{1}}, 400, "policies", "no policy"},
		{"scan with policy not imported", "POST", "/v1/scans", api.ScanInput{Assets: []int64{1}, Policies: []string{"plumb-linux-l1"}}, 400, "policies[0]", "no policy"},
		{"schedule too often", "POST", "/v1/schedules", api.ScheduleInput{ScanInput: api.ScanInput{Name: "s", Assets: []int64{1}}, Every: "10s"}, 400, "every", "at least 1m"},
		{"bad role", "POST", "/v1/tokens", api.TokenInput{Name: "t", Role: "root"}, 400, "role", "not a role"},
		{"no route", "GET", "/v1/nothing", nil, 404, "", "no route"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var status int
			var data []byte
			if c.name == "wrong media type" {
				req, _ := http.NewRequest("POST", e.http.URL+c.path, strings.NewReader("name=x"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				status = resp.StatusCode
			} else {
				status, data = e.do("admin", c.method, c.path, c.body)
			}
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, data)
			}
			p := problemOf(t, data)
			if p.Field != c.field || !strings.Contains(p.Detail, c.detail) || p.Status != c.status || !strings.HasPrefix(p.Type, "urn:plumb:problem:") {
				t.Errorf("problem = %+v, want field %q and detail containing %q", p, c.field, c.detail)
			}
		})
	}
	// Nothing half-written: the failed creations left one asset only.
	var l api.List[store.Asset]
	e.must("admin", "GET", "/v1/assets", nil, 200, &l)
	if len(l.Items) != 1 {
		t.Errorf("%d assets after the bad requests, want 1", len(l.Items))
	}
}

func TestAssets(t *testing.T) {
	e := newEnv(t)
	var a1, a2, a3 store.Asset
	e.must("operator", "POST", "/v1/assets", api.AssetInput{Name: "web1", Addresses: []string{"10.0.0.1"}, Tags: []string{"Prod", "web"}}, 201, &a1)
	e.must("operator", "POST", "/v1/assets", api.AssetInput{Name: "web2", Addresses: []string{"10.0.0.1"}, Partition: "dmz", Tags: []string{"PROD"}}, 201, &a2)
	e.must("operator", "POST", "/v1/assets", api.AssetInput{Name: "db1", Hostnames: []string{"db1.example.com"}, Tags: []string{"prod", "db"}}, 201, &a3)
	if !slices.Equal(a2.Tags, []string{"Prod"}) || !slices.Contains(a3.Tags, "Prod") {
		t.Errorf("tags %v and %v: want the first spelling Prod", a2.Tags, a3.Tags)
	}
	if a1.Port != 22 || a1.Partition != "default" || a1.Source != "scanner" {
		t.Errorf("defaults: %+v", a1)
	}
	var l api.List[store.Asset]
	e.must("auditor", "GET", "/v1/assets?tag=pRoD", nil, 200, &l)
	if len(l.Items) != 3 {
		t.Errorf("tag filter: %d assets, want 3", len(l.Items))
	}
	e.must("auditor", "GET", "/v1/assets?limit=2", nil, 200, &l)
	if len(l.Items) != 2 || l.NextAfter != l.Items[1].ID {
		t.Fatalf("page 1: %d items, next %d", len(l.Items), l.NextAfter)
	}
	after := l.NextAfter
	l = api.List[store.Asset]{}
	e.must("auditor", "GET", fmt.Sprintf("/v1/assets?limit=2&after=%d", after), nil, 200, &l)
	if len(l.Items) != 1 || l.NextAfter != 0 || l.Items[0].ID != a3.ID {
		t.Fatalf("page 2: %+v", l)
	}
	var g store.Group
	e.must("operator", "POST", "/v1/groups", api.GroupInput{Name: "databases", MatchTags: []string{"DB"}, Members: []int64{a1.ID}}, 201, &g)
	e.must("auditor", "GET", fmt.Sprintf("/v1/groups/%d/assets", g.ID), nil, 200, &l)
	if len(l.Items) != 2 {
		t.Errorf("group members: %+v, want web1 (static) and db1 (tag)", l.Items)
	}
	e.must("operator", "PUT", fmt.Sprintf("/v1/assets/%d", a1.ID), api.AssetInput{Name: "web1", Addresses: []string{"10.0.0.11"}}, 200, &a1)
	if a1.Addresses[0] != "10.0.0.11" || len(a1.Tags) != 0 {
		t.Errorf("update: %+v", a1)
	}
	e.must("operator", "DELETE", fmt.Sprintf("/v1/assets/%d", a2.ID), nil, 204, nil)
	e.must("operator", "GET", fmt.Sprintf("/v1/assets/%d", a2.ID), nil, 404, nil)
	var audit api.List[store.AuditEntry]
	e.must("auditor", "GET", "/v1/audit", nil, 200, &audit)
	var actions []string
	for _, a := range audit.Items {
		if a.Actor == "token:operator-token" {
			actions = append(actions, a.Action)
		}
	}
	want := []string{"asset.create", "asset.create", "asset.create", "group.create", "asset.update", "asset.delete"}
	if !slices.Equal(actions, want) {
		t.Errorf("audit actions %v, want %v", actions, want)
	}
}

func TestCredentialSecretsNeverLeave(t *testing.T) {
	e := newEnv(t)
	const pw = "s3cr3t-Hunter2-xyzzy"
	var c store.Credential
	e.must("admin", "POST", "/v1/credentials", api.CredentialInput{Name: "root-pw", User: "root", Password: pw, Sudo: true, SudoPassword: pw + "sudo"}, 201, &c)
	for _, path := range []string{"/v1/credentials", fmt.Sprintf("/v1/credentials/%d", c.ID), "/v1/audit"} {
		_, data := e.do("admin", "GET", path, nil)
		if bytes.Contains(data, []byte(pw)) {
			t.Errorf("GET %s shows the secret: %s", path, data)
		}
	}
	stored, err := e.st.GetCredential(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.Sealed, []byte(pw)) || len(stored.Sealed) == 0 {
		t.Error("the database holds the secret in clear")
	}
}

// TestJobProtocol walks a scan through the worker routes by hand:
// claim, heartbeat, complete, a stale attempt refused, posture updated.
func TestJobProtocol(t *testing.T) {
	e := newEnv(t)
	var a store.Asset
	e.must("admin", "POST", "/v1/credentials", api.CredentialInput{Name: "k", User: "scan", Password: "pw"}, 201, nil)
	e.must("admin", "POST", "/v1/assets", api.AssetInput{Name: "h1", Addresses: []string{"127.0.0.1"}, CredentialID: 1}, 201, &a)
	e.must("admin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"plumb-linux-l1"}}, 200, nil)
	var sc store.Scan
	e.must("operator", "POST", "/v1/scans", api.ScanInput{Policies: []string{"plumb-linux-l1"}, Assets: []int64{a.ID}}, 201, &sc)
	if sc.State != store.Queued || sc.Jobs != 1 {
		t.Fatalf("scan %+v", sc)
	}
	var claim api.Claim
	e.must("scanner", "POST", "/v1/jobs/claim", api.ClaimRequest{Worker: "w1"}, 200, &claim)
	if claim.Credential == nil || claim.Credential.Password != "pw" || len(claim.Policies) != 1 || claim.Policies[0].Version != 1 {
		t.Fatalf("claim %+v", claim)
	}
	if status, _ := e.do("scanner", "POST", "/v1/jobs/claim", api.ClaimRequest{Worker: "w2"}); status != 204 {
		t.Fatalf("second claim: %d, want 204 (no job)", status)
	}
	job := claim.Job
	e.must("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/heartbeat", job.ID), api.Heartbeat{Attempt: job.Attempt}, 204, nil)
	status, data := e.do("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/heartbeat", job.ID), api.Heartbeat{Attempt: job.Attempt + 1})
	if status != 409 {
		t.Fatalf("heartbeat of another attempt: %d %s", status, data)
	}
	res := func(cid int, st result.Status) store.Result {
		return store.Result{Policy: "plumb-linux-l1", PolicyVersion: 1,
			Result: result.Result{CID: cid, Title: "t", Criticality: policy.Serious, Status: st, Expected: "x", Actual: []string{"y"}, Time: time.Now()}}
	}
	bad := api.Completion{Attempt: job.Attempt, Results: []store.Result{res(1, result.Pass), {Policy: "other", PolicyVersion: 1, Result: result.Result{CID: 2, Criticality: policy.Serious, Status: result.Pass}}}}
	status, data = e.do("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", job.ID), bad)
	if status != 400 || problemOf(t, data).Field != "results[1].policy" {
		t.Fatalf("completion with a foreign policy: %d %s", status, data)
	}
	good := api.Completion{Attempt: job.Attempt, Technology: "debian-12", Results: []store.Result{res(1, result.Pass), res(2, result.Fail)}}
	stale := good
	stale.Attempt = job.Attempt + 5
	if status, data := e.do("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", job.ID), stale); status != 409 {
		t.Fatalf("stale completion: %d %s", status, data)
	}
	e.must("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", job.ID), good, 204, nil)
	if status, _ := e.do("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", job.ID), good); status != 409 {
		t.Fatalf("second completion: %d, want 409", status)
	}
	e.must("auditor", "GET", fmt.Sprintf("/v1/scans/%d", sc.ID), nil, 200, &sc)
	if sc.State != store.Finished || sc.Done != 1 {
		t.Errorf("scan after completion: %+v", sc)
	}
	var posture api.List[store.Result]
	e.must("auditor", "GET", "/v1/posture?status=fail", nil, 200, &posture)
	if len(posture.Items) != 1 || posture.Items[0].CID != 2 || posture.Items[0].AssetID != a.ID || posture.Items[0].ScanID != sc.ID {
		t.Errorf("posture: %+v", posture.Items)
	}
	status, data = e.do("operator", "POST", fmt.Sprintf("/v1/scans/%d/cancel", sc.ID), nil)
	if p := problemOf(t, data); status != 409 || p.Type != "urn:plumb:problem:wrong-state" || p.Field != "state" {
		t.Errorf("cancelling a finished scan: %d %s", status, data)
	}
	var sum result.Summary
	e.must("auditor", "GET", "/v1/posture/summary?policy=plumb-linux-l1", nil, 200, &sum)
	if sum.Total != 2 || sum.Counts[result.Pass] != 1 || sum.Counts[result.Fail] != 1 || sum.Score != 50 {
		t.Errorf("posture summary: %+v", sum)
	}
	e.must("auditor", "GET", fmt.Sprintf("/v1/assets/%d", a.ID), nil, 200, &a)
	if a.Technology != "debian-12" || a.LastSeen == nil {
		t.Errorf("asset after scan: %+v", a)
	}
}

// TestSchedules: a schedule answers its period as a duration string and
// launches one scan per due period, following its group's members.
func TestSchedules(t *testing.T) {
	e := newEnv(t)
	var a store.Asset
	e.must("admin", "POST", "/v1/assets", api.AssetInput{Name: "h1", Addresses: []string{"10.1.0.1"}, Tags: []string{"nightly"}}, 201, &a)
	e.must("admin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"plumb-linux-l1"}}, 200, nil)
	var g store.Group
	e.must("admin", "POST", "/v1/groups", api.GroupInput{Name: "nightly", MatchTags: []string{"nightly"}, Policies: []string{"plumb-linux-l1"}}, 201, &g)
	status, data := e.do("admin", "POST", "/v1/schedules", api.ScheduleInput{ScanInput: api.ScanInput{Name: "n"}, Every: "24h"})
	if status != 400 || problemOf(t, data).Field != "assets" {
		t.Fatalf("schedule without targets: %d %s", status, data)
	}
	var raw map[string]any
	e.must("operator", "POST", "/v1/schedules", api.ScheduleInput{ScanInput: api.ScanInput{Name: "nightly", Groups: []int64{g.ID}}, Every: "24h"}, 201, &raw)
	if raw["every"] != "24h0m0s" {
		t.Errorf("every = %v, want \"24h0m0s\"", raw["every"])
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.srv.tick = 10 * time.Millisecond
	done := make(chan struct{})
	go func() { e.srv.RunScheduler(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	var scans api.List[store.Scan]
	for time.Now().Before(deadline) {
		e.must("auditor", "GET", "/v1/scans", nil, 200, &scans)
		if len(scans.Items) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // more ticks: the period must not launch twice
	cancel()
	<-done
	e.must("auditor", "GET", "/v1/scans", nil, 200, &scans)
	if len(scans.Items) != 1 || scans.Items[0].Jobs != 1 || scans.Items[0].CreatedBy != "scheduler" || !slices.Equal(scans.Items[0].Policies, []string{"plumb-linux-l1"}) {
		t.Errorf("scans launched: %+v", scans.Items)
	}
}

// TestImportSCAP imports a profile of the SCAP Security Guide installed on
// this machine (test.sh installs ssg-debian).
func TestImportSCAP(t *testing.T) {
	const ds = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"
	if _, err := os.Stat(ds); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (apt-get install ssg-debian)", ds)
		}
		t.Skipf("%s is missing (apt-get install ssg-debian)", ds)
	}
	e := newEnv(t)
	var doc api.PolicyDoc
	e.must("operator", "POST", "/v1/policies/scap", api.SCAPImport{DataStream: "ssg-debian11-ds.xml", Profile: "standard"}, 201, &doc)
	var sp api.SCAPPolicy
	if err := json.Unmarshal(doc.Document, &sp); err != nil {
		t.Fatal(err)
	}
	if doc.ID != "ssg-debian11-standard" || doc.Source != "scap" || doc.Version != 1 || sp.Rules == 0 || len(sp.SHA256) != 64 ||
		sp.Profile != "xccdf_org.ssgproject.content_profile_standard" {
		t.Errorf("imported %+v %+v", doc.Policy, sp)
	}
	e.must("operator", "POST", "/v1/policies/scap", api.SCAPImport{DataStream: "ssg-debian11-ds.xml", Profile: "standard"}, 201, &doc)
	if doc.Version != 1 {
		t.Errorf("re-import stored version %d, want 1", doc.Version)
	}
	for _, c := range []struct {
		in    api.SCAPImport
		field string
	}{
		{api.SCAPImport{DataStream: "../../etc/passwd", Profile: "standard"}, "datastream"},
		{api.SCAPImport{DataStream: "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml", Profile: "standard"}, "datastream"},
		{api.SCAPImport{DataStream: "ssg-nothing-ds.xml", Profile: "standard"}, "datastream"},
		{api.SCAPImport{DataStream: "ssg-debian11-ds.xml", Profile: "no_such_profile"}, "profile"},
		{api.SCAPImport{DataStream: "ssg-debian11-ds.xml"}, "profile"},
		{api.SCAPImport{DataStream: "ssg-debian11-ds.xml", Profile: "standard", ID: "plumb-linux-l1"}, "id"},
	} {
		status, data := e.do("operator", "POST", "/v1/policies/scap", c.in)
		if p := problemOf(t, data); status/100 != 4 || p.Field != c.field {
			t.Errorf("%+v: %d %s, want a 4xx naming %s", c.in, status, data, c.field)
		}
	}
}
