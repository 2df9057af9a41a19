package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// fakeServer answers the API routes the CLI tests need from memory, with
// the answers (and problems) the real server gives. The end-to-end test
// in remote_test.go runs the same commands against the real server.
type fakeServer struct {
	mu          sync.Mutex
	token       string
	assets      map[int64]store.Asset
	nextID      int64
	credentials []api.CredentialInput
	policies    []json.RawMessage
	scanPolls   int
	scanFails   bool
}

func newFakeServer(t *testing.T) (*fakeServer, string) {
	f := &fakeServer{token: "tok-123", assets: map[int64]store.Asset{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/assets", f.listAssets)
	mux.HandleFunc("POST /v1/assets", f.putAsset)
	mux.HandleFunc("GET /v1/assets/{id}", f.getAsset)
	mux.HandleFunc("PUT /v1/assets/{id}", f.putAsset)
	mux.HandleFunc("DELETE /v1/assets/{id}", f.deleteAsset)
	mux.HandleFunc("POST /v1/credentials", func(w http.ResponseWriter, r *http.Request) {
		var in api.CredentialInput
		json.NewDecoder(r.Body).Decode(&in)
		f.credentials = append(f.credentials, in)
		fakeAnswer(w, 201, store.Credential{ID: int64(len(f.credentials)), Name: in.Name, Kind: "ssh", User: in.User, Sudo: in.Sudo})
	})
	mux.HandleFunc("POST /v1/policies", func(w http.ResponseWriter, r *http.Request) {
		var doc json.RawMessage
		json.NewDecoder(r.Body).Decode(&doc)
		var p policy.Policy
		json.Unmarshal(doc, &p)
		f.policies = append(f.policies, doc)
		fakeAnswer(w, 201, api.PolicyDoc{Policy: store.Policy{ID: p.ID, Version: len(f.policies), Title: p.Title, Source: "custom"}, Document: doc})
	})
	mux.HandleFunc("GET /v1/policies/{id}", func(w http.ResponseWriter, r *http.Request) {
		v, _ := strconv.Atoi(r.URL.Query().Get("version"))
		if v < 1 || v > len(f.policies) {
			fakeProblem(w, 404, "Not Found", "", "no such version")
			return
		}
		fakeAnswer(w, 200, api.PolicyDoc{Policy: store.Policy{ID: r.PathValue("id"), Version: v, Source: "custom"}, Document: f.policies[v-1]})
	})
	mux.HandleFunc("POST /v1/scans", func(w http.ResponseWriter, r *http.Request) {
		var in api.ScanInput
		json.NewDecoder(r.Body).Decode(&in)
		fakeAnswer(w, 201, store.Scan{ID: 1, Name: in.Name, Policies: in.Policies, Assets: in.Assets, Groups: in.Groups, State: store.Queued, Jobs: 2})
	})
	mux.HandleFunc("GET /v1/scans/1", func(w http.ResponseWriter, r *http.Request) {
		f.scanPolls++
		s := store.Scan{ID: 1, State: store.Running, Jobs: 2, Done: f.scanPolls - 1}
		if s.Done >= 2 {
			s.Done, s.State = 2, store.Finished
			if f.scanFails {
				s.State, s.Failures = store.Failed, 2
			}
		}
		fakeAnswer(w, 200, s)
	})
	mux.HandleFunc("GET /v1/posture", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("criticality") != "3" || r.URL.Query().Get("status") != "fail" {
			fakeProblem(w, 400, "Bad Request", "criticality", "unexpected query "+r.URL.RawQuery)
			return
		}
		fakeAnswer(w, 200, api.List[store.Result]{Items: []store.Result{{ID: 1, AssetID: 1, Policy: "plumb-linux-l1", PolicyVersion: 1,
			Result: result.Result{CID: 1101, Title: "SSH root login disabled", Criticality: policy.Serious, Status: result.Fail, Reason: ""}}}})
	})
	mux.HandleFunc("POST /v1/tokens", func(w http.ResponseWriter, r *http.Request) {
		var in api.TokenInput
		json.NewDecoder(r.Body).Decode(&in)
		fakeAnswer(w, 201, api.TokenCreated{Token: store.Token{ID: 2, Name: in.Name, Role: in.Role}, Secret: "plumb_secret_xyz"})
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer "+f.token {
			fakeProblem(w, 401, "Unauthorized", "", "missing or unknown token")
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func fakeAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fakeProblem(w http.ResponseWriter, status int, title, field, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Problem{Type: "about:blank", Title: title, Status: status, Field: field, Detail: detail})
}

func (f *fakeServer) listAssets(w http.ResponseWriter, r *http.Request) {
	var l api.List[store.Asset]
	for id := int64(1); id <= f.nextID; id++ {
		if a, ok := f.assets[id]; ok {
			if n := r.URL.Query().Get("name"); n == "" || n == a.Name {
				l.Items = append(l.Items, a)
			}
		}
	}
	fakeAnswer(w, 200, l)
}

func (f *fakeServer) getAsset(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a, ok := f.assets[id]
	if !ok {
		fakeProblem(w, 404, "Not Found", "", fmt.Sprintf("no asset %d", id))
		return
	}
	fakeAnswer(w, 200, a)
}

func (f *fakeServer) putAsset(w http.ResponseWriter, r *http.Request) {
	var in api.AssetInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		fakeProblem(w, 400, "Bad Request", "", err.Error())
		return
	}
	var id int64
	if r.Method == http.MethodPut {
		id, _ = strconv.ParseInt(r.PathValue("id"), 10, 64)
		if _, ok := f.assets[id]; !ok {
			fakeProblem(w, 404, "Not Found", "", "no such asset")
			return
		}
	}
	for i, ip := range in.Addresses {
		if net.ParseIP(ip) == nil {
			fakeProblem(w, 400, "Bad Request", fmt.Sprintf("addresses[%d]", i), fmt.Sprintf("%q is not an IP address", ip))
			return
		}
	}
	for _, a := range f.assets {
		if a.Name == in.Name && a.ID != id {
			fakeProblem(w, 409, "Conflict", "name", "name "+in.Name+" is already taken")
			return
		}
	}
	status := 200
	if id == 0 {
		f.nextID++
		id, status = f.nextID, 201
	}
	a := store.Asset{ID: id, Name: in.Name, Hostnames: in.Hostnames, Addresses: in.Addresses, Partition: in.Partition,
		Port: in.Port, CredentialID: in.CredentialID, Tags: in.Tags, Source: "scanner", Created: time.Now()}
	f.assets[id] = a
	fakeAnswer(w, status, a)
}

func (f *fakeServer) deleteAsset(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if _, ok := f.assets[id]; !ok {
		fakeProblem(w, 404, "Not Found", "", "no such asset")
		return
	}
	delete(f.assets, id)
	w.WriteHeader(http.StatusNoContent)
}

func TestRemoteAssetsAgainstFake(t *testing.T) {
	f, url := newFakeServer(t)
	conn := []string{"--server", url, "--token", f.token}
	remote := func(args ...string) (string, string, int) {
		t.Helper()
		return run(t, append(args, conn...)...)
	}

	out, stderr, code := remote("asset", "add", "web1", "--address", "10.0.0.5", "--hostname", "web1.example.com", "--tag", "prod", "--port", "2222")
	if code != 0 || !strings.Contains(out, "web1.example.com") || !strings.Contains(out, "2222") {
		t.Fatalf("asset add: exit %d\n%s%s", code, out, stderr)
	}
	_, stderr, code = remote("asset", "add", "web1")
	if code != 1 || !strings.Contains(stderr, "field name") || !strings.Contains(stderr, "already taken") || !strings.Contains(stderr, "409") {
		t.Errorf("duplicate name: exit %d, stderr %q: want the field and the reason", code, stderr)
	}
	_, stderr, code = remote("asset", "add", "web2", "--address", "10.0.0.6", "--address", "10.0.0.300")
	if code != 1 || !strings.Contains(stderr, "field addresses[1]") || !strings.Contains(stderr, "10.0.0.300") {
		t.Errorf("bad IP: exit %d, stderr %q", code, stderr)
	}

	// update by name: only the given flags change.
	out, stderr, code = remote("asset", "update", "web1", "--tag", "pci", "--tag", "prod", "--json")
	var a store.Asset
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil {
		t.Fatalf("asset update: exit %d\n%s%s", code, out, stderr)
	}
	if a.Port != 2222 || len(a.Hostnames) != 1 || len(a.Addresses) != 1 || strings.Join(a.Tags, ",") != "pci,prod" {
		t.Errorf("asset update changed fields it was not asked to: %+v", a)
	}
	out, _, _ = remote("asset", "update", "1", "--tag=", "--json")
	if json.Unmarshal([]byte(out), &a) != nil || len(a.Tags) != 0 || a.Port != 2222 {
		t.Errorf("--tag= does not empty the tags: %s", out)
	}

	out, _, code = remote("asset", "list")
	if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "web1") {
		t.Errorf("asset list: exit %d\n%s", code, out)
	}
	out, _, code = remote("asset", "list", "--json")
	var as []store.Asset
	if code != 0 || json.Unmarshal([]byte(out), &as) != nil || len(as) != 1 {
		t.Errorf("asset list --json: exit %d\n%s", code, out)
	}
	if _, stderr, code = remote("asset", "show", "nosuch"); code != 1 || !strings.Contains(stderr, `no asset is named "nosuch"`) {
		t.Errorf("show unknown name: exit %d %s", code, stderr)
	}
	if _, stderr, code = remote("asset", "show", "99"); code != 1 || !strings.Contains(stderr, "(404)") {
		t.Errorf("show unknown id: exit %d %s", code, stderr)
	}
	if out, _, code = remote("asset", "rm", "web1"); code != 0 || out != "removed asset 1\n" {
		t.Errorf("asset rm: exit %d %q", code, out)
	}

	// Authentication: a wrong token says what to check; no token at all
	// fails before any request.
	_, stderr, code = run(t, "asset", "list", "--server", url, "--token", "nope")
	if code != 1 || !strings.Contains(stderr, "(401)") || !strings.Contains(stderr, "PLUMB_TOKEN") || strings.Contains(stderr, "nope") {
		t.Errorf("wrong token: exit %d %q", code, stderr)
	}
	t.Setenv("PLUMB_TOKEN", "")
	_, stderr, code = run(t, "asset", "list", "--server", url)
	if code != 1 || !strings.Contains(stderr, "no API token") {
		t.Errorf("no token: exit %d %q", code, stderr)
	}
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(f.token+"\n"), 0o600)
	t.Setenv("PLUMB_SERVER", url)
	if _, stderr, code = run(t, "asset", "list", "--token-file", tokFile); code != 0 {
		t.Errorf("--token-file and PLUMB_SERVER: exit %d %s", code, stderr)
	}
	t.Setenv("PLUMB_TOKEN", f.token)
	if _, stderr, code = run(t, "asset", "list"); code != 0 {
		t.Errorf("PLUMB_TOKEN and PLUMB_SERVER: exit %d %s", code, stderr)
	}
}

func TestRemoteUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	_, stderr, code := run(t, "group", "list", "--server", url, "--token", "x")
	if code != 1 || !strings.Contains(stderr, "cannot reach the Plumb server at "+url) {
		t.Errorf("unreachable: exit %d %q", code, stderr)
	}
}

func TestRemoteCredentialSecrets(t *testing.T) {
	f, url := newFakeServer(t)
	conn := []string{"--server", url, "--token", f.token}
	key := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600)
	t.Setenv("TEST_PASSPHRASE", "pass-phrase-1")
	t.Setenv("TEST_SUDO_PW", "sudo-pw-2")
	t.Setenv("TEST_PW", "login-pw-3")

	out, stderr, code := run(t, append([]string{"credential", "add", "deploy", "--user", "scan", "--key-file", key,
		"--passphrase-env", "TEST_PASSPHRASE", "--sudo-password-env", "TEST_SUDO_PW"}, conn...)...)
	if code != 0 || !strings.Contains(out, "deploy") {
		t.Fatalf("credential add: exit %d\n%s%s", code, out, stderr)
	}
	out2, _, code := run(t, append([]string{"credential", "add", "legacy", "--user", "root", "--password-env", "TEST_PW", "--json"}, conn...)...)
	if code != 0 {
		t.Fatalf("credential add --password-env: exit %d", code)
	}
	for _, secret := range []string{"KEYMATERIAL", "pass-phrase-1", "sudo-pw-2", "login-pw-3"} {
		if strings.Contains(out+stderr+out2, secret) {
			t.Errorf("a secret is in the output: %s", secret)
		}
	}
	if len(f.credentials) != 2 {
		t.Fatalf("%d credentials posted", len(f.credentials))
	}
	c := f.credentials[0]
	if !strings.Contains(c.PrivateKey, "KEYMATERIAL") || c.Passphrase != "pass-phrase-1" || c.SudoPassword != "sudo-pw-2" || !c.Sudo || c.User != "scan" || c.Password != "" {
		t.Errorf("posted %+v", c)
	}
	if f.credentials[1].Password != "login-pw-3" || f.credentials[1].PrivateKey != "" {
		t.Errorf("posted %+v", f.credentials[1])
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "u"}, "give --key-file"},
		{[]string{"--user", "u", "--key-file", key, "--password-env", "TEST_PW"}, "give one of them"},
		{[]string{"--user", "u", "--password-env", "login-pw-3"}, "not set or empty"},
		{[]string{"--key-file", key}, "--user"},
		{[]string{"--user", "u", "--password", "x"}, "unknown flag: --password"},
	} {
		_, stderr, code := run(t, append(append([]string{"credential", "add", "x"}, tc.args...), conn...)...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	if len(f.credentials) != 2 {
		t.Errorf("refused credentials reached the server")
	}
}

func TestRemoteScanWait(t *testing.T) {
	f, url := newFakeServer(t)
	args := []string{"scan", "launch", "--asset", "3", "--group", "4", "--policy", "plumb-linux-l1", "--wait", "--interval", "10ms", "--server", url, "--token", f.token}
	out, stderr, code := run(t, args...)
	if code != 0 || !strings.Contains(stderr, "1/2 hosts done") || !strings.Contains(stderr, "finished") || !strings.Contains(out, "finished") {
		t.Errorf("scan launch --wait: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	f.scanPolls, f.scanFails = 0, true
	_, stderr, code = run(t, args...)
	if code == 0 || !strings.Contains(stderr, "scan 1 failed") {
		t.Errorf("failed scan: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = run(t, "scan", "launch", "--server", url, "--token", f.token); code != 1 || !strings.Contains(stderr, "nothing to scan") {
		t.Errorf("no target: exit %d %s", code, stderr)
	}
	if _, stderr, code = run(t, "scan", "schedule", "--every", "10s", "--group", "1", "--server", url, "--token", f.token); code != 1 || !strings.Contains(stderr, "at least 1m") {
		t.Errorf("schedule --every 10s: exit %d %s", code, stderr)
	}
}

func TestRemotePolicyPushAndPosture(t *testing.T) {
	f, url := newFakeServer(t)
	conn := []string{"--server", url, "--token", f.token}
	file := filepath.Join(t.TempDir(), "ours.yaml")
	os.WriteFile(file, []byte(`policies:
  - id: ours
    version: "1.0"
    title: Our baseline
    extends: [plumb-linux-l1]
    controls:
      - cid: 1101
        criticality: urgent
`), 0o644)
	out, stderr, code := run(t, append([]string{"policy", "push", file}, conn...)...)
	if code != 0 || !strings.Contains(out, "ours") || len(f.policies) != 1 {
		t.Fatalf("policy push: exit %d\n%s%s", code, out, stderr)
	}
	var p policy.Policy
	if err := json.Unmarshal(f.policies[0], &p); err != nil || p.ID != "ours" || p.Extends[0] != "plumb-linux-l1" || *p.Controls[0].Criticality != policy.Urgent {
		t.Errorf("pushed document %s: %v", f.policies[0], err)
	}
	out, _, code = run(t, append([]string{"policy", "show", "ours", "--version", "1"}, conn...)...)
	if code != 0 || !strings.Contains(out, "1101") || !strings.Contains(out, "urgent (override)") || !strings.Contains(out, "Extends:") {
		t.Errorf("policy show --server: exit %d\n%s", code, out)
	}
	if _, stderr, code = run(t, "policy", "show", "plumb-linux-l1", "--version", "2"); code != 1 || !strings.Contains(stderr, "--server") {
		t.Errorf("--version without --server: exit %d %s", code, stderr)
	}
	if _, stderr, code = run(t, append([]string{"policy", "push", filepath.Join("testdata", "nosuch.yaml")}, conn...)...); code != 1 {
		t.Errorf("push of a missing file: exit %d %s", code, stderr)
	}
	withControls := filepath.Join(t.TempDir(), "controls.yaml")
	os.WriteFile(withControls, []byte(customPolicy), 0o644)
	if _, stderr, code = run(t, append([]string{"policy", "push", withControls}, conn...)...); code != 1 || !strings.Contains(stderr, "controls of its own") {
		t.Errorf("push of a file with controls: exit %d %s", code, stderr)
	}

	f.nextID, f.assets[1] = 1, store.Asset{ID: 1, Name: "web1"}
	out, stderr, code = run(t, append([]string{"posture", "--status", "fail", "--criticality", "serious"}, conn...)...)
	if code != 0 || !strings.Contains(out, "web1") || !strings.Contains(out, "1101") || !strings.Contains(out, "Fail") || !strings.Contains(out, "plumb-linux-l1@1") {
		t.Errorf("posture: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code = run(t, append([]string{"posture", "--status", "bad"}, conn...)...); code != 1 || !strings.Contains(stderr, "--status") {
		t.Errorf("posture --status bad: exit %d %s", code, stderr)
	}

	out, stderr, code = run(t, append([]string{"token", "add", "ci", "--role", "operator"}, conn...)...)
	if code != 0 || out != "plumb_secret_xyz\n" || !strings.Contains(stderr, "not shown again") {
		t.Errorf("token add: exit %d %q %q", code, out, stderr)
	}
	if _, stderr, code = run(t, append([]string{"token", "add", "ci", "--role", "root"}, conn...)...); code != 1 || !strings.Contains(stderr, "operator") {
		t.Errorf("token add --role root: exit %d %s", code, stderr)
	}
}

// TestScanSubcommandsKeepLocalScan: plumb scan with flags and no
// subcommand still scans locally.
func TestScanSubcommandsKeepLocalScan(t *testing.T) {
	root := t.TempDir()
	out, stderr, code := run(t, "scan", "--root", root, "--format", "json", "--no-progress")
	if code == 1 || !strings.Contains(out, `"schema"`) {
		t.Errorf("plumb scan --root: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = run(t, "scan", "nosuch"); code != 1 || !strings.Contains(stderr, "unknown command") {
		t.Errorf("plumb scan nosuch: exit %d %s", code, stderr)
	}
}
