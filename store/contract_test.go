package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// testStore is the contract every database must keep. open returns a
// fresh, migrated, empty Store for one test.
func testStore(t *testing.T, open func(t testing.TB) *Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *Store)
	}{
		{"Migrate", testMigrate},
		{"Assets", testAssets},
		{"AssetConflicts", testAssetConflicts},
		{"Tags", testTags},
		{"ListAssets", testListAssets},
		{"Pagination", testPagination},
		{"Groups", testGroups},
		{"Policies", testPolicies},
		{"Credentials", testCredentials},
		{"Audit", testAudit},
		{"Queue", testQueue},
		{"ScanStates", testScanStates},
		{"LeaseTakeover", testLeaseTakeover},
		{"IdempotentResults", testIdempotentResults},
		{"ConcurrentClaims", testConcurrentClaims},
		{"LastJobsEndTogether", testLastJobsEndTogether},
		{"MaxAttempts", testMaxAttempts},
		{"Posture", testPosture},
		{"ResultFilters", testResultFilters},
		{"PostureSummary", testPostureSummary},
		{"BulkResults", testBulkResults},
		{"DuplicateFailsWhole", testDuplicateFailsWhole},
		{"Cancel", testCancel},
		{"Schedules", testSchedules},
		{"Tokens", testTokens},
		{"ExceptionRequest", testExceptionRequest},
		{"ExceptionDecisions", testExceptionDecisions},
		{"ListExceptions", testListExceptions},
		{"ExceptionPosture", testExceptionPosture},
		{"ExceptionLog", testExceptionLog},
		{"ExceptionConcurrentLog", testExceptionConcurrentLog},
		{"Snapshots", testSnapshots},
		{"TrendBuckets", testTrendBuckets},
		{"Changes", testChanges},
		{"Weights", testWeights},
		{"SigningKey", testSigningKey},
		{"Scores", testScores},
		{"ScoresByMandate", testScoresByMandate},
		{"PostureCounts", testPostureCounts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantConflict(t testing.TB, err error, field, value string) {
	t.Helper()
	var c *ConflictError
	if !errors.As(err, &c) {
		t.Fatalf("err = %v, want a ConflictError on %s", err, field)
	}
	if c.Field != field || (value != "" && c.Value != value) {
		t.Fatalf("conflict = %s %q, want %s %q", c.Field, c.Value, field, value)
	}
}

func wantNotFound(t testing.TB, err error, mention string) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("err = %v, want it to mention %q", err, mention)
	}
}

func ids[T any](xs []T, id func(T) int64) []int64 {
	out := []int64{}
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

func assetIDs(as []Asset) []int64 { return ids(as, func(a Asset) int64 { return a.ID }) }

func auditActions(t testing.TB, s *Store) []string {
	t.Helper()
	es := must[[]AuditEntry](t)(s.ListAudit(ctx, Page{Limit: 1000}))
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" "+e.Object)
	}
	return out
}

func testMigrate(t *testing.T, s *Store) {
	// Opening again finds the schema current; several opening at once
	// (replicas starting together) all succeed.
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s2, err := Open(ctx, s.dsn)
			if err == nil {
				err = s2.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		check(t, err)
	}
	var n int
	check(t, s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
	ms, err := migrations()
	check(t, err)
	if n != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	if want := map[bool]string{true: "postgres", false: "sqlite"}[strings.HasPrefix(s.dsn, "postgres")]; s.Driver() != want {
		t.Fatalf("Driver() = %q, want %q", s.Driver(), want)
	}
}

func testAssets(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web1", Hostnames: []string{"web1.example.com"},
		Addresses: []string{"10.0.0.1", "10.0.0.1", "fe80::1"}, Tags: []string{"Prod"}}, "alice"))
	if a.ID == 0 || a.Partition != "default" || a.Port != 22 || a.Source != "scanner" || !a.Created.Equal(c.Now()) {
		t.Fatalf("created %+v: want an id and the defaults", a)
	}
	if !slices.Equal(a.Addresses, []string{"10.0.0.1", "fe80::1"}) {
		t.Fatalf("addresses = %v, want duplicates collapsed", a.Addresses)
	}
	got := must[Asset](t)(s.GetAsset(ctx, a.ID))
	if got.Name != "web1" || !slices.Equal(got.Hostnames, a.Hostnames) || !slices.Equal(got.Addresses, a.Addresses) ||
		!slices.Equal(got.Tags, []string{"Prod"}) || got.Created != a.Created || got.Created.Location() != time.UTC {
		t.Fatalf("GetAsset = %+v, want %+v", got, a)
	}
	bare := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "bare"}, "alice"))
	bare = must[Asset](t)(s.GetAsset(ctx, bare.ID))
	if bare.Hostnames == nil || bare.Addresses == nil || bare.Tags == nil {
		t.Fatalf("bare asset %+v: lists must be empty, not nil", bare)
	}

	cred := must[Credential](t)(s.CreateCredential(ctx, Credential{Name: "root", User: "root"}, "alice"))
	upd := must[Asset](t)(s.UpdateAsset(ctx, Asset{ID: a.ID, Name: "web-1", Addresses: []string{"10.0.0.9"},
		Partition: "dmz", Port: 2222, CredentialID: cred.ID, Tags: []string{"prod", "edge"}}, "bob"))
	got = must[Asset](t)(s.GetAsset(ctx, a.ID))
	if got.Name != "web-1" || len(got.Hostnames) != 0 || !slices.Equal(got.Addresses, []string{"10.0.0.9"}) ||
		got.Partition != "dmz" || got.Port != 2222 || got.CredentialID != cred.ID ||
		!slices.Equal(got.Tags, []string{"Prod", "edge"}) || got.Created != a.Created {
		t.Fatalf("after update %+v", got)
	}
	if !slices.Equal(upd.Tags, got.Tags) || upd.Name != got.Name {
		t.Fatalf("UpdateAsset returned %+v, stored %+v", upd, got)
	}
	// The old address is free again.
	must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web2", Addresses: []string{"10.0.0.1"}}, "alice"))

	_, err := s.UpdateAsset(ctx, Asset{ID: 999, Name: "x"}, "bob")
	wantNotFound(t, err, "asset 999")
	_, err = s.CreateAsset(ctx, Asset{Name: "x", CredentialID: 999}, "bob")
	wantNotFound(t, err, "credential_id")
	var inv *InvalidError
	if _, err := s.CreateAsset(ctx, Asset{Name: " "}, "bob"); !errors.As(err, &inv) || inv.Field != "name" {
		t.Fatalf("empty name: err = %v, want an InvalidError on name", err)
	}

	check(t, s.DeleteAsset(ctx, a.ID, "carol"))
	_, err = s.GetAsset(ctx, a.ID)
	wantNotFound(t, err, "asset")
	wantNotFound(t, s.DeleteAsset(ctx, a.ID, "carol"), "asset")
	// Its name and addresses are free again.
	must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web-1", Partition: "dmz", Addresses: []string{"10.0.0.9"}}, "alice"))
}

func testAssetConflicts(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", Addresses: []string{"10.0.0.1"}}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b", Addresses: []string{"10.0.0.2"}}, "x"))
	tests := []struct {
		name   string
		write  func() error
		field  string
		value  string
		wantOK bool
	}{
		{"same name", func() error { _, err := s.CreateAsset(ctx, Asset{Name: "a"}, "x"); return err }, "name", "a", false},
		{"same address same partition", func() error {
			_, err := s.CreateAsset(ctx, Asset{Name: "c", Addresses: []string{"10.0.0.3", "10.0.0.1"}}, "x")
			return err
		}, "addresses", "10.0.0.1", false},
		{"same address explicit default partition", func() error {
			_, err := s.CreateAsset(ctx, Asset{Name: "c", Partition: "default", Addresses: []string{"10.0.0.1"}}, "x")
			return err
		}, "addresses", "10.0.0.1", false},
		{"update to a taken name", func() error {
			_, err := s.UpdateAsset(ctx, Asset{ID: b.ID, Name: "a"}, "x")
			return err
		}, "name", "a", false},
		{"update to a taken address", func() error {
			_, err := s.UpdateAsset(ctx, Asset{ID: b.ID, Name: "b", Addresses: []string{"10.0.0.1"}}, "x")
			return err
		}, "addresses", "10.0.0.1", false},
		{"update keeping its own name and address", func() error {
			_, err := s.UpdateAsset(ctx, Asset{ID: a.ID, Name: "a", Addresses: []string{"10.0.0.1"}}, "x")
			return err
		}, "", "", true},
		{"same address other partition", func() error {
			_, err := s.CreateAsset(ctx, Asset{Name: "d", Partition: "lab", Addresses: []string{"10.0.0.1"}}, "x")
			return err
		}, "", "", true},
	}
	for _, tt := range tests {
		err := tt.write()
		if tt.wantOK {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		wantConflict(t, err, tt.field, tt.value)
	}
	// Nothing of a refused write was stored.
	as := must[[]Asset](t)(s.ListAssets(ctx, AssetFilter{}))
	if len(as) != 3 {
		t.Fatalf("%d assets, want 3 (a, b, d)", len(as))
	}
	if got := must[Asset](t)(s.GetAsset(ctx, b.ID)); got.Name != "b" || !slices.Equal(got.Addresses, []string{"10.0.0.2"}) {
		t.Fatalf("refused update changed b: %+v", got)
	}
}

func testTags(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", Tags: []string{"Prod", "web", "WEB"}}, "x"))
	if !slices.Equal(a.Tags, []string{"Prod", "web"}) {
		t.Fatalf("tags = %v, want duplicates collapsed to the first", a.Tags)
	}
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b", Tags: []string{"PROD", "Db", "prod"}}, "x"))
	if !slices.Equal(b.Tags, []string{"Prod", "Db"}) {
		t.Fatalf("tags = %v, want [Prod Db]: the first spelling stored wins", b.Tags)
	}
	// The first spelling wins even after every asset that used it is gone.
	check(t, s.DeleteAsset(ctx, a.ID, "x"))
	check(t, s.DeleteAsset(ctx, b.ID, "x"))
	c := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "c", Tags: []string{"prod", "WEB"}}, "x"))
	if got := must[Asset](t)(s.GetAsset(ctx, c.ID)); !slices.Equal(got.Tags, []string{"Prod", "web"}) {
		t.Fatalf("tags = %v, want [Prod web]", got.Tags)
	}
	for _, q := range []string{"prod", "PROD", "Prod"} {
		got := must[[]Asset](t)(s.ListAssets(ctx, AssetFilter{Tag: q}))
		if !slices.Equal(assetIDs(got), []int64{c.ID}) {
			t.Fatalf("Tag %q: %v, want [%d]", q, assetIDs(got), c.ID)
		}
	}
}

func testListAssets(t *testing.T, s *Store) {
	mk := func(a Asset) int64 { return must[Asset](t)(s.CreateAsset(ctx, a, "x")).ID }
	web := mk(Asset{Name: "web", Addresses: []string{"10.0.0.1"}, Tags: []string{"prod", "web"}})
	db := mk(Asset{Name: "db", Addresses: []string{"10.0.0.2"}, Tags: []string{"Prod", "db"}})
	lab := mk(Asset{Name: "lab", Partition: "lab", Addresses: []string{"10.0.0.1"}, Tags: []string{"web"}})
	none := mk(Asset{Name: "none"})
	// Technology comes from a scan.
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{db}, "x"))
	j, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: "debian-12"}))
	_ = sc
	staticGroup := must[Group](t)(s.CreateGroup(ctx, Group{Name: "static", Members: []int64{none, lab}}, "x"))
	tagGroup := must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod web", MatchTags: []string{"PROD", "Web"}}, "x"))
	mixed := must[Group](t)(s.CreateGroup(ctx, Group{Name: "mixed", Members: []int64{none}, MatchTags: []string{"db"}}, "x"))
	empty := must[Group](t)(s.CreateGroup(ctx, Group{Name: "empty"}, "x"))

	tests := []struct {
		name string
		f    AssetFilter
		want []int64
	}{
		{"all", AssetFilter{}, []int64{web, db, lab, none}},
		{"name", AssetFilter{Name: "db"}, []int64{db}},
		{"name is exact", AssetFilter{Name: "DB"}, []int64{}},
		{"tag any case", AssetFilter{Tag: "PROD"}, []int64{web, db}},
		{"unknown tag", AssetFilter{Tag: "nope"}, []int64{}},
		{"technology", AssetFilter{Technology: "debian-12"}, []int64{db}},
		{"partition", AssetFilter{Partition: "lab"}, []int64{lab}},
		{"address", AssetFilter{Address: "10.0.0.1"}, []int64{web, lab}},
		{"address and partition", AssetFilter{Address: "10.0.0.1", Partition: "default"}, []int64{web}},
		{"static group", AssetFilter{Group: staticGroup.ID}, []int64{lab, none}},
		{"group needs every tag", AssetFilter{Group: tagGroup.ID}, []int64{web}},
		{"members or tags", AssetFilter{Group: mixed.ID}, []int64{db, none}},
		{"group with neither matches nothing", AssetFilter{Group: empty.ID}, []int64{}},
		{"filters combine", AssetFilter{Tag: "web", Partition: "default"}, []int64{web}},
	}
	for _, tt := range tests {
		got, err := s.ListAssets(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got == nil || !slices.Equal(assetIDs(got), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, assetIDs(got), tt.want)
		}
	}
	_, err = s.ListAssets(ctx, AssetFilter{Group: 999})
	wantNotFound(t, err, "group 999")
}

func testPagination(t *testing.T, s *Store) {
	var all []int64
	for i := range 105 {
		all = append(all, must[Asset](t)(s.CreateAsset(ctx, Asset{Name: fmt.Sprintf("a%03d", i)}, "x")).ID)
	}
	if got := must[[]Asset](t)(s.ListAssets(ctx, AssetFilter{})); len(got) != 100 {
		t.Fatalf("default page has %d, want 100", len(got))
	}
	var got []int64
	var p Page
	p.Limit = 20
	for {
		page := must[[]Asset](t)(s.ListAssets(ctx, AssetFilter{Page: p}))
		if len(page) == 0 {
			break
		}
		if len(page) > 20 {
			t.Fatalf("page of %d, limit 20", len(page))
		}
		got = append(got, assetIDs(page)...)
		p.After = page[len(page)-1].ID
	}
	if !slices.Equal(got, all) {
		t.Fatalf("pages give %v, want %v", got, all)
	}
	for _, tt := range []struct{ in, want int }{{0, 100}, {-1, 100}, {5, 5}, {1000, 1000}, {5000, 1000}} {
		if got := (Page{Limit: tt.in}).limit(); got != tt.want {
			t.Errorf("Page{Limit: %d}.limit() = %d, want %d", tt.in, got, tt.want)
		}
	}
	audit := must[[]AuditEntry](t)(s.ListAudit(ctx, Page{Limit: 50, After: 100}))
	if len(audit) != 5 || audit[0].ID != 101 {
		t.Fatalf("audit page after 100: %d entries from %d", len(audit), audit[0].ID)
	}
}

func testGroups(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", Tags: []string{"Linux"}}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b"}, "x"))
	g := must[Group](t)(s.CreateGroup(ctx, Group{Name: "g", Description: "d", Members: []int64{b.ID, a.ID, b.ID},
		MatchTags: []string{"linux"}, Policies: []string{"cis-debian"}}, "x"))
	got := must[Group](t)(s.GetGroup(ctx, g.ID))
	if !slices.Equal(got.Members, []int64{a.ID, b.ID}) || !slices.Equal(got.MatchTags, []string{"Linux"}) ||
		!slices.Equal(got.Policies, []string{"cis-debian"}) || got.Description != "d" || got.Created != g.Created {
		t.Fatalf("GetGroup = %+v", got)
	}
	_, err := s.CreateGroup(ctx, Group{Name: "g"}, "x")
	wantConflict(t, err, "name", "g")
	_, err = s.CreateGroup(ctx, Group{Name: "h", Members: []int64{a.ID, 999}}, "x")
	wantNotFound(t, err, "members")
	if gs := must[[]Group](t)(s.ListGroups(ctx, Page{})); len(gs) != 1 {
		t.Fatalf("a refused group was stored: %+v", gs)
	}

	check(t, s.DeleteAsset(ctx, b.ID, "x"))
	got = must[Group](t)(s.GetGroup(ctx, g.ID))
	if !slices.Equal(got.Members, []int64{a.ID}) {
		t.Fatalf("members after deleting b: %v", got.Members)
	}
	h := must[Group](t)(s.CreateGroup(ctx, Group{Name: "h"}, "x"))
	upd := must[Group](t)(s.UpdateGroup(ctx, Group{ID: g.ID, Name: "g2", Policies: []string{}}, "x"))
	if upd.Name != "g2" || len(upd.Members) != 0 || len(upd.MatchTags) != 0 || upd.Created != g.Created {
		t.Fatalf("UpdateGroup = %+v", upd)
	}
	_, err = s.UpdateGroup(ctx, Group{ID: g.ID, Name: "h"}, "x")
	wantConflict(t, err, "name", "h")
	gs := must[[]Group](t)(s.ListGroups(ctx, Page{}))
	if len(gs) != 2 || gs[0].Name != "g2" || gs[1].ID != h.ID || gs[1].Members == nil {
		t.Fatalf("ListGroups = %+v", gs)
	}
	check(t, s.DeleteGroup(ctx, g.ID, "x"))
	_, err = s.GetGroup(ctx, g.ID)
	wantNotFound(t, err, "group")
	if _, err := s.GetAsset(ctx, a.ID); err != nil {
		t.Fatalf("deleting a group deleted its asset: %v", err)
	}
}

func testPolicies(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	p1 := must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Title: "CIS", Source: "builtin", Body: []byte(`{"v":1}`)}, "alice"))
	if p1.Version != 1 || p1.CreatedBy != "alice" || !p1.Created.Equal(c.Now()) {
		t.Fatalf("first put = %+v", p1)
	}
	c.Add(time.Hour)
	same := must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Title: "CIS", Body: []byte(`{"v":1}`)}, "bob"))
	if same.Version != 1 || same.CreatedBy != "alice" || same.Created != p1.Created {
		t.Fatalf("same body stored a new version: %+v", same)
	}
	p2 := must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Title: "CIS v2", Body: []byte(`{"v":2}`)}, "bob"))
	if p2.Version != 2 {
		t.Fatalf("changed body: version %d, want 2", p2.Version)
	}
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "aaa", Title: "A", Body: []byte(`{}`)}, "bob"))
	if got := must[Policy](t)(s.GetPolicy(ctx, "cis", 0)); got.Version != 2 || string(got.Body) != `{"v":2}` || got.Title != "CIS v2" {
		t.Fatalf("latest = %+v", got)
	}
	if got := must[Policy](t)(s.GetPolicy(ctx, "cis", 1)); got.Version != 1 || string(got.Body) != `{"v":1}` || got.Source != "builtin" {
		t.Fatalf("version 1 = %+v", got)
	}
	_, err := s.GetPolicy(ctx, "cis", 3)
	wantNotFound(t, err, "cis")
	_, err = s.GetPolicy(ctx, "nope", 0)
	wantNotFound(t, err, "nope")
	ps := must[[]Policy](t)(s.ListPolicies(ctx))
	if len(ps) != 2 || ps[0].ID != "aaa" || ps[1].ID != "cis" || ps[1].Version != 2 {
		t.Fatalf("ListPolicies = %+v", ps)
	}
	vs := must[[]Policy](t)(s.PolicyVersions(ctx, "cis"))
	if len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
		t.Fatalf("PolicyVersions = %+v", vs)
	}
	_, err = s.PolicyVersions(ctx, "nope")
	wantNotFound(t, err, "nope")
	if got := auditActions(t, s); !slices.Equal(got, []string{"policy.put policy/cis", "policy.put policy/cis", "policy.put policy/aaa"}) {
		t.Fatalf("audit = %v: an unchanged put writes no entry", got)
	}

	// Replicas putting the same new body at once store one version.
	var wg sync.WaitGroup
	s2 := reopen(t, s)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := []*Store{s, s2}[i%2]
			if _, err := st.PutPolicy(ctx, Policy{ID: "cis", Body: []byte(`{"v":3}`)}, "x"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if vs := must[[]Policy](t)(s.PolicyVersions(ctx, "cis")); len(vs) != 3 {
		t.Fatalf("%d versions after concurrent puts of one body, want 3", len(vs))
	}
}

func testCredentials(t *testing.T, s *Store) {
	sealed := []byte{0, 1, 2, 0xff, 'x'}
	c := must[Credential](t)(s.CreateCredential(ctx, Credential{Name: "root", Kind: "ssh", User: "root", Sudo: true, Sealed: sealed}, "x"))
	got := must[Credential](t)(s.GetCredential(ctx, c.ID))
	if got.Name != "root" || got.User != "root" || !got.Sudo || string(got.Sealed) != string(sealed) || got.Kind != "ssh" {
		t.Fatalf("GetCredential = %+v", got)
	}
	_, err := s.CreateCredential(ctx, Credential{Name: "root"}, "x")
	wantConflict(t, err, "name", "root")
	list := must[[]Credential](t)(s.ListCredentials(ctx, Page{}))
	if len(list) != 1 || list[0].Sealed != nil || list[0].Name != "root" {
		t.Fatalf("ListCredentials = %+v: one, without its secrets", list)
	}

	// Deleting a credential still in use clears the references.
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", CredentialID: c.ID}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{CredentialID: c.ID}, []int64{a.ID}, "x"))
	sch := must[Schedule](t)(s.CreateSchedule(ctx, Schedule{Every: time.Hour, CredentialID: c.ID}, "x"))
	check(t, s.DeleteCredential(ctx, c.ID, "x"))
	_, err = s.GetCredential(ctx, c.ID)
	wantNotFound(t, err, "credential")
	wantNotFound(t, s.DeleteCredential(ctx, c.ID, "x"), "credential")
	if got := must[Asset](t)(s.GetAsset(ctx, a.ID)); got.CredentialID != 0 {
		t.Fatalf("asset credential = %d after delete, want 0", got.CredentialID)
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.CredentialID != 0 {
		t.Fatalf("scan credential = %d after delete, want 0", got.CredentialID)
	}
	if got := must[[]Schedule](t)(s.ListSchedules(ctx, Page{})); got[0].ID != sch.ID || got[0].CredentialID != 0 {
		t.Fatalf("schedule credential = %d after delete, want 0", got[0].CredentialID)
	}
}

func testAudit(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", Addresses: []string{"10.0.0.1"}}, "alice"))
	// Refused writes leave no entry: the entry and the data share a
	// transaction.
	_, err := s.CreateAsset(ctx, Asset{Name: "b", Addresses: []string{"10.0.0.1"}}, "mallory")
	wantConflict(t, err, "addresses", "10.0.0.1")
	_, err = s.CreateGroup(ctx, Group{Name: "g", Members: []int64{a.ID, 42}}, "mallory")
	wantNotFound(t, err, "members")
	must[Asset](t)(s.UpdateAsset(ctx, Asset{ID: a.ID, Name: "a2"}, "bob"))
	g := must[Group](t)(s.CreateGroup(ctx, Group{Name: "g"}, "bob"))
	must[Group](t)(s.UpdateGroup(ctx, Group{ID: g.ID, Name: "g2"}, "bob"))
	check(t, s.DeleteGroup(ctx, g.ID, "bob"))
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "p", Body: []byte("x")}, "bob"))
	cr := must[Credential](t)(s.CreateCredential(ctx, Credential{Name: "c"}, "bob"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "bob"))
	check(t, s.CancelScan(ctx, sc.ID, "bob"))
	sch := must[Schedule](t)(s.CreateSchedule(ctx, Schedule{Every: time.Hour}, "bob"))
	check(t, s.DeleteSchedule(ctx, sch.ID, "bob"))
	tok := must[Token](t)(s.CreateToken(ctx, Token{Name: "ci", Role: "admin", Hash: "h"}, "bob"))
	check(t, s.RevokeToken(ctx, tok.ID, "bob"))
	check(t, s.DeleteCredential(ctx, cr.ID, "bob"))
	check(t, s.DeleteAsset(ctx, a.ID, "carol"))

	obj := func(kind string, id int64) string { return fmt.Sprintf("%s/%d", kind, id) }
	want := []string{
		"asset.create " + obj("asset", a.ID),
		"asset.update " + obj("asset", a.ID),
		"group.create " + obj("group", g.ID),
		"group.update " + obj("group", g.ID),
		"group.delete " + obj("group", g.ID),
		"policy.put policy/p",
		"credential.create " + obj("credential", cr.ID),
		"scan.create " + obj("scan", sc.ID),
		"scan.cancel " + obj("scan", sc.ID),
		"schedule.create " + obj("schedule", sch.ID),
		"schedule.delete " + obj("schedule", sch.ID),
		"token.create " + obj("token", tok.ID),
		"token.revoke " + obj("token", tok.ID),
		"credential.delete " + obj("credential", cr.ID),
		"asset.delete " + obj("asset", a.ID),
	}
	if got := auditActions(t, s); !slices.Equal(got, want) {
		t.Fatalf("audit:\n got %q\nwant %q", got, want)
	}
	es := must[[]AuditEntry](t)(s.ListAudit(ctx, Page{}))
	if es[0].Actor != "alice" || es[0].Detail == "" || !es[0].Time.Equal(c.Now()) || es[len(es)-1].Actor != "carol" {
		t.Fatalf("entries %+v", es)
	}
}

// results makes n results of policy p, controls 1..n, all with status st.
func results(p string, n int, st result.Status, at time.Time) []Result {
	var out []Result
	for i := 1; i <= n; i++ {
		out = append(out, Result{Policy: p, Result: result.Result{
			CID: i, Title: fmt.Sprintf("control %d", i), Category: "ssh", Criticality: policy.Criticality(1 + i%5),
			Status: st, Expected: "no", Actual: []string{"yes", "/etc/ssh/sshd_config:12"}, Method: "scanner",
			Time: at, References: map[string][]string{"cis": {fmt.Sprintf("5.2.%d", i)}}, Remediation: "fix it",
		}})
	}
	return out
}

func testQueue(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b"}, "x"))
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Body: []byte("1")}, "x"))
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Body: []byte("2")}, "x"))
	_, err := s.CreateScan(ctx, Scan{}, []int64{a.ID, 999}, "x")
	wantNotFound(t, err, "assets")
	if scans := must[[]Scan](t)(s.ListScans(ctx, ScanFilter{})); len(scans) != 0 {
		t.Fatalf("a refused scan was stored: %+v", scans)
	}
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{Name: "nightly", Policies: []string{"cis"}}, []int64{a.ID, b.ID, a.ID}, "alice"))
	if sc.State != Queued || sc.Jobs != 2 || sc.CreatedBy != "alice" || !slices.Equal(sc.Assets, []int64{a.ID, b.ID}) {
		t.Fatalf("CreateScan = %+v", sc)
	}
	jobs := must[[]Job](t)(s.ListJobs(ctx, sc.ID))
	if len(jobs) != 2 || jobs[0].AssetID != a.ID || jobs[0].State != Queued || jobs[0].Attempt != 0 {
		t.Fatalf("jobs = %+v", jobs)
	}

	j1, ok, err := s.ClaimJob(ctx, "w1", time.Minute)
	check(t, err)
	if !ok || j1.ID != jobs[0].ID || j1.State != Running || j1.Attempt != 1 || j1.Worker != "w1" ||
		!j1.LeaseUntil.Equal(c.Now().Add(time.Minute)) || !j1.Started.Equal(c.Now()) {
		t.Fatalf("claim = %+v %v", j1, ok)
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != Running || !got.Started.Equal(c.Now()) {
		t.Fatalf("scan after first claim = %+v", got)
	}
	c.Add(30 * time.Second)
	check(t, s.RenewLease(ctx, j1.ID, j1.Attempt, 5*time.Minute))
	if got := must[Job](t)(s.GetJob(ctx, j1.ID)); !got.LeaseUntil.Equal(c.Now().Add(5 * time.Minute)) {
		t.Fatalf("lease after renew = %v", got.LeaseUntil)
	}
	if err := s.RenewLease(ctx, j1.ID, j1.Attempt+1, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renew with a wrong attempt: %v, want ErrLeaseLost", err)
	}
	wantNotFound(t, s.RenewLease(ctx, 999, 1, time.Minute), "job 999")

	j2, ok, err := s.ClaimJob(ctx, "w2", time.Minute)
	check(t, err)
	if !ok || j2.ID != jobs[1].ID {
		t.Fatalf("second claim = %+v %v", j2, ok)
	}
	if _, ok, err := s.ClaimJob(ctx, "w3", time.Minute); err != nil || ok {
		t.Fatalf("third claim: ok %v err %v, want nothing to do", ok, err)
	}

	c.Add(time.Second)
	check(t, s.CompleteJob(ctx, j1.ID, j1.Attempt, JobOutcome{Technology: "debian-12", Results: results("cis", 3, result.Pass, c.Now())}))
	got := must[Scan](t)(s.GetScan(ctx, sc.ID))
	if got.State != Running || got.Done != 1 || got.Failures != 0 || got.Jobs != 2 {
		t.Fatalf("scan after one job = %+v", got)
	}
	asset := must[Asset](t)(s.GetAsset(ctx, a.ID))
	if asset.Technology != "debian-12" || !asset.FirstSeen.Equal(c.Now()) || !asset.LastSeen.Equal(c.Now()) {
		t.Fatalf("asset after scan = %+v", asset)
	}
	rs := must[[]Result](t)(s.ListResults(ctx, ResultFilter{Scan: sc.ID}))
	if len(rs) != 3 {
		t.Fatalf("%d results, want 3", len(rs))
	}
	r := rs[0]
	want := results("cis", 1, result.Pass, c.Now())[0]
	if r.ScanID != sc.ID || r.JobID != j1.ID || r.AssetID != a.ID || r.PolicyVersion != 2 || r.CID != 1 ||
		r.Title != want.Title || r.Status != result.Pass || !slices.Equal(r.Actual, want.Actual) ||
		r.References["cis"][0] != "5.2.1" || !r.Time.Equal(c.Now()) || r.Criticality != want.Criticality ||
		r.Remediation != "fix it" || r.Method != "scanner" || r.Expected != "no" {
		t.Fatalf("stored result %+v", r)
	}
	if err := s.CompleteJob(ctx, j1.ID, j1.Attempt, JobOutcome{}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("completing twice: %v, want ErrLeaseLost", err)
	}
	wantNotFound(t, s.CompleteJob(ctx, 999, 1, JobOutcome{}), "job 999")

	c.Add(time.Second)
	check(t, s.CompleteJob(ctx, j2.ID, j2.Attempt, JobOutcome{Error: "auth_failed: permission denied",
		Results: results("cis", 2, result.Error, c.Now())}))
	got = must[Scan](t)(s.GetScan(ctx, sc.ID))
	if got.State != Finished || got.Done != 2 || got.Failures != 1 || !got.Finished.Equal(c.Now()) {
		t.Fatalf("scan after every job = %+v", got)
	}
	jb := must[Job](t)(s.GetJob(ctx, j2.ID))
	if jb.State != Failed || jb.Error != "auth_failed: permission denied" || !jb.Finished.Equal(c.Now()) || jb.LeaseUntil != nil {
		t.Fatalf("failed job = %+v", jb)
	}
	if asset := must[Asset](t)(s.GetAsset(ctx, b.ID)); asset.FirstSeen != nil || asset.LastSeen != nil {
		t.Fatalf("an unreachable asset was seen: %+v", asset)
	}
	_, err = s.ListJobs(ctx, 999)
	wantNotFound(t, err, "scan 999")
	_, err = s.GetScan(ctx, 999)
	wantNotFound(t, err, "scan 999")
}

func testScanStates(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b"}, "x"))
	// Every job failed: the scan failed.
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID, b.ID}, "x"))
	for range 2 {
		j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Error: "unreachable"}))
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != Failed || got.Failures != 2 || got.Finished == nil {
		t.Fatalf("scan = %+v, want failed", got)
	}
	// No assets: nothing to wait for.
	empty := must[Scan](t)(s.CreateScan(ctx, Scan{}, nil, "x"))
	if got := must[Scan](t)(s.GetScan(ctx, empty.ID)); got.State != Finished || got.Jobs != 0 || got.Finished == nil {
		t.Fatalf("empty scan = %+v, want finished", got)
	}
	queued := must[Scan](t)(s.CreateScan(ctx, Scan{Groups: []int64{7}}, []int64{a.ID}, "x"))
	if len(queued.Assets) != 0 || !slices.Equal(queued.Groups, []int64{7}) {
		t.Fatalf("scan of a group records %v %v", queued.Assets, queued.Groups)
	}
	for _, tt := range []struct {
		state string
		want  []int64
	}{{Failed, []int64{sc.ID}}, {Finished, []int64{empty.ID}}, {Queued, []int64{queued.ID}}, {"", []int64{sc.ID, empty.ID, queued.ID}}} {
		got := must[[]Scan](t)(s.ListScans(ctx, ScanFilter{State: tt.state}))
		if !slices.Equal(ids(got, func(s Scan) int64 { return s.ID }), tt.want) {
			t.Errorf("ListScans(%q) = %+v, want %v", tt.state, got, tt.want)
		}
	}
}

func testLeaseTakeover(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	old, ok, err := s.ClaimJob(ctx, "dead", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	c.Add(59 * time.Second)
	if _, ok, _ := s.ClaimJob(ctx, "w2", time.Minute); ok {
		t.Fatal("a job under a live lease was handed out again")
	}
	c.Add(2 * time.Second)
	j, ok, err := s.ClaimJob(ctx, "w2", time.Minute)
	if err != nil || !ok || j.ID != old.ID || j.Attempt != 2 || j.Worker != "w2" || !j.Started.Equal(*old.Started) {
		t.Fatalf("takeover = %+v %v %v", j, ok, err)
	}
	if err := s.RenewLease(ctx, old.ID, old.Attempt, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale renew: %v, want ErrLeaseLost", err)
	}
	err = s.CompleteJob(ctx, old.ID, old.Attempt, JobOutcome{Technology: "rhel-9", Results: results("p", 5, result.Fail, c.Now())})
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale complete: %v, want ErrLeaseLost", err)
	}
	if rs := must[[]Result](t)(s.ListResults(ctx, ResultFilter{})); len(rs) != 0 {
		t.Fatalf("a stale attempt stored %d results", len(rs))
	}
	if p := must[[]Result](t)(s.Posture(ctx, ResultFilter{})); len(p) != 0 {
		t.Fatalf("a stale attempt stored %d posture rows", len(p))
	}
	if got := must[Asset](t)(s.GetAsset(ctx, a.ID)); got.Technology != "" || got.LastSeen != nil {
		t.Fatalf("a stale attempt changed the asset: %+v", got)
	}
	if got := must[Job](t)(s.GetJob(ctx, j.ID)); got.State != Running || got.Attempt != 2 {
		t.Fatalf("a stale attempt changed the job: %+v", got)
	}
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: results("p", 5, result.Fail, c.Now())}))
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != Finished {
		t.Fatalf("scan = %+v", got)
	}
}

func testIdempotentResults(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	j, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	rs := results("p", 3, result.Pass, time.Now())
	rs = append(rs, rs...) // a worker that sent its batch twice
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: rs}))
	if got := must[[]Result](t)(s.ListResults(ctx, ResultFilter{})); len(got) != 3 {
		t.Fatalf("%d results stored, want 3", len(got))
	}
	if got := must[[]Result](t)(s.Posture(ctx, ResultFilter{})); len(got) != 3 {
		t.Fatalf("%d posture rows, want 3", len(got))
	}
}

func testConcurrentClaims(t *testing.T, s *Store) {
	const jobs, workers = 120, 16
	var as []int64
	for i := range jobs {
		as = append(as, must[Asset](t)(s.CreateAsset(ctx, Asset{Name: fmt.Sprint(i)}, "x")).ID)
	}
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, as, "x"))
	// Two Stores on one database: two server processes (or replicas).
	stores := []*Store{s, reopen(t, s)}
	var mu sync.Mutex
	claimed := map[int64]string{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[w%2]
			name := fmt.Sprintf("w%d", w)
			for {
				j, ok, err := st.ClaimJob(ctx, name, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				if prev, dup := claimed[j.ID]; dup {
					t.Errorf("job %d handed to %s and %s", j.ID, prev, name)
				}
				claimed[j.ID] = name
				mu.Unlock()
				if err := st.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: results("p", 5, result.Pass, time.Now())}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(claimed) != jobs {
		t.Fatalf("%d jobs claimed, want %d", len(claimed), jobs)
	}
	got := must[Scan](t)(s.GetScan(ctx, sc.ID))
	if got.State != Finished || got.Done != jobs {
		t.Fatalf("scan = %+v: the last job to finish must end the scan", got)
	}
}

// testLastJobsEndTogether ends the last jobs of many scans at the same
// moment, from two Stores (two servers), in every mix of outcomes: one of
// them must end each scan, and the scan is failed exactly when every job
// failed.
func testLastJobsEndTogether(t *testing.T, s *Store) {
	const scans, perScan = 12, 3
	var as []int64
	for i := range perScan {
		as = append(as, must[Asset](t)(s.CreateAsset(ctx, Asset{Name: fmt.Sprint(i)}, "x")).ID)
	}
	stores := []*Store{s, reopen(t, s)}
	for round := range scans {
		sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, as, "x"))
		var jobs []Job
		for range perScan {
			j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			jobs = append(jobs, j)
		}
		// Round r fails the jobs whose bit is set in r: all fail in some
		// rounds, none in others.
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := JobOutcome{Results: results("p", 20, result.Pass, time.Now())}
				if round>>i&1 == 1 {
					out = JobOutcome{Error: "unreachable"}
				}
				<-start
				if err := stores[i%2].CompleteJob(ctx, j.ID, j.Attempt, out); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		want := Finished
		if round&(1<<perScan-1) == 1<<perScan-1 {
			want = Failed
		}
		if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != want || got.Done != perScan || got.Finished == nil {
			t.Fatalf("round %d: scan = %+v, want %s: the last job to end must end the scan", round, got, want)
		}
	}
}

// testMaxAttempts: a job whose lease expires under its last allowed
// attempt is failed, not handed out again, and ends its scan when it was
// the last open job.
func testMaxAttempts(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b"}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	for attempt := 1; attempt <= DefaultMaxAttempts; attempt++ {
		j, ok, err := s.ClaimJob(ctx, fmt.Sprintf("w%d", attempt), time.Minute)
		if err != nil || !ok || j.Attempt != attempt {
			t.Fatalf("claim %d = %+v %v %v", attempt, j, ok, err)
		}
		c.Add(2 * time.Minute) // the worker died
	}
	// Another scan's job waits behind the abandoned one.
	other := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{b.ID}, "x"))
	j, ok, err := s.ClaimJob(ctx, "w4", time.Minute)
	check(t, err)
	if !ok || j.ScanID != other.ID {
		t.Fatalf("claim after the last attempt = %+v %v, want the job of scan %d", j, ok, other.ID)
	}
	jobs := must[[]Job](t)(s.ListJobs(ctx, sc.ID))
	want := fmt.Sprintf("abandoned after %d attempts: each worker stopped renewing its lease", DefaultMaxAttempts)
	if len(jobs) != 1 || jobs[0].State != Failed || jobs[0].Error != want || jobs[0].LeaseUntil != nil ||
		!jobs[0].Finished.Equal(c.Now()) || jobs[0].Attempt != DefaultMaxAttempts {
		t.Fatalf("abandoned job = %+v", jobs)
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != Failed || got.Failures != 1 || !got.Finished.Equal(c.Now()) {
		t.Fatalf("scan of the abandoned job = %+v, want failed", got)
	}
	// The last worker may still report: too late.
	if err := s.CompleteJob(ctx, jobs[0].ID, DefaultMaxAttempts, JobOutcome{}); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("completing an abandoned job: %v, want ErrLeaseLost", err)
	}

	// A Store's own limit; a scan with other jobs ended stays open until
	// its last, and then finishes (not every job failed).
	check(t, s.RenewLease(ctx, j.ID, j.Attempt, 24*time.Hour)) // its worker lives
	s.MaxAttempts = 1
	c.Add(time.Hour)
	sc2 := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	j2, ok, err := s.ClaimJob(ctx, "w5", time.Minute)
	if err != nil || !ok || j2.ScanID != sc2.ID {
		t.Fatalf("claim = %+v %v %v", j2, ok, err)
	}
	c.Add(2 * time.Minute)
	if _, ok, err := s.ClaimJob(ctx, "w6", time.Minute); err != nil || ok {
		t.Fatalf("claim after one expired attempt: ok %v err %v, want nothing to do", ok, err)
	}
	if got := must[Job](t)(s.GetJob(ctx, j2.ID)); got.State != Failed ||
		got.Error != "abandoned after 1 attempts: each worker stopped renewing its lease" {
		t.Fatalf("job = %+v", got)
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc2.ID)); got.State != Failed {
		t.Fatalf("scan = %+v, want failed", got)
	}
	if got := must[Scan](t)(s.GetScan(ctx, other.ID)); got.State != Running {
		t.Fatalf("scan with a live job = %+v, want running", got)
	}
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: results("p", 2, result.Pass, c.Now())}))
	if got := must[Scan](t)(s.GetScan(ctx, other.ID)); got.State != Finished {
		t.Fatalf("scan = %+v, want finished", got)
	}
}

func testPosture(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	run := func(at time.Time, st result.Status) Scan {
		t.Helper()
		sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
		j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: results("p", 2, st, at)}))
		return sc
	}
	t0 := c.Now()
	first := run(t0.Add(time.Hour), result.Fail)
	// A later scan with older results (a late agent upload) does not
	// replace newer posture.
	run(t0, result.Pass)
	p := must[[]Result](t)(s.Posture(ctx, ResultFilter{}))
	if len(p) != 2 || p[0].Status != result.Fail || p[0].ScanID != first.ID || !p[0].Time.Equal(t0.Add(time.Hour)) {
		t.Fatalf("posture = %+v, want the newer fail of scan %d", p, first.ID)
	}
	// A newer result replaces it, and the ID is that result's.
	third := run(t0.Add(2*time.Hour), result.Pass)
	p = must[[]Result](t)(s.Posture(ctx, ResultFilter{}))
	rs := must[[]Result](t)(s.ListResults(ctx, ResultFilter{Scan: third.ID}))
	if len(p) != 2 || p[0].Status != result.Pass || p[0].ScanID != third.ID || p[0].ID != rs[0].ID || p[1].ID != rs[1].ID {
		t.Fatalf("posture = %+v, want the results %d and %d of scan %d", p, rs[0].ID, rs[1].ID, third.ID)
	}
	if got := must[[]Result](t)(s.ListResults(ctx, ResultFilter{})); len(got) != 6 {
		t.Fatalf("history holds %d results, want 6", len(got))
	}
	// An equal time replaces too: the later scan wins.
	fourth := run(t0.Add(2*time.Hour), result.Fail)
	if p := must[[]Result](t)(s.Posture(ctx, ResultFilter{})); p[0].ScanID != fourth.ID {
		t.Fatalf("posture kept scan %d over scan %d with the same time", p[0].ScanID, fourth.ID)
	}
	// A deleted asset has no posture.
	check(t, s.DeleteAsset(ctx, a.ID, "x"))
	if p := must[[]Result](t)(s.Posture(ctx, ResultFilter{})); len(p) != 0 {
		t.Fatalf("posture of a deleted asset: %+v", p)
	}
}

func testResultFilters(t *testing.T, s *Store) {
	deb := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "deb", Tags: []string{"prod"}}, "x"))
	rh := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "rh"}, "x"))
	g := must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod", MatchTags: []string{"Prod"}}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{deb.ID, rh.ID}, "x"))
	now := time.Now()
	for range 2 {
		j, _, err := s.ClaimJob(ctx, "w", time.Minute)
		check(t, err)
		out := JobOutcome{Technology: "debian-12", Results: append(results("cis", 5, result.Pass, now), results("stig", 5, result.Fail, now)...)}
		if j.AssetID == rh.ID {
			out.Technology = "rhel-9"
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, out))
	}
	// Criticality of control i is 1 + i%5: controls 1..5 -> 2,3,4,5,1.
	tests := []struct {
		name string
		f    ResultFilter
		want int
	}{
		{"all", ResultFilter{}, 20},
		{"scan", ResultFilter{Scan: sc.ID}, 20},
		{"other scan", ResultFilter{Scan: sc.ID + 1}, 0},
		{"asset", ResultFilter{Asset: deb.ID}, 10},
		{"group", ResultFilter{Group: g.ID}, 10},
		{"policy", ResultFilter{Policy: "stig"}, 10},
		{"technology", ResultFilter{Technology: "rhel-9"}, 10},
		{"status", ResultFilter{Status: "fail"}, 10},
		{"cid", ResultFilter{CID: 3}, 4},
		{"criticality at least", ResultFilter{Criticality: 4}, 8},
		{"combined", ResultFilter{Asset: deb.ID, Policy: "cis", Criticality: 5}, 1},
		{"page", ResultFilter{Page: Page{Limit: 7}}, 7},
	}
	for _, tt := range tests {
		for _, q := range []struct {
			name string
			fn   func(context.Context, ResultFilter) ([]Result, error)
		}{{"ListResults", s.ListResults}, {"Posture", s.Posture}} {
			got, err := q.fn(ctx, tt.f)
			if err != nil {
				t.Fatalf("%s %s: %v", q.name, tt.name, err)
			}
			if got == nil || len(got) != tt.want {
				t.Errorf("%s %s: %d results, want %d", q.name, tt.name, len(got), tt.want)
			}
		}
	}
	page1 := must[[]Result](t)(s.Posture(ctx, ResultFilter{Page: Page{Limit: 15}}))
	page2 := must[[]Result](t)(s.Posture(ctx, ResultFilter{Page: Page{Limit: 15, After: page1[14].ID}}))
	if len(page2) != 5 || page2[0].ID <= page1[14].ID {
		t.Fatalf("posture page 2 has %d from %d", len(page2), page2[0].ID)
	}
	_, err := s.Posture(ctx, ResultFilter{Group: 999})
	wantNotFound(t, err, "group 999")
}

func testPostureSummary(t *testing.T, s *Store) {
	if got := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{})); got.Total != 0 || got.Counts[result.Pass] != 0 {
		t.Fatalf("summary of nothing = %+v", got)
	}
	deb := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "deb", Tags: []string{"prod"}}, "x"))
	rh := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "rh"}, "x"))
	tagged := must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod", MatchTags: []string{"prod"}}, "x"))
	static := must[Group](t)(s.CreateGroup(ctx, Group{Name: "static", Members: []int64{rh.ID}}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{deb.ID, rh.ID}, "x"))
	now := time.Now()
	for range 2 {
		j, _, err := s.ClaimJob(ctx, "w", time.Minute)
		check(t, err)
		rs := append(results("cis", 10, result.Pass, now), results("stig", 5, result.Fail, now)...)
		rs[0].Status, rs[1].Status, rs[2].Status = result.Error, result.NA, result.NotChecked
		out := JobOutcome{Technology: "debian-12", Results: rs}
		if j.AssetID == rh.ID {
			out.Technology = "rhel-9"
			rs[3].Status = result.Fail
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, out))
	}
	// deb: cis 1 error, 1 na, 1 not checked, 7 pass; stig 5 fail.
	got := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{Group: tagged.ID}))
	if got.Total != 15 || got.Scored != 13 || got.Counts[result.Pass] != 7 || got.Counts[result.Fail] != 5 ||
		got.Counts[result.Error] != 1 || got.Score != 53.8 || got.Coverage != 92.3 || got.ByCriticality[5][result.Fail] != 1 {
		t.Fatalf("summary of the tag group = %+v", got)
	}
	// Every filter summarizes exactly the rows Posture lists for it.
	for _, f := range []ResultFilter{
		{},
		{Asset: rh.ID},
		{Group: tagged.ID},
		{Group: static.ID},
		{Policy: "stig"},
		{Technology: "rhel-9"},
		{Status: "fail"},
		{CID: 4},
		{Criticality: 4},
		{Scan: sc.ID},
		{Scan: sc.ID + 1},
		{Group: static.ID, Policy: "cis", Criticality: 3},
		{Page: Page{Limit: 1, After: 1 << 40}}, // the page is ignored
	} {
		page := f.Page
		f.Page = Page{Limit: 1000}
		var rs []result.Result
		for _, r := range must[[]Result](t)(s.Posture(ctx, f)) {
			rs = append(rs, r.Result)
		}
		f.Page = page
		got := must[result.Summary](t)(s.PostureSummary(ctx, f))
		if want := result.Summarize(rs); !reflect.DeepEqual(got, want) {
			t.Errorf("PostureSummary(%+v) = %+v\nwant %+v", f, got, want)
		}
	}
	_, err := s.PostureSummary(ctx, ResultFilter{Group: 999})
	wantNotFound(t, err, "group 999")
}

// testBulkResults stores a job larger than one insert batch, with a
// repeated control, and checks every row arrives once and whole.
func testBulkResults(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	j, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rs := append(results("p", 700, result.Pass, at), results("q", 400, result.Fail, at)...) // 1,100: 512 + 512 + 64 + 8 + 4
	again := rs[5]
	again.Status = result.Fail
	rs = append(rs, again) // repeats p/6: the first one is kept
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: rs}))
	var stored []Result
	for f := (ResultFilter{Page: Page{Limit: 1000}}); ; {
		page := must[[]Result](t)(s.ListResults(ctx, f))
		if len(page) == 0 {
			break
		}
		stored = append(stored, page...)
		f.After = page[len(page)-1].ID
	}
	if len(stored) != 1100 {
		t.Fatalf("%d results stored, want 1100", len(stored))
	}
	seen := map[string]bool{}
	for _, r := range stored {
		k := fmt.Sprintf("%s/%d", r.Policy, r.CID)
		if seen[k] {
			t.Fatalf("%s stored twice", k)
		}
		seen[k] = true
		if r.JobID != j.ID || r.AssetID != a.ID || !r.Time.Equal(at) || len(r.Actual) != 2 || r.References["cis"] == nil {
			t.Fatalf("stored %+v", r)
		}
		if r.Policy == "p" && r.CID == 6 && r.Status != result.Pass {
			t.Fatalf("the repeat replaced the first result: %+v", r)
		}
	}
	sum := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{Asset: a.ID}))
	if sum.Total != 1100 || sum.Counts[result.Pass] != 700 || sum.Counts[result.Fail] != 400 {
		t.Fatalf("posture summary = %+v", sum)
	}
}

// testDuplicateFailsWhole: a result the unique key (job, policy, control)
// refuses fails the whole CompleteJob: no result, posture, job, asset or
// scan change is half written, and the job can still be completed.
func testDuplicateFailsWhole(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	j, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	// A row already stored for the job (no path of the store writes one;
	// the key is the last line of defence).
	_, err = s.db.Exec(s.d.rebind(`INSERT INTO results (scan_id, job_id, asset_id, `+resultCols+`)
		VALUES (?, ?, ?, 'p', 1, 250, '', '', '', 1, 'pass', '', '[]', '', '', '', '', 0, '{}', '', NULL)`), sc.ID, j.ID, a.ID)
	check(t, err)
	err = s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: "debian-12", Results: results("p", 300, result.Fail, time.Now())})
	if err == nil {
		t.Fatal("a result the unique key refuses was accepted")
	}
	if rs := must[[]Result](t)(s.ListResults(ctx, ResultFilter{})); len(rs) != 1 {
		t.Fatalf("a failed CompleteJob left %d results, want the 1 stored before", len(rs))
	}
	if p := must[[]Result](t)(s.Posture(ctx, ResultFilter{})); len(p) != 0 {
		t.Fatalf("a failed CompleteJob left %d posture rows", len(p))
	}
	if got := must[Job](t)(s.GetJob(ctx, j.ID)); got.State != Running || got.Attempt != j.Attempt {
		t.Fatalf("a failed CompleteJob changed the job: %+v", got)
	}
	if got := must[Asset](t)(s.GetAsset(ctx, a.ID)); got.Technology != "" || got.LastSeen != nil {
		t.Fatalf("a failed CompleteJob changed the asset: %+v", got)
	}
	if got := must[Scan](t)(s.GetScan(ctx, sc.ID)); got.State != Running {
		t.Fatalf("a failed CompleteJob changed the scan: %+v", got)
	}
	_, err = s.db.Exec(s.d.rebind(`DELETE FROM results WHERE job_id = ?`), j.ID)
	check(t, err)
	check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: results("p", 300, result.Fail, time.Now())}))
	if p := must[[]Result](t)(s.Posture(ctx, ResultFilter{Page: Page{Limit: 1000}})); len(p) != 300 {
		t.Fatalf("%d posture rows, want 300", len(p))
	}
}

func testCancel(t *testing.T, s *Store) {
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b"}, "x"))
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID, b.ID}, "x"))
	running, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	check(t, s.CancelScan(ctx, sc.ID, "alice"))
	got := must[Scan](t)(s.GetScan(ctx, sc.ID))
	if got.State != Cancelled || got.Finished == nil || got.Done != 0 {
		t.Fatalf("cancelled scan = %+v", got)
	}
	for _, j := range must[[]Job](t)(s.ListJobs(ctx, sc.ID)) {
		if j.State != Cancelled {
			t.Fatalf("job %+v not cancelled", j)
		}
	}
	if _, ok, err := s.ClaimJob(ctx, "w", time.Minute); ok || err != nil {
		t.Fatalf("claimed a job of a cancelled scan: %v %v", ok, err)
	}
	err = s.CompleteJob(ctx, running.ID, running.Attempt, JobOutcome{Results: results("p", 2, result.Pass, time.Now())})
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("completing a cancelled job: %v, want ErrLeaseLost", err)
	}
	if err := s.RenewLease(ctx, running.ID, running.Attempt, time.Minute); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("renewing a cancelled job: %v, want ErrLeaseLost", err)
	}
	if rs := must[[]Result](t)(s.ListResults(ctx, ResultFilter{})); len(rs) != 0 {
		t.Fatalf("a cancelled job stored results")
	}
	check(t, s.CancelScan(ctx, sc.ID, "alice")) // cancelling again is a no-op
	done := must[Scan](t)(s.CreateScan(ctx, Scan{}, nil, "x"))
	wantConflict(t, s.CancelScan(ctx, done.ID, "alice"), "state", Finished)
	wantNotFound(t, s.CancelScan(ctx, 999, "alice"), "scan 999")
}

func testSchedules(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	var inv *InvalidError
	if _, err := s.CreateSchedule(ctx, Schedule{Every: 59 * time.Second}, "x"); !errors.As(err, &inv) || inv.Field != "every" {
		t.Fatalf("every 59s: %v, want an InvalidError on every", err)
	}
	sc := must[Schedule](t)(s.CreateSchedule(ctx, Schedule{Name: "hourly", Policies: []string{"cis"}, Assets: []int64{1},
		Every: time.Hour}, "alice"))
	if !sc.Next.Equal(c.Now()) || sc.CreatedBy != "alice" {
		t.Fatalf("schedule = %+v, want it due now", sc)
	}
	later := must[Schedule](t)(s.CreateSchedule(ctx, Schedule{Name: "later", Every: time.Hour, Next: c.Now().Add(time.Hour)}, "x"))
	list := must[[]Schedule](t)(s.ListSchedules(ctx, Page{}))
	if len(list) != 2 || list[0].Every != time.Hour || list[0].Name != "hourly" || !slices.Equal(list[0].Assets, []int64{1}) ||
		list[0].Groups == nil || !list[1].Next.Equal(later.Next) {
		t.Fatalf("ListSchedules = %+v", list)
	}

	got, ok, err := s.ClaimDueSchedule(ctx)
	if err != nil || !ok || got.ID != sc.ID || !got.Next.Equal(c.Now().Add(time.Hour)) {
		t.Fatalf("claim = %+v %v %v", got, ok, err)
	}
	if _, ok, _ := s.ClaimDueSchedule(ctx); ok {
		t.Fatal("one period claimed twice")
	}
	// Three and a half periods later: both are due once, and the next run
	// skips the missed periods.
	c.Add(3*time.Hour + 30*time.Minute)
	seen := map[int64]time.Time{}
	for {
		got, ok, err := s.ClaimDueSchedule(ctx)
		check(t, err)
		if !ok {
			break
		}
		if _, dup := seen[got.ID]; dup {
			t.Fatalf("schedule %d claimed twice in one period", got.ID)
		}
		seen[got.ID] = got.Next
	}
	t0 := newClock().Now()
	if len(seen) != 2 || !seen[sc.ID].Equal(t0.Add(4*time.Hour)) || !seen[later.ID].Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("claimed %v", seen)
	}

	// Replicas polling at once launch each period once.
	c.Add(time.Hour)
	s2 := reopen(t, s)
	s2.Now = c.Now
	var mu sync.Mutex
	count := map[int64]int{}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, ok, err := []*Store{s, s2}[i%2].ClaimDueSchedule(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				count[got.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if count[sc.ID] != 1 || count[later.ID] != 1 {
		t.Fatalf("claims per schedule %v, want 1 each", count)
	}
	check(t, s.DeleteSchedule(ctx, sc.ID, "x"))
	wantNotFound(t, s.DeleteSchedule(ctx, sc.ID, "x"), "schedule")
}

func testTokens(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	if n := must[int](t)(s.CountTokens(ctx)); n != 0 {
		t.Fatalf("CountTokens = %d on a new store", n)
	}
	tok := must[Token](t)(s.CreateToken(ctx, Token{Name: "admin", Role: "admin", Hash: "h1"}, "setup"))
	must[Token](t)(s.CreateToken(ctx, Token{Name: "ci", Role: "scanner", Hash: "h2"}, "setup"))
	_, err := s.CreateToken(ctx, Token{Name: "admin", Role: "viewer", Hash: "h3"}, "setup")
	wantConflict(t, err, "name", "admin")

	got := must[Token](t)(s.TokenByHash(ctx, "h1"))
	if got.ID != tok.ID || got.Role != "admin" || got.LastUsed == nil || !got.LastUsed.Equal(c.Now()) {
		t.Fatalf("TokenByHash = %+v", got)
	}
	first := c.Now()
	c.Add(30 * time.Second)
	must[Token](t)(s.TokenByHash(ctx, "h1"))
	list := must[[]Token](t)(s.ListTokens(ctx))
	if !list[0].LastUsed.Equal(first) {
		t.Fatalf("last used %v, want %v: written at most once a minute", list[0].LastUsed, first)
	}
	c.Add(time.Minute)
	must[Token](t)(s.TokenByHash(ctx, "h1"))
	if list := must[[]Token](t)(s.ListTokens(ctx)); !list[0].LastUsed.Equal(c.Now()) {
		t.Fatalf("last used %v, want %v", list[0].LastUsed, c.Now())
	}
	_, err = s.TokenByHash(ctx, "nope")
	wantNotFound(t, err, "token")

	check(t, s.RevokeToken(ctx, tok.ID, "setup"))
	_, err = s.TokenByHash(ctx, "h1")
	wantNotFound(t, err, "token")
	if n := must[int](t)(s.CountTokens(ctx)); n != 1 {
		t.Fatalf("CountTokens = %d, want 1", n)
	}
	list = must[[]Token](t)(s.ListTokens(ctx))
	if len(list) != 2 || list[0].Revoked == nil || list[1].Revoked != nil {
		t.Fatalf("ListTokens = %+v", list)
	}
	check(t, s.RevokeToken(ctx, tok.ID, "setup"))
	wantNotFound(t, s.RevokeToken(ctx, 999, "setup"), "token 999")
}

// testSigningKey: none at first; the first stored wins, a second is
// ignored (replicas starting together agree).
func testSigningKey(t *testing.T, s *Store) {
	if _, err := s.SigningKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SigningKey of a new store: %v", err)
	}
	a := SigningKey{Cert: []byte("cert A"), SealedKey: []byte{1, 2, 3}}
	got := must[SigningKey](t)(s.InitSigningKey(ctx, a, "server"))
	if string(got.Cert) != "cert A" || !slices.Equal(got.SealedKey, a.SealedKey) {
		t.Fatalf("InitSigningKey = %+v", got)
	}
	got = must[SigningKey](t)(s.InitSigningKey(ctx, SigningKey{Cert: []byte("cert B"), SealedKey: []byte{4}}, "server"))
	if string(got.Cert) != "cert A" {
		t.Fatalf("a second InitSigningKey replaced the first: %+v", got)
	}
	if _, err := s.InitSigningKey(ctx, SigningKey{}, "server"); err == nil {
		t.Fatal("an empty key was stored")
	}
}
