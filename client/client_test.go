package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/store"
)

// problem writes an RFC 9457 answer as the server does.
func problem(w http.ResponseWriter, p api.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestAuthAndJSONBodies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer s3cret" {
			problem(w, api.Problem{Status: 401, Title: "Unauthorized"})
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/v1/assets" {
			t.Errorf("request %s %s", r.Method, r.URL.Path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var in api.AssetInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Fatal(err)
		}
		answer(w, http.StatusCreated, store.Asset{ID: 7, Name: in.Name, Addresses: in.Addresses, Tags: in.Tags})
	}))
	defer srv.Close()

	c := New(srv.URL, "s3cret")
	a, err := c.CreateAsset(context.Background(), api.AssetInput{Name: "web1", Addresses: []string{"10.0.0.5"}, Tags: []string{"prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 7 || a.Name != "web1" || a.Addresses[0] != "10.0.0.5" || a.Tags[0] != "prod" {
		t.Errorf("asset %+v", a)
	}

	_, err = New(srv.URL, "wrong").CreateAsset(context.Background(), api.AssetInput{Name: "x"})
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != 401 || StatusCode(err) != 401 {
		t.Fatalf("wrong token: %v", err)
	}
	if strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestProblemAnswers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/assets":
			problem(w, api.Problem{Type: "about:blank", Title: "Conflict", Status: 409, Detail: "name web1 is already taken", Field: "name"})
		case "/v1/assets/9":
			// Status and title missing: the client fills them from the answer.
			w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
			w.WriteHeader(404)
			io.WriteString(w, `{"detail":"no asset 9"}`)
		case "/v1/groups":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>bad gateway</html>")
		default:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(500)
			io.WriteString(w, "not json")
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "t")
	ctx := context.Background()

	_, err := c.CreateAsset(ctx, api.AssetInput{Name: "web1"})
	var p *api.Problem
	if !errors.As(err, &p) || p.Field != "name" || p.Detail != "name web1 is already taken" || !IsConflict(err) || IsNotFound(err) {
		t.Fatalf("conflict: %#v", err)
	}
	if want := "POST " + srv.URL + "/v1/assets: Conflict: name: name web1 is already taken"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}

	_, err = c.GetAsset(ctx, 9)
	if !errors.As(err, &p) || p.Status != 404 || p.Title != "Not Found" || !IsNotFound(err) {
		t.Errorf("not found: %#v", err)
	}

	_, err = c.ListGroups(ctx, store.Page{})
	var h *HTTPError
	if !errors.As(err, &h) || h.StatusCode != 502 || StatusCode(err) != 502 || errors.As(err, &p) {
		t.Fatalf("502: %#v", err)
	}
	if !strings.Contains(err.Error(), "GET "+srv.URL+"/v1/groups") || !strings.Contains(err.Error(), "bad gateway") {
		t.Errorf("502 error does not name the method, URL and body: %v", err)
	}

	// A problem type whose body does not decode is still an error with
	// the status.
	err = c.DeleteCredential(ctx, 3)
	if !errors.As(err, &h) || h.StatusCode != 500 {
		t.Errorf("undecodable problem: %#v", err)
	}
}

func TestTransportErrorsNameMethodAndURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	u := srv.URL
	srv.Close()
	_, err := New(u, "t").GetScan(context.Background(), 4)
	if err == nil || !strings.HasPrefix(err.Error(), "GET "+u+"/v1/scans/4: ") || StatusCode(err) != 0 {
		t.Errorf("closed server: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = New(u, "t").GetScan(ctx, 4)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}

	for _, base := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := New(base, "t").WhoAmI(context.Background()); err == nil || !strings.Contains(err.Error(), "server URL") {
			t.Errorf("base URL %q: %v", base, err)
		}
	}
}

func TestTimeoutAndBoundedReads(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/whoami" {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"items":[{"id":1,"name":%q}]}`, strings.Repeat("x", 4096))
	}))
	defer srv.Close()

	start := time.Now()
	_, err := New(srv.URL, "t", WithTimeout(100*time.Millisecond)).WhoAmI(context.Background())
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("timeout: %v after %s", err, time.Since(start))
	}

	_, err = New(srv.URL, "t", WithMaxResponse(1024)).ListAssets(context.Background(), store.AssetFilter{})
	if err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Errorf("oversized answer: %v", err)
	}
	l, err := New(srv.URL, "t").ListAssets(context.Background(), store.AssetFilter{})
	if err != nil || len(l.Items) != 1 {
		t.Errorf("normal answer: %v %v", l, err)
	}
}

func TestQueries(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.Query()
		answer(w, 200, map[string]any{"items": []any{}})
	}))
	defer srv.Close()
	c := New(srv.URL+"/", "t") // a trailing slash is dropped
	ctx := context.Background()

	if _, err := c.ListAssets(ctx, store.AssetFilter{Page: store.Page{Limit: 5, After: 9}, Name: "web 1", Tag: "prod", Technology: "debian-12", Partition: "dmz", Address: "10.0.0.1", Group: 3}); err != nil {
		t.Fatal(err)
	}
	want := url.Values{"limit": {"5"}, "after": {"9"}, "name": {"web 1"}, "tag": {"prod"}, "technology": {"debian-12"}, "partition": {"dmz"}, "address": {"10.0.0.1"}, "group": {"3"}}
	if got.Encode() != want.Encode() {
		t.Errorf("asset query %s, want %s", got.Encode(), want.Encode())
	}

	if _, err := c.Posture(ctx, store.ResultFilter{Scan: 1, Asset: 2, Group: 3, Policy: "p", Technology: "rhel-9", Status: "fail", CID: 1101, Criticality: 3}); err != nil {
		t.Fatal(err)
	}
	want = url.Values{"scan": {"1"}, "asset": {"2"}, "group": {"3"}, "policy": {"p"}, "technology": {"rhel-9"}, "status": {"fail"}, "cid": {"1101"}, "criticality": {"3"}}
	if got.Encode() != want.Encode() {
		t.Errorf("result query %s, want %s", got.Encode(), want.Encode())
	}

	if _, err := c.ListScans(ctx, store.ScanFilter{State: "running"}); err != nil || got.Encode() != "state=running" {
		t.Errorf("scan query %s %v", got.Encode(), err)
	}
	if _, err := c.ListGroups(ctx, store.Page{}); err != nil || len(got) != 0 {
		t.Errorf("empty page query %s %v", got.Encode(), err)
	}
	if _, err := c.GetPolicy(ctx, "plumb-linux-l1", 2); err != nil || got.Get("version") != "2" {
		t.Errorf("policy version query %s %v", got.Encode(), err)
	}
}

// TestEndpoints calls every method and checks the method and path it
// sends, and that a 204 answer decodes to nothing.
func TestEndpoints(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Method + " " + r.URL.EscapedPath()
		if r.Method == http.MethodDelete || strings.HasSuffix(r.URL.Path, "/cancel") || strings.Contains(r.URL.Path, "/v1/jobs/") {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		answer(w, 200, map[string]any{})
	}))
	defer srv.Close()
	c := New(srv.URL+"/base", "t")
	ctx := context.Background()
	p := store.Page{}
	calls := []struct {
		want string
		call func() error
	}{
		{"GET /base/v1/assets", func() error { _, err := c.ListAssets(ctx, store.AssetFilter{}); return err }},
		{"POST /base/v1/assets", func() error { _, err := c.CreateAsset(ctx, api.AssetInput{}); return err }},
		{"GET /base/v1/assets/1", func() error { _, err := c.GetAsset(ctx, 1); return err }},
		{"PUT /base/v1/assets/1", func() error { _, err := c.UpdateAsset(ctx, 1, api.AssetInput{}); return err }},
		{"DELETE /base/v1/assets/1", func() error { return c.DeleteAsset(ctx, 1) }},
		{"GET /base/v1/groups", func() error { _, err := c.ListGroups(ctx, p); return err }},
		{"POST /base/v1/groups", func() error { _, err := c.CreateGroup(ctx, api.GroupInput{}); return err }},
		{"GET /base/v1/groups/2", func() error { _, err := c.GetGroup(ctx, 2); return err }},
		{"PUT /base/v1/groups/2", func() error { _, err := c.UpdateGroup(ctx, 2, api.GroupInput{}); return err }},
		{"DELETE /base/v1/groups/2", func() error { return c.DeleteGroup(ctx, 2) }},
		{"GET /base/v1/groups/2/assets", func() error { _, err := c.GroupAssets(ctx, 2, p); return err }},
		{"GET /base/v1/policies", func() error { _, err := c.ListPolicies(ctx, p); return err }},
		{"POST /base/v1/policies", func() error { _, err := c.PushPolicy(ctx, &policy.Policy{ID: "x"}); return err }},
		{"POST /base/v1/policies/import", func() error { _, err := c.ImportPolicies(ctx, api.PolicyImport{All: true}); return err }},
		{"GET /base/v1/policies/a%2Fb", func() error { _, err := c.GetPolicy(ctx, "a/b", 0); return err }},
		{"GET /base/v1/policies/p1/versions", func() error { _, err := c.PolicyVersions(ctx, "p1", p); return err }},
		{"GET /base/v1/credentials", func() error { _, err := c.ListCredentials(ctx, p); return err }},
		{"POST /base/v1/credentials", func() error { _, err := c.CreateCredential(ctx, api.CredentialInput{}); return err }},
		{"GET /base/v1/credentials/3", func() error { _, err := c.GetCredential(ctx, 3); return err }},
		{"DELETE /base/v1/credentials/3", func() error { return c.DeleteCredential(ctx, 3) }},
		{"GET /base/v1/scans", func() error { _, err := c.ListScans(ctx, store.ScanFilter{}); return err }},
		{"POST /base/v1/scans", func() error { _, err := c.LaunchScan(ctx, api.ScanInput{}); return err }},
		{"GET /base/v1/scans/4", func() error { _, err := c.GetScan(ctx, 4); return err }},
		{"POST /base/v1/scans/4/cancel", func() error { return c.CancelScan(ctx, 4) }},
		{"GET /base/v1/scans/4/jobs", func() error { _, err := c.ScanJobs(ctx, 4, p); return err }},
		{"GET /base/v1/schedules", func() error { _, err := c.ListSchedules(ctx, p); return err }},
		{"POST /base/v1/schedules", func() error { _, err := c.CreateSchedule(ctx, api.ScheduleInput{Every: "1h"}); return err }},
		{"DELETE /base/v1/schedules/5", func() error { return c.DeleteSchedule(ctx, 5) }},
		{"GET /base/v1/results", func() error { _, err := c.ListResults(ctx, store.ResultFilter{}); return err }},
		{"GET /base/v1/posture", func() error { _, err := c.Posture(ctx, store.ResultFilter{}); return err }},
		{"GET /base/v1/tokens", func() error { _, err := c.ListTokens(ctx, p); return err }},
		{"POST /base/v1/tokens", func() error { _, err := c.CreateToken(ctx, api.TokenInput{}); return err }},
		{"DELETE /base/v1/tokens/6", func() error { return c.RevokeToken(ctx, 6) }},
		{"GET /base/v1/audit", func() error { _, err := c.Audit(ctx, p); return err }},
		{"GET /base/v1/whoami", func() error { _, err := c.WhoAmI(ctx); return err }},
		{"POST /base/v1/jobs/claim", func() error {
			cl, err := c.ClaimJob(ctx, api.ClaimRequest{Worker: "w"})
			if err == nil && cl != nil {
				err = fmt.Errorf("204 gave a claim %+v", cl)
			}
			return err
		}},
		{"POST /base/v1/jobs/7/heartbeat", func() error { return c.Heartbeat(ctx, 7, api.Heartbeat{Attempt: 1}) }},
		{"POST /base/v1/jobs/7/complete", func() error { return c.CompleteJob(ctx, 7, api.Completion{Attempt: 1}) }},
	}
	for _, tc := range calls {
		got = ""
		if err := tc.call(); err != nil {
			t.Errorf("%s: %v", tc.want, err)
		}
		if got != tc.want {
			t.Errorf("sent %q, want %q", got, tc.want)
		}
	}
}

func TestWorkerProtocol(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/jobs/claim":
			var in api.ClaimRequest
			json.NewDecoder(r.Body).Decode(&in)
			answer(w, 200, api.Claim{Job: store.Job{ID: 11, Attempt: 2, Worker: in.Worker}, Asset: store.Asset{ID: 3, Name: "web1"},
				Credential: &api.Secrets{User: "scan", Password: "pw"}, LeaseSeconds: 60})
		case "/v1/jobs/11/heartbeat", "/v1/jobs/11/complete":
			var in struct{ Attempt int }
			json.NewDecoder(r.Body).Decode(&in)
			if in.Attempt != 2 {
				problem(w, api.Problem{Status: 409, Title: "Conflict", Detail: "job lease lost"})
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c := New(srv.URL, "t")
	ctx := context.Background()
	cl, err := c.ClaimJob(ctx, api.ClaimRequest{Worker: "w1"})
	if err != nil || cl == nil || cl.Job.ID != 11 || cl.Job.Worker != "w1" || cl.Credential.Password != "pw" || cl.LeaseSeconds != 60 {
		t.Fatalf("claim %+v %v", cl, err)
	}
	if err := c.Heartbeat(ctx, 11, api.Heartbeat{Attempt: 2}); err != nil {
		t.Error(err)
	}
	if err := c.Heartbeat(ctx, 11, api.Heartbeat{Attempt: 1}); !IsConflict(err) {
		t.Errorf("stale heartbeat: %v", err)
	}
	if err := c.CompleteJob(ctx, 11, api.Completion{Attempt: 1}); !IsConflict(err) {
		t.Errorf("stale completion: %v", err)
	}
	if err := c.CompleteJob(ctx, 11, api.Completion{Attempt: 2}); err != nil {
		t.Error(err)
	}
	if IsConflict(nil) || IsConflict(errors.New("x")) {
		t.Error("IsConflict of a non-HTTP error")
	}
}

// pager serves /v1/audit from n entries, honouring limit and after.
func pager(t *testing.T, n int, stuck bool) (*httptest.Server, *int) {
	requests := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*requests++
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit == 0 {
			limit = 3
		}
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		var l api.List[store.AuditEntry]
		for id := after + 1; id <= int64(n) && len(l.Items) < limit; id++ {
			l.Items = append(l.Items, store.AuditEntry{ID: id})
		}
		if len(l.Items) > 0 && l.Items[len(l.Items)-1].ID < int64(n) {
			l.NextAfter = l.Items[len(l.Items)-1].ID
			if stuck {
				l.NextAfter = 1
			}
		}
		answer(w, 200, l)
	}))
	t.Cleanup(srv.Close)
	return srv, requests
}

func TestPagination(t *testing.T) {
	ctx := context.Background()
	srv, requests := pager(t, 10, false)
	c := New(srv.URL, "t")

	items, more, err := All(ctx, store.Page{}, 0, c.Audit)
	if err != nil || len(items) != 10 || more != 0 || items[9].ID != 10 || *requests != 4 {
		t.Errorf("All: %d items, more %d, %d requests, %v", len(items), more, *requests, err)
	}
	items, more, err = All(ctx, store.Page{After: 2}, 4, c.Audit)
	if err != nil || len(items) != 4 || items[0].ID != 3 || more != 6 {
		t.Errorf("All after 2, max 4: %+v more %d %v", items, more, err)
	}
	items, more, err = All(ctx, store.Page{Limit: 100}, 10, c.Audit)
	if err != nil || len(items) != 10 || more != 0 {
		t.Errorf("All max = total: %d more %d %v", len(items), more, err)
	}

	var ids []int64
	for e, err := range Pages(ctx, store.Page{}, c.Audit) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
		if e.ID == 5 {
			break
		}
	}
	if len(ids) != 5 {
		t.Errorf("Pages with break: %v", ids)
	}

	stuck, _ := pager(t, 10, true)
	if _, _, err := All(ctx, store.Page{}, 0, New(stuck.URL, "t").Audit); err == nil || !strings.Contains(err.Error(), "does not move") {
		t.Errorf("All on a stuck server: %v", err)
	}
	n := 0
	for _, err := range Pages(ctx, store.Page{}, New(stuck.URL, "t").Audit) {
		if n++; n > 20 {
			t.Fatal("Pages loops on a stuck server")
		}
		if err != nil {
			break
		}
	}
}
