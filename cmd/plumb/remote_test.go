package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/server"
	"github.com/plumbhq/plumb/store"
)

// remoteEnv is a real server over a fresh SQLite store, in this process,
// and the admin token it bootstrapped.
type remoteEnv struct {
	t     *testing.T
	url   string
	admin string
}

func newRemoteEnv(t *testing.T) *remoteEnv {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "plumb.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := library.Load()
	if err != nil {
		t.Fatal(err)
	}
	key, err := secret.ParseKey(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Library: lib, Box: box, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := srv.Bootstrap(ctx)
	if err != nil || admin == "" {
		t.Fatalf("Bootstrap = %q, %v", admin, err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	// The commands must not pick up a developer's own server.
	t.Setenv("PLUMB_SERVER", "")
	t.Setenv("PLUMB_TOKEN", "")
	return &remoteEnv{t: t, url: hs.URL, admin: admin}
}

// run runs plumb with args against the server as admin.
func (e *remoteEnv) run(args ...string) (string, string, int) {
	e.t.Helper()
	return run(e.t, append(args, "--server", e.url, "--token", e.admin)...)
}

// ok runs plumb and fails the test unless it exits 0.
func (e *remoteEnv) ok(args ...string) string {
	e.t.Helper()
	out, stderr, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("plumb %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// json runs plumb with --json and decodes its output into v.
func (e *remoteEnv) json(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("plumb %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs plumb, wants exit 1 and every one of want in its stderr.
func (e *remoteEnv) fails(args []string, want ...string) {
	e.t.Helper()
	out, stderr, code := e.run(args...)
	if code != 1 {
		e.t.Errorf("plumb %s: exit %d, want 1\n%s%s", strings.Join(args, " "), code, out, stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			e.t.Errorf("plumb %s: stderr %q does not contain %q", strings.Join(args, " "), stderr, w)
		}
	}
}

func TestRemoteEndToEnd(t *testing.T) {
	e := newRemoteEnv(t)

	// Assets.
	var web1 store.Asset
	e.json(&web1, "asset", "add", "web1", "--address", "10.0.0.5", "--hostname", "web1.example.com", "--tag", "prod", "--port", "2222")
	if web1.ID == 0 || web1.Port != 2222 || web1.Addresses[0] != "10.0.0.5" || web1.Tags[0] != "prod" {
		t.Fatalf("asset add: %+v", web1)
	}
	out := e.ok("asset", "add", "db1", "--address", "10.0.0.6", "--tag", "db")
	if !strings.Contains(out, "db1") || !strings.Contains(out, "10.0.0.6") {
		t.Errorf("asset add table:\n%s", out)
	}
	e.fails([]string{"asset", "add", "web1", "--address", "10.0.0.9"}, "409", "field name", "web1")
	e.fails([]string{"asset", "add", "web9", "--address", "10.0.0.7", "--address", "10.0.0.300"}, "400", "field addresses[1]")
	e.fails([]string{"asset", "add", "web8", "--address", "10.0.0.5"}, "409", "field addresses", "10.0.0.5")

	out = e.ok("asset", "list")
	if !strings.Contains(out, "web1") || !strings.Contains(out, "db1") || !strings.HasPrefix(out, "ID") {
		t.Errorf("asset list:\n%s", out)
	}
	var assets []store.Asset
	e.json(&assets, "asset", "list", "--tag", "PROD")
	if len(assets) != 1 || assets[0].Name != "web1" {
		t.Errorf("asset list --tag PROD: %+v", assets)
	}
	e.json(&assets, "asset", "list", "--limit", "1")
	if len(assets) != 1 {
		t.Errorf("asset list --limit 1: %d assets", len(assets))
	}
	if _, stderr, _ := e.run("asset", "list", "--limit", "1"); !strings.Contains(stderr, "--after") {
		t.Errorf("asset list --limit 1 does not say how to go on: %q", stderr)
	}
	out = e.ok("asset", "show", "web1")
	if !strings.Contains(out, "web1.example.com") || !strings.Contains(out, "2222") {
		t.Errorf("asset show:\n%s", out)
	}

	var upd store.Asset
	e.json(&upd, "asset", "update", "web1", "--tag", "prod", "--tag", "pci", "--partition", "dmz")
	if upd.Port != 2222 || len(upd.Hostnames) != 1 || len(upd.Addresses) != 1 || len(upd.Tags) != 2 || upd.Partition != "dmz" {
		t.Errorf("asset update touched other fields: %+v", upd)
	}
	e.fails([]string{"asset", "update", "web1", "--name", "db1"}, "409", "field name")

	// Credentials: the secrets go to the server and never come back.
	key := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(key, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nS3CRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n"), 0o600)
	t.Setenv("E2E_PASSPHRASE", "e2e-pass-phrase")
	t.Setenv("E2E_PASSWORD", "e2e-login-password")
	var outputs strings.Builder
	record := func(args ...string) string {
		t.Helper()
		o, stderr, code := e.run(args...)
		outputs.WriteString(o + stderr)
		if code != 0 {
			t.Fatalf("plumb %s: exit %d\n%s%s", strings.Join(args, " "), code, o, stderr)
		}
		return o
	}
	record("credential", "add", "deploy", "--user", "scan", "--key-file", key, "--passphrase-env", "E2E_PASSPHRASE", "--sudo")
	record("credential", "add", "legacy", "--user", "root", "--password-env", "E2E_PASSWORD", "--json")
	out = record("credential", "list")
	if !strings.Contains(out, "deploy") || !strings.Contains(out, "legacy") {
		t.Errorf("credential list:\n%s", out)
	}
	record("credential", "list", "--json")
	out = record("credential", "show", "deploy")
	if !strings.Contains(out, "scan") || !strings.Contains(out, "true") {
		t.Errorf("credential show:\n%s", out)
	}
	record("credential", "show", "deploy", "--json")
	record("audit", "--json")
	record("audit")
	for _, s := range []string{"S3CRETKEYMATERIAL", "e2e-pass-phrase", "e2e-login-password"} {
		if strings.Contains(outputs.String(), s) {
			t.Errorf("a secret appears in the output: %s", s)
		}
	}
	e.fails([]string{"credential", "add", "deploy", "--user", "x", "--password-env", "E2E_PASSWORD"}, "409", "field name")
	e.ok("asset", "update", "web1", "--credential", "deploy")
	e.json(&upd, "asset", "show", "web1")
	if upd.CredentialID == 0 {
		t.Errorf("asset update --credential deploy: %+v", upd)
	}
	e.ok("credential", "rm", "legacy")
	e.fails([]string{"credential", "show", "legacy"}, `no credential is named "legacy"`)

	// Groups (their policies must be on the server first).
	var docs []api.PolicyDoc
	e.json(&docs, "policy", "import", "plumb-linux-l1", "plumb-linux-l2")
	if len(docs) != 2 || docs[0].Version != 1 {
		t.Fatalf("policy import: %+v", docs)
	}
	var g store.Group
	e.json(&g, "group", "add", "web", "--member", "web1", "--match-tag", "db", "--policy", "plumb-linux-l1", "--description", "web and db hosts")
	if g.ID == 0 || len(g.Members) != 1 || g.Members[0] != web1.ID || g.MatchTags[0] != "db" {
		t.Fatalf("group add: %+v", g)
	}
	e.fails([]string{"group", "add", "web"}, "409", "field name")
	out = e.ok("group", "assets", "web")
	if !strings.Contains(out, "web1") || !strings.Contains(out, "db1") {
		t.Errorf("group assets (member and by tag):\n%s", out)
	}
	e.json(&g, "group", "update", "web", "--description", "web only", "--match-tag=")
	if g.Description != "web only" || len(g.MatchTags) != 0 || len(g.Members) != 1 || len(g.Policies) != 1 {
		t.Errorf("group update: %+v", g)
	}
	out = e.ok("group", "list")
	if !strings.Contains(out, "web only") {
		t.Errorf("group list:\n%s", out)
	}
	e.json(&assets, "asset", "list", "--group", "web")
	if len(assets) != 1 || assets[0].Name != "web1" {
		t.Errorf("asset list --group web: %+v", assets)
	}
	e.ok("group", "show", strconv.FormatInt(g.ID, 10))

	// Policies.
	e.fails([]string{"policy", "import"}, "--all")
	e.fails([]string{"policy", "import", "no-such-policy"}, "no-such-policy")
	file := filepath.Join(t.TempDir(), "ours.yaml")
	os.WriteFile(file, []byte("policies:\n  - id: ours\n    version: \"1\"\n    title: Our baseline\n    extends: [plumb-linux-l1]\n    controls:\n      - cid: 1101\n        criticality: urgent\n"), 0o644)
	e.json(&docs, "policy", "push", file)
	if len(docs) != 1 || docs[0].ID != "ours" || docs[0].Version != 1 {
		t.Fatalf("policy push: %+v", docs)
	}
	os.WriteFile(file, []byte("policies:\n  - id: ours\n    version: \"2\"\n    title: Our baseline v2\n    extends: [plumb-linux-l1]\n"), 0o644)
	e.json(&docs, "policy", "push", file)
	if docs[0].Version != 2 {
		t.Errorf("second push: version %d", docs[0].Version)
	}
	out = e.ok("policy", "versions", "ours")
	if !strings.Contains(out, "Our baseline v2") || !strings.Contains(out, "Our baseline\n") && strings.Count(out, "ours") != 2 {
		t.Errorf("policy versions:\n%s", out)
	}
	out = e.ok("policy", "list")
	if !strings.Contains(out, "ours") || !strings.Contains(out, "plumb-linux-l2") || strings.Contains(out, "plumb-pci-dss-4") {
		t.Errorf("policy list --server: want the stored policies only\n%s", out)
	}
	out = e.ok("policy", "show", "ours", "--version", "1")
	if !strings.Contains(out, "1101") || !strings.Contains(out, "urgent (override)") {
		t.Errorf("policy show --version 1:\n%s", out)
	}
	e.fails([]string{"policy", "show", "nosuch"}, "404")
	if out, _, code := run(t, "policy", "list"); code != 0 || !strings.Contains(out, "plumb-pci-dss-4") {
		t.Errorf("policy list without --server is no longer local: exit %d", code)
	}

	// Scans: no scanner runs here, so the scan stays queued until cancelled.
	var sc store.Scan
	e.json(&sc, "scan", "launch", "--group", "web", "--asset", "db1", "--name", "nightly")
	if sc.ID == 0 || sc.State != store.Queued || sc.Jobs != 2 || len(sc.Policies) != 1 {
		t.Fatalf("scan launch: %+v", sc)
	}
	id := strconv.FormatInt(sc.ID, 10)
	out = e.ok("scan", "list", "--state", "queued")
	if !strings.Contains(out, "nightly") || !strings.Contains(out, "0/2") {
		t.Errorf("scan list:\n%s", out)
	}
	out = e.ok("scan", "jobs", id)
	if strings.Count(out, "queued") != 2 {
		t.Errorf("scan jobs:\n%s", out)
	}
	out = e.ok("scan", "status", id)
	if !strings.Contains(out, "0 done of 2") {
		t.Errorf("scan status:\n%s", out)
	}
	e.ok("scan", "cancel", id)
	e.json(&sc, "scan", "status", id)
	if sc.State != store.Cancelled {
		t.Errorf("after cancel: %+v", sc)
	}
	var scans []store.Scan
	e.json(&scans, "scan", "list", "--state", "queued")
	if len(scans) != 0 {
		t.Errorf("scan list --state queued after cancel: %+v", scans)
	}
	e.fails([]string{"scan", "launch", "--asset", "nosuch"}, `no asset is named "nosuch"`)
	e.fails([]string{"scan", "launch", "--asset", "9999"}, "asset")

	// Schedules.
	var sch store.Schedule
	e.json(&sch, "scan", "schedule", "--every", "24h", "--start", "2030-01-01T02:00:00Z", "--group", "web")
	if sch.ID == 0 || sch.Every != 24*time.Hour || !sch.Next.Equal(time.Date(2030, 1, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("scan schedule: %+v", sch)
	}
	out = e.ok("scan", "schedules")
	if !strings.Contains(out, " 24h ") {
		t.Errorf("scan schedules:\n%s", out)
	}
	e.ok("scan", "unschedule", strconv.FormatInt(sch.ID, 10))
	var schs []store.Schedule
	e.json(&schs, "scan", "schedules")
	if len(schs) != 0 {
		t.Errorf("after unschedule: %+v", schs)
	}

	// Results and posture: nothing scanned yet, so empty but working.
	var rs []store.Result
	e.json(&rs, "result", "list", "--scan", id)
	e.json(&rs, "posture", "--group", "web", "--status", "fail", "--criticality", "serious")
	if len(rs) != 0 {
		t.Errorf("posture without scans: %+v", rs)
	}
	if out := e.ok("posture"); !strings.HasPrefix(out, "ASSET") {
		t.Errorf("posture table:\n%s", out)
	}

	// Tokens.
	out, stderr, code := e.run("token", "add", "ci", "--role", "operator")
	secretTok := strings.TrimSpace(out)
	if code != 0 || secretTok == "" || !strings.Contains(stderr, "not shown again") {
		t.Fatalf("token add: exit %d %q %q", code, out, stderr)
	}
	var who store.Token
	if out, _, code := run(t, "token", "whoami", "--json", "--server", e.url, "--token", secretTok); code != 0 || json.Unmarshal([]byte(out), &who) != nil || who.Name != "ci" || who.Role != api.RoleOperator {
		t.Errorf("whoami with the new token: exit %d %s", code, out)
	}
	// An operator cannot manage tokens.
	if _, stderr, code := run(t, "token", "list", "--server", e.url, "--token", secretTok); code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("operator token list: exit %d %s", code, stderr)
	}
	var toks []store.Token
	e.json(&toks, "token", "list")
	if len(toks) != 2 || strings.Contains(e.ok("token", "list"), secretTok) {
		t.Errorf("token list: %+v", toks)
	}
	e.ok("token", "revoke", strconv.FormatInt(who.ID, 10))
	if _, stderr, code := run(t, "asset", "list", "--server", e.url, "--token", secretTok); code != 1 || !strings.Contains(stderr, "401") {
		t.Errorf("revoked token: exit %d %s", code, stderr)
	}

	// Deletes, then the audit log.
	e.ok("group", "rm", "web")
	e.fails([]string{"group", "show", "web"}, `no group is named "web"`)
	e.ok("asset", "rm", "db1")
	e.fails([]string{"asset", "show", "db1"}, `no asset is named "db1"`)
	var entries []store.AuditEntry
	e.json(&entries, "audit", "--limit", "1000")
	actions := map[string]bool{}
	for _, en := range entries {
		actions[en.Action] = true
	}
	for _, a := range []string{"asset.create", "asset.update", "asset.delete", "group.create", "scan.cancel", "credential.create", "token.create"} {
		if !actions[a] {
			t.Errorf("audit log lacks %s: %v", a, actions)
		}
	}
	var page []store.AuditEntry
	e.json(&page, "audit", "--limit", "2", "--after", strconv.FormatInt(entries[0].ID, 10))
	if len(page) != 2 || page[0].ID <= entries[0].ID {
		t.Errorf("audit --limit 2 --after: %+v", page)
	}
}
