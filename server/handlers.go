package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap"
	"github.com/plumbhq/plumb/scap/xccdf"
	"github.com/plumbhq/plumb/store"
)

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)
	hostnameRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)
	policyIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
)

func checkName(field, s string) error {
	if !nameRE.MatchString(s) {
		return invalid(field, "%q is not a valid name: 1-128 letters, digits and . _ : @ -, starting with a letter or digit", s)
	}
	return nil
}

func checkTag(field, t string) error {
	if t == "" || len(t) > 64 || strings.ContainsAny(t, ",\n\t\r") {
		return invalid(field, "%q is not a valid tag: 1-64 characters, no commas or control characters", t)
	}
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, caller(r.Context()))
}

// ---- assets

func (s *Server) assetFromInput(r *http.Request, in api.AssetInput) (store.Asset, error) {
	a := store.Asset{Name: in.Name, Hostnames: in.Hostnames, Addresses: in.Addresses,
		Partition: in.Partition, Port: in.Port, CredentialID: in.CredentialID, Tags: in.Tags}
	if err := checkName("name", in.Name); err != nil {
		return a, err
	}
	if len(in.Hostnames)+len(in.Addresses) == 0 {
		return a, invalid("addresses", "an asset needs at least one address or hostname to be scanned")
	}
	for i, h := range in.Hostnames {
		if len(h) > 253 || !hostnameRE.MatchString(h) {
			return a, invalid(fmt.Sprintf("hostnames[%d]", i), "%q is not a valid hostname", h)
		}
	}
	for i, ip := range in.Addresses {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return a, invalid(fmt.Sprintf("addresses[%d]", i), "%q is not an IP address", ip)
		}
		a.Addresses[i] = addr.String()
	}
	if in.Partition != "" {
		if err := checkName("partition", in.Partition); err != nil {
			return a, err
		}
	}
	if in.Port < 0 || in.Port > 65535 {
		return a, invalid("port", "%d is not a TCP port (1-65535)", in.Port)
	}
	for i, t := range in.Tags {
		if err := checkTag(fmt.Sprintf("tags[%d]", i), t); err != nil {
			return a, err
		}
	}
	if in.CredentialID != 0 {
		if _, err := s.st.GetCredential(r.Context(), in.CredentialID); err != nil {
			return a, notFoundAs(err, "credential_id", "no credential %d", in.CredentialID)
		}
	}
	return a, nil
}

// notFoundAs turns a store ErrNotFound about a referenced object into a
// 400 naming the field that refers to it.
func notFoundAs(err error, field, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return invalid(field, format, args...)
	}
	return err
}

func (s *Server) listAssets(w http.ResponseWriter, r *http.Request) error {
	q := &query{r: r}
	f := store.AssetFilter{Page: q.page(), Name: q.str("name"), Tag: q.str("tag"), Technology: q.str("technology"),
		Partition: q.str("partition"), Address: q.str("address"), Group: q.int64("group")}
	if q.err != nil {
		return q.err
	}
	items, err := s.st.ListAssets(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list(items, f.Page, func(a store.Asset) int64 { return a.ID }))
}

// ---- groups

func (s *Server) groupFromInput(r *http.Request, in api.GroupInput) (store.Group, error) {
	g := store.Group{Name: in.Name, Description: in.Description, Members: in.Members, MatchTags: in.MatchTags, Policies: in.Policies}
	if err := checkName("name", in.Name); err != nil {
		return g, err
	}
	if len(in.Description) > 1000 {
		return g, invalid("description", "at most 1000 characters")
	}
	for i, m := range in.Members {
		if _, err := s.st.GetAsset(r.Context(), m); err != nil {
			return g, notFoundAs(err, fmt.Sprintf("members[%d]", i), "no asset %d", m)
		}
	}
	for i, t := range in.MatchTags {
		if err := checkTag(fmt.Sprintf("match_tags[%d]", i), t); err != nil {
			return g, err
		}
	}
	for i, p := range in.Policies {
		if err := s.policyExists(r, fmt.Sprintf("policies[%d]", i), p); err != nil {
			return g, err
		}
	}
	return g, nil
}

func (s *Server) policyExists(r *http.Request, field, id string) error {
	if _, err := s.st.GetPolicy(r.Context(), id, 0); err != nil {
		hint := ""
		if s.lib.Policy(id) != nil {
			hint = fmt.Sprintf(" (it is built in: POST /v1/policies/import {\"ids\":[%q]} first)", id)
		}
		return notFoundAs(err, field, "no policy %q on the server%s", id, hint)
	}
	return nil
}

func (s *Server) groupAssets(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.st.GetGroup(r.Context(), id); err != nil {
		return err
	}
	q := &query{r: r}
	f := store.AssetFilter{Page: q.page(), Group: id}
	if q.err != nil {
		return q.err
	}
	items, err := s.st.ListAssets(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list(items, f.Page, func(a store.Asset) int64 { return a.ID }))
}

// ---- policies

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	items, err := s.st.ListPolicies(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.Policy]{Items: nonNil(items)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func policyDoc(p store.Policy) api.PolicyDoc {
	return api.PolicyDoc{Policy: p, Document: json.RawMessage(p.Body)}
}

// pushPolicy stores a custom policy: a selection of controls from the
// built-in library with its own expected values and criticality.
func (s *Server) pushPolicy(w http.ResponseWriter, r *http.Request) error {
	var p policy.Policy
	if err := decode(w, r, s.max, &p); err != nil {
		return err
	}
	if !policyIDRE.MatchString(p.ID) {
		return invalid("id", "%q is not a valid policy id: lower-case letters, digits and . _ -", p.ID)
	}
	if s.lib.Policy(p.ID) != nil {
		return problem(http.StatusConflict, "conflict", "id", "%q is a built-in policy: import it, or give your policy another id and extend it", p.ID)
	}
	if strings.TrimSpace(p.Title) == "" {
		return invalid("title", "a title is required")
	}
	if len(p.Controls) == 0 && len(p.Extends) == 0 {
		return invalid("controls", "a policy selects at least one control or extends a policy")
	}
	if err := p.CheckWeights(); err != nil {
		return invalid("weights", "%v", err)
	}
	for i, e := range p.Extends {
		if s.lib.Policy(e) == nil {
			return invalid(fmt.Sprintf("extends[%d]", i), "no built-in policy %q", e)
		}
	}
	for i, c := range p.Controls {
		if s.lib.Control(c.CID) == nil {
			return invalid(fmt.Sprintf("controls[%d].cid", i), "no control with CID %d in the library", c.CID)
		}
	}
	if _, err := p.Rules(s.lib); err != nil {
		return invalid("controls", "%v", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	sp, err := s.st.PutPolicy(r.Context(), store.Policy{ID: p.ID, Title: p.Title, Source: "custom", Body: body}, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, policyDoc(sp))
}

func (s *Server) importPolicies(w http.ResponseWriter, r *http.Request) error {
	var in api.PolicyImport
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	ids := in.IDs
	if in.All {
		ids = nil
		for _, p := range s.lib.Policies() {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return invalid("ids", "name the built-in policies to import, or set all")
	}
	var docs []api.PolicyDoc
	for i, id := range ids {
		p := s.lib.Policy(id)
		if p == nil {
			return invalid(fmt.Sprintf("ids[%d]", i), "no built-in policy %q", id)
		}
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		sp, err := s.st.PutPolicy(r.Context(), store.Policy{ID: p.ID, Title: p.Title, Source: "builtin", Body: body}, actor(r))
		if err != nil {
			return err
		}
		docs = append(docs, policyDoc(sp))
	}
	return writeJSON(w, http.StatusOK, api.List[api.PolicyDoc]{Items: docs})
}

// importSCAP stores a profile of SCAP content installed on the server as
// a policy. The document names the content by file name and SHA-256, so
// every scanner evaluates the same content from its own copy.
func (s *Server) importSCAP(w http.ResponseWriter, r *http.Request) error {
	var in api.SCAPImport
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	path, err := scap.Locate(in.DataStream, s.dirs)
	if err != nil {
		return invalid("datastream", "%v", err)
	}
	if in.Profile == "" {
		return invalid("profile", "name a profile (plumb content profiles FILE lists them), or %q for every rule", xccdf.AllProfile)
	}
	p, err := scap.OpenProfile(path, scap.OpenOptions{}, in.Profile, "")
	if err != nil {
		return invalid("profile", "%v", err)
	}
	defer p.Close()
	sum, err := scap.FileSHA256(path)
	if err != nil {
		return err
	}
	b := p.Source.Benchmark
	doc := api.SCAPPolicy{DataStream: in.DataStream, SHA256: sum, Profile: p.Selection.ProfileID,
		Benchmark: b.ID, BenchmarkVersion: b.Version, Rules: p.Rules()}
	id := in.ID
	if id == "" {
		short := doc.Profile
		if i := strings.LastIndex(short, "_profile_"); i >= 0 {
			short = short[i+len("_profile_"):]
		}
		id = strings.ToLower(strings.TrimSuffix(in.DataStream, "-ds.xml") + "-" + strings.Trim(short, "()"))
		id = strings.ReplaceAll(id, "_", "-")
	}
	if !policyIDRE.MatchString(id) {
		return invalid("id", "%q is not a valid policy id: lower-case letters, digits and . _ -", id)
	}
	if s.lib.Policy(id) != nil {
		return problem(http.StatusConflict, "conflict", "id", "%q is a built-in policy; choose another id", id)
	}
	if cur, err := s.st.GetPolicy(r.Context(), id, 0); err == nil && cur.Source != "scap" {
		return problem(http.StatusConflict, "conflict", "id", "policy %q exists and is not SCAP content; choose another id", id)
	}
	title := b.Title
	if p.Selection.Profile != nil {
		title = p.Selection.Profile.Title
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	sp, err := s.st.PutPolicy(r.Context(), store.Policy{ID: id, Title: title, Source: "scap", Body: body}, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, policyDoc(sp))
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	q := &query{r: r}
	v := q.int64("version")
	if q.err != nil {
		return q.err
	}
	p, err := s.st.GetPolicy(r.Context(), r.PathValue("pid"), int(v))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, policyDoc(p))
}

func (s *Server) policyVersions(w http.ResponseWriter, r *http.Request) error {
	items, err := s.st.PolicyVersions(r.Context(), r.PathValue("pid"))
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return problem(http.StatusNotFound, "not-found", "", "no policy %q", r.PathValue("pid"))
	}
	return writeJSON(w, http.StatusOK, api.List[store.Policy]{Items: items})
}

// ---- credentials

// credentialAD binds a sealed secret to its credential's name.
func credentialAD(name string) []byte { return []byte("plumb credential " + name) }

func (s *Server) createCredential(w http.ResponseWriter, r *http.Request) error {
	var in api.CredentialInput
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	if in.Kind == "" {
		in.Kind = "ssh"
	}
	if in.Kind != "ssh" {
		return invalid("kind", "%q is not a supported kind (ssh)", in.Kind)
	}
	if in.User == "" || len(in.User) > 64 || strings.ContainsAny(in.User, " :/@\x00\n") {
		return invalid("user", "a user name is required (no spaces, colons, slashes or @)")
	}
	switch {
	case in.PrivateKey == "" && in.Password == "":
		return invalid("private_key", "give private_key or password")
	case in.PrivateKey != "" && in.Password != "":
		return invalid("password", "give private_key or password, not both")
	case in.PrivateKey != "" && !strings.Contains(in.PrivateKey, "PRIVATE KEY-----"):
		return invalid("private_key", "not a PEM or OpenSSH private key")
	case in.Passphrase != "" && in.PrivateKey == "":
		return invalid("passphrase", "a passphrase needs a private_key")
	case in.SudoPassword != "" && !in.Sudo:
		return invalid("sudo_password", "a sudo_password needs sudo: true")
	}
	plain, err := json.Marshal(api.Secrets{User: in.User, PrivateKey: in.PrivateKey, Passphrase: in.Passphrase,
		Password: in.Password, Sudo: in.Sudo, SudoPassword: in.SudoPassword})
	if err != nil {
		return err
	}
	c := store.Credential{Name: in.Name, Kind: in.Kind, User: in.User, Sudo: in.Sudo, Sealed: s.box.Seal(plain, credentialAD(in.Name))}
	c, err = s.st.CreateCredential(r.Context(), c, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

// ---- scans

// launch resolves a scan's policies and targets and queues one job per
// asset. Groups are resolved now, so a scheduled scan follows their
// current membership.
func (s *Server) launch(ctx context.Context, in api.ScanInput, schedule int64, who string) (store.Scan, error) {
	pols := slices.Clone(in.Policies)
	var assets []int64
	for i, id := range in.Assets {
		if _, err := s.st.GetAsset(ctx, id); err != nil {
			return store.Scan{}, notFoundAs(err, fmt.Sprintf("assets[%d]", i), "no asset %d", id)
		}
		assets = append(assets, id)
	}
	for i, gid := range in.Groups {
		g, err := s.st.GetGroup(ctx, gid)
		if err != nil {
			return store.Scan{}, notFoundAs(err, fmt.Sprintf("groups[%d]", i), "no group %d", gid)
		}
		if len(in.Policies) == 0 {
			pols = append(pols, g.Policies...)
		}
		f := store.AssetFilter{Page: store.Page{Limit: 1000}, Group: gid}
		for {
			page, err := s.st.ListAssets(ctx, f)
			if err != nil {
				return store.Scan{}, err
			}
			for _, a := range page {
				assets = append(assets, a.ID)
			}
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1].ID
		}
	}
	slices.Sort(pols)
	pols = slices.Compact(pols)
	slices.Sort(assets)
	assets = slices.Compact(assets)
	if len(pols) == 0 {
		return store.Scan{}, invalid("policies", "no policy given, and the groups have none assigned")
	}
	for i, p := range pols {
		if _, err := s.st.GetPolicy(ctx, p, 0); err != nil {
			return store.Scan{}, notFoundAs(err, fmt.Sprintf("policies[%d]", i), "no policy %q on the server", p)
		}
	}
	if len(assets) == 0 {
		return store.Scan{}, invalid("assets", "the scan has no targets: give assets, or groups with members")
	}
	if in.CredentialID != 0 {
		if _, err := s.st.GetCredential(ctx, in.CredentialID); err != nil {
			return store.Scan{}, notFoundAs(err, "credential_id", "no credential %d", in.CredentialID)
		}
	}
	sc := store.Scan{Name: in.Name, Policies: pols, Assets: in.Assets, Groups: in.Groups, CredentialID: in.CredentialID, ScheduleID: schedule}
	return s.st.CreateScan(ctx, sc, assets, who)
}

func (s *Server) createScan(w http.ResponseWriter, r *http.Request) error {
	var in api.ScanInput
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if len(in.Name) > 200 {
		return invalid("name", "at most 200 characters")
	}
	sc, err := s.launch(r.Context(), in, 0, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sc)
}

func (s *Server) listScans(w http.ResponseWriter, r *http.Request) error {
	q := &query{r: r}
	f := store.ScanFilter{Page: q.page(), State: q.str("state")}
	if q.err != nil {
		return q.err
	}
	if f.State != "" && !slices.Contains([]string{store.Queued, store.Running, store.Finished, store.Failed, store.Cancelled}, f.State) {
		return invalid("state", "%q is not a scan state (queued, running, finished, failed, cancelled)", f.State)
	}
	items, err := s.st.ListScans(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list(items, f.Page, func(s store.Scan) int64 { return s.ID }))
}

func (s *Server) scanJobs(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.st.GetScan(r.Context(), id); err != nil {
		return err
	}
	items, err := s.st.ListJobs(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.Job]{Items: nonNil(items)})
}

// ---- schedules

func (s *Server) createSchedule(w http.ResponseWriter, r *http.Request) error {
	var in api.ScheduleInput
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	every, err := time.ParseDuration(in.Every)
	if err != nil || every < time.Minute {
		return invalid("every", "%q is not a duration of at least 1m (e.g. 24h, 168h)", in.Every)
	}
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	// Check the targets now so a typo fails here, not at 3 a.m.
	if len(in.Assets)+len(in.Groups) == 0 {
		return invalid("assets", "a schedule needs assets or groups")
	}
	for i, id := range in.Assets {
		if _, err := s.st.GetAsset(r.Context(), id); err != nil {
			return notFoundAs(err, fmt.Sprintf("assets[%d]", i), "no asset %d", id)
		}
	}
	for i, id := range in.Groups {
		if _, err := s.st.GetGroup(r.Context(), id); err != nil {
			return notFoundAs(err, fmt.Sprintf("groups[%d]", i), "no group %d", id)
		}
	}
	havePolicies := len(in.Policies) > 0
	for i, p := range in.Policies {
		if err := s.policyExists(r, fmt.Sprintf("policies[%d]", i), p); err != nil {
			return err
		}
	}
	for _, id := range in.Groups {
		if g, err := s.st.GetGroup(r.Context(), id); err == nil && len(g.Policies) > 0 {
			havePolicies = true
		}
	}
	if !havePolicies {
		return invalid("policies", "no policy given, and the groups have none assigned: the schedule would never launch a scan")
	}
	if in.CredentialID != 0 {
		if _, err := s.st.GetCredential(r.Context(), in.CredentialID); err != nil {
			return notFoundAs(err, "credential_id", "no credential %d", in.CredentialID)
		}
	}
	sc := store.Schedule{Name: in.Name, Policies: in.Policies, Assets: in.Assets, Groups: in.Groups, CredentialID: in.CredentialID, Every: every}
	if in.Start != nil {
		sc.Next = *in.Start
	}
	sc, err = s.st.CreateSchedule(r.Context(), sc, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sc)
}

// ---- results and posture

func resultFilter(r *http.Request) (store.ResultFilter, error) {
	q := &query{r: r}
	f := store.ResultFilter{Page: q.page(), Scan: q.int64("scan"), Asset: q.int64("asset"), Group: q.int64("group"),
		Policy: q.str("policy"), Technology: q.str("technology"), Status: q.str("status"), CID: int(q.int64("cid"))}
	if q.err != nil {
		return f, q.err
	}
	if f.Status != "" && !slices.Contains(result.Statuses, result.Status(f.Status)) {
		return f, invalid("status", "%q is not a status (pass, fail, error, na, not_checked)", f.Status)
	}
	if c := q.str("criticality"); c != "" {
		if n, err := strconv.Atoi(c); err == nil && n >= 1 && n <= 5 {
			f.Criticality = n
		} else if crit, err := policy.ParseCriticality(c); err == nil {
			f.Criticality = int(crit)
		} else {
			return f, invalid("criticality", "%q is not a criticality (1-5 or minimal, medium, serious, critical, urgent)", c)
		}
	}
	return f, nil
}

// results answers a listing of stored results (the history or the
// posture) under the result filters.
func results(find func(context.Context, store.ResultFilter) ([]store.Result, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		f, err := resultFilter(r)
		if err != nil {
			return err
		}
		items, err := find(r.Context(), f)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, list(items, f.Page, func(r store.Result) int64 { return r.ID }))
	}
}

// postureSummary is the score of the posture the filters select:
// counts per status and criticality, score, weighted score and coverage.
func (s *Server) postureSummary(w http.ResponseWriter, r *http.Request) error {
	f, err := resultFilter(r)
	if err != nil {
		return err
	}
	sum, err := s.st.PostureSummary(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sum)
}

// ---- tokens and audit

func checkTokenInput(in api.TokenInput) error {
	if err := checkName("name", in.Name); err != nil {
		return err
	}
	if !slices.Contains(api.Roles, in.Role) {
		return invalid("role", "%q is not a role (%s)", in.Role, strings.Join(api.Roles, ", "))
	}
	return nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var in api.TokenInput
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if err := checkTokenInput(in); err != nil {
		return err
	}
	secret := newTokenSecret()
	t, err := s.st.CreateToken(r.Context(), store.Token{Name: in.Name, Role: in.Role, Hash: hashToken(secret)}, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.TokenCreated{Token: t, Secret: secret})
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	items, err := s.st.ListTokens(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.Token]{Items: nonNil(items)})
}
