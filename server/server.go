// Package server is Plumb's REST API v1: assets, groups, policies,
// credentials, scans, results and posture over one store, with API
// tokens, roles and an audit log. Scanner workers take the scans' jobs
// through the same API. The server keeps no state of its own beyond the
// store, so many replicas can share one PostgreSQL database.
package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/scap/xccdf"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/store"
	"github.com/plumbhq/plumb/web"
)

// Config is what a Server needs.
type Config struct {
	Store   *store.Store
	Library *policy.Library // the built-in controls and policies
	Box     *secret.Box     // seals credentials
	Logger  *slog.Logger
	// Lease is how long a worker holds a job without a heartbeat
	// (default 2 minutes).
	Lease time.Duration
	// MaxBody bounds request bodies (default 1 MiB); job completions,
	// which carry every result of a host, may be 64 times larger.
	MaxBody int64
	// ScheduleEvery is how often due schedules are looked for (default 15 s).
	ScheduleEvery time.Duration
	// MaxException bounds how far ahead an exception may expire
	// (default 365 days).
	MaxException time.Duration
	// ContentDirs are where SCAP data streams may be imported from
	// (default xccdf.ContentDirs(): where the SCAP Security Guide
	// packages install them).
	ContentDirs []string
	// SecureCookies marks the dashboard's cookies Secure (HTTPS).
	SecureCookies bool
	// Signer signs reports; nil: the signing key in the store, created
	// (self-signed) by the first replica that needs one.
	Signer *pdfsign.Signer
	// Name says which server made a report (its cover and signature
	// location); default the host name.
	Name string
}

// Server answers the API. Create it with New.
type Server struct {
	st    *store.Store
	lib   *policy.Library
	box   *secret.Box
	log   *slog.Logger
	lease time.Duration
	max   int64
	tick  time.Duration
	dirs  []string
	maxEx time.Duration
	mux   *http.ServeMux
	name  string

	signMu sync.Mutex
	sign   *pdfsign.Signer // the report signing key, once loaded
}

// New checks cfg and builds the routes.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Library == nil || cfg.Box == nil {
		return nil, errors.New("server: Store, Library and Box are required")
	}
	s := &Server{st: cfg.Store, lib: cfg.Library, box: cfg.Box, log: cfg.Logger,
		lease: cfg.Lease, max: cfg.MaxBody, tick: cfg.ScheduleEvery, dirs: cfg.ContentDirs, sign: cfg.Signer, name: cfg.Name}
	if s.name == "" {
		s.name, _ = os.Hostname()
	}
	if s.maxEx = cfg.MaxException; s.maxEx <= 0 {
		s.maxEx = 365 * 24 * time.Hour
	}
	if s.dirs == nil {
		s.dirs = xccdf.ContentDirs()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.lease <= 0 {
		s.lease = 2 * time.Minute
	}
	if s.max <= 0 {
		s.max = 1 << 20
	}
	if s.tick <= 0 {
		s.tick = 15 * time.Second
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /v1/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Write(OpenAPI)
	})
	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.guard(rt))
	}
	ui, err := web.New(web.Config{Store: s.st, Box: s.box, Logger: s.log, Secure: cfg.SecureCookies, Now: s.now,
		Authenticate: s.tokenBySecret, Report: s.policyReport})
	if err != nil {
		return nil, err
	}
	s.mux.Handle("/ui/", ui)
	s.mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, problem(http.StatusNotFound, "no-route", "", "no route %s %s; GET /v1/openapi.yaml lists them", r.Method, r.URL.Path))
	})
	return s, nil
}

// OpenAPI is the API's OpenAPI 3 document, kept in the repository as
// server/openapi.yaml and served at /v1/openapi.yaml.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Handler is the HTTP handler for every route.
func (s *Server) Handler() http.Handler { return s.mux }

// perm is what a route needs; each role holds a set of them.
type perm int

const (
	permRead    perm = iota // read assets, groups, policies, scans, results
	permWrite               // change assets, groups, policies, credentials, scans
	permAdmin               // tokens
	permAudit               // read the audit log
	permWork                // take jobs and post results (scanner workers)
	permRequest             // request and renew exceptions
	permApprove             // approve, reject and revoke exceptions
	permAny                 // any valid token (whoami)
)

var rolePerms = map[string][]perm{
	api.RoleAdmin:    {permRead, permWrite, permAdmin, permAudit, permWork, permAny, permRequest},
	api.RoleOperator: {permRead, permWrite, permAny, permRequest},
	api.RoleApprover: {permRead, permAny, permRequest, permApprove},
	api.RoleAuditor:  {permRead, permAudit, permAny},
	api.RoleScanner:  {permWork, permAny},
}

func allowed(role string, p perm) bool {
	for _, q := range rolePerms[role] {
		if q == p {
			return true
		}
	}
	return false
}

type route struct {
	method, path string
	perm         perm
	h            handler
}

// handler is an API handler: an error it returns is answered as problem
// details.
type handler = func(w http.ResponseWriter, r *http.Request) error

// Routes lists every authenticated route as "METHOD /path", for tests
// and documentation.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.method+" "+rt.path)
	}
	return out
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/v1/whoami", permAny, s.whoami},

		{"GET", "/v1/assets", permRead, s.listAssets},
		{"POST", "/v1/assets", permWrite, create(s, s.assetFromInput, s.st.CreateAsset)},
		{"GET", "/v1/assets/{id}", permRead, get(s.st.GetAsset)},
		{"PUT", "/v1/assets/{id}", permWrite, update(s, s.assetFromInput, func(a *store.Asset, id int64) { a.ID = id }, s.st.UpdateAsset)},
		{"DELETE", "/v1/assets/{id}", permWrite, act(s.st.DeleteAsset)},

		{"GET", "/v1/groups", permRead, paged(s.st.ListGroups, func(g store.Group) int64 { return g.ID })},
		{"POST", "/v1/groups", permWrite, create(s, s.groupFromInput, s.st.CreateGroup)},
		{"GET", "/v1/groups/{id}", permRead, get(s.st.GetGroup)},
		{"PUT", "/v1/groups/{id}", permWrite, update(s, s.groupFromInput, func(g *store.Group, id int64) { g.ID = id }, s.st.UpdateGroup)},
		{"DELETE", "/v1/groups/{id}", permWrite, act(s.st.DeleteGroup)},
		{"GET", "/v1/groups/{id}/assets", permRead, s.groupAssets},

		{"GET", "/v1/policies", permRead, s.listPolicies},
		{"POST", "/v1/policies", permWrite, s.pushPolicy},
		{"POST", "/v1/policies/import", permWrite, s.importPolicies},
		{"POST", "/v1/policies/scap", permWrite, s.importSCAP},
		{"GET", "/v1/policies/{pid}", permRead, s.getPolicy},
		{"GET", "/v1/policies/{pid}/versions", permRead, s.policyVersions},

		{"GET", "/v1/credentials", permRead, paged(s.st.ListCredentials, func(c store.Credential) int64 { return c.ID })},
		{"POST", "/v1/credentials", permWrite, s.createCredential},
		{"GET", "/v1/credentials/{id}", permRead, get(s.st.GetCredential)},
		{"DELETE", "/v1/credentials/{id}", permWrite, act(s.st.DeleteCredential)},

		{"GET", "/v1/scans", permRead, s.listScans},
		{"POST", "/v1/scans", permWrite, s.createScan},
		{"GET", "/v1/scans/{id}", permRead, get(s.st.GetScan)},
		{"POST", "/v1/scans/{id}/cancel", permWrite, act(s.st.CancelScan)},
		{"GET", "/v1/scans/{id}/jobs", permRead, s.scanJobs},

		{"GET", "/v1/schedules", permRead, paged(s.st.ListSchedules, func(sc store.Schedule) int64 { return sc.ID })},
		{"POST", "/v1/schedules", permWrite, s.createSchedule},
		{"DELETE", "/v1/schedules/{id}", permWrite, act(s.st.DeleteSchedule)},

		{"GET", "/v1/results", permRead, results(s.st.ListResults)},
		{"GET", "/v1/posture", permRead, results(s.st.Posture)},
		{"GET", "/v1/posture/summary", permRead, s.postureSummary},
		{"GET", "/v1/scores", permRead, s.scores},
		{"GET", "/v1/trend", permRead, s.trend},
		{"GET", "/v1/changes", permRead, s.changes},
		{"POST", "/v1/snapshots", permWrite, s.snapshot},

		{"GET", "/v1/exceptions", permRead, s.listExceptions},
		{"POST", "/v1/exceptions", permRequest, s.requestException},
		{"GET", "/v1/exceptions/expiring", permRead, s.expiringExceptions},
		{"GET", "/v1/exceptions/verify", permAudit, s.verifyExceptionLog},
		{"GET", "/v1/exceptions/{id}", permRead, get(s.st.GetException)},
		{"GET", "/v1/exceptions/{id}/history", permRead, s.exceptionHistory},
		{"POST", "/v1/exceptions/{id}/approve", permApprove, s.decide("approve")},
		{"POST", "/v1/exceptions/{id}/reject", permApprove, s.decide("reject")},
		{"POST", "/v1/exceptions/{id}/revoke", permApprove, s.decide("revoke")},
		{"POST", "/v1/exceptions/{id}/renew", permRequest, s.renewException},

		{"GET", "/v1/reports/policy", permRead, s.reportPolicy},
		{"GET", "/v1/reports/trend", permRead, s.reportTrend},
		{"GET", "/v1/reports/certificate", permRead, s.reportCertificate},

		{"GET", "/v1/tokens", permAdmin, s.listTokens},
		{"POST", "/v1/tokens", permAdmin, s.createToken},
		{"DELETE", "/v1/tokens/{id}", permAdmin, act(s.st.RevokeToken)},
		{"GET", "/v1/audit", permAudit, paged(s.st.ListAudit, func(e store.AuditEntry) int64 { return e.ID })},

		{"POST", "/v1/jobs/claim", permWork, s.claimJob},
		{"POST", "/v1/jobs/{id}/heartbeat", permWork, s.heartbeat},
		{"POST", "/v1/jobs/{id}/complete", permWork, s.completeJob},
	}
}

type tokenKey struct{}

// caller is the token a request was made with.
func caller(ctx context.Context) store.Token {
	t, _ := ctx.Value(tokenKey{}).(store.Token)
	return t
}

// actor names the caller in the audit log.
func actor(r *http.Request) string { return "token:" + caller(r.Context()).Name }

// guard authenticates the bearer token, checks the route's permission
// and runs the handler, answering any error as problem details.
func (s *Server) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		tok, err := s.authenticate(r)
		if err == nil && !allowed(tok.Role, rt.perm) {
			err = problem(http.StatusForbidden, "forbidden", "", "role %s may not %s %s", tok.Role, rt.method, rt.path)
		}
		if err == nil {
			r = r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok))
			err = rt.h(sw, r)
		}
		if err != nil {
			s.writeError(sw, r, err)
		}
		s.accessLog(r, sw, tok.Name)
	})
}

func (s *Server) authenticate(r *http.Request) (store.Token, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return store.Token{}, problem(http.StatusUnauthorized, "unauthenticated", "", "an API token is required: Authorization: Bearer <token>")
	}
	return s.tokenBySecret(r.Context(), secret)
}

// tokenBySecret finds the token a secret belongs to; an unknown or
// revoked one is a 401 problem.
func (s *Server) tokenBySecret(ctx context.Context, secret string) (store.Token, error) {
	tok, err := s.st.TokenByHash(ctx, hashToken(strings.TrimSpace(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, problem(http.StatusUnauthorized, "unauthenticated", "", "the API token is unknown or revoked")
	}
	return tok, err
}

// tokenPrefix marks Plumb tokens so secret scanners can find leaked ones.
const tokenPrefix = "plumb_"

func newTokenSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is what the store keeps of a token: tokens are 256 random
// bits, so a plain SHA-256 is enough (no password stretching needed).
func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Bootstrap creates the first admin token when the store has none and
// returns its secret, to be shown once; it returns "" when tokens exist
// (or another replica created the first one at the same moment).
func (s *Server) Bootstrap(ctx context.Context) (string, error) {
	n, err := s.st.CountTokens(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	secret := newTokenSecret()
	_, err = s.st.CreateToken(ctx, store.Token{Name: "admin", Role: api.RoleAdmin, Hash: hashToken(secret)}, "bootstrap")
	var conflict *store.ConflictError
	if errors.As(err, &conflict) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("create the first admin token: %w", err)
	}
	return secret, nil
}

// CreateToken makes a token directly in the store (for `plumb server
// token` and tests) and returns its secret.
func (s *Server) CreateToken(ctx context.Context, name, role, actor string) (string, error) {
	if err := checkTokenInput(api.TokenInput{Name: name, Role: role}); err != nil {
		return "", err
	}
	secret := newTokenSecret()
	_, err := s.st.CreateToken(ctx, store.Token{Name: name, Role: role, Hash: hashToken(secret)}, actor)
	return secret, err
}

// RunScheduler launches due schedules, and takes score snapshots when a
// scan has finished or the day has none, until ctx ends. Every replica may
// run it: the store hands each due period to one replica only.
func (s *Server) RunScheduler(ctx context.Context) {
	t := time.NewTicker(s.tick)
	defer t.Stop()
	var lastSnap time.Time
	for {
		for {
			sc, ok, err := s.st.ClaimDueSchedule(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("schedules", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			in := api.ScanInput{Name: sc.Name, Policies: sc.Policies, Assets: sc.Assets, Groups: sc.Groups, CredentialID: sc.CredentialID}
			scan, err := s.launch(ctx, in, sc.ID, "scheduler")
			if err != nil {
				s.log.Warn("scheduled scan not launched", "schedule", sc.ID, "err", err)
				continue
			}
			s.log.Info("scheduled scan launched", "schedule", sc.ID, "scan", scan.ID, "jobs", scan.Jobs)
		}
		// Score snapshots for trends: after scans finish (at most every
		// 15 minutes per replica: a snapshot of a large fleet holds the
		// database a while), and daily.
		if stale, err := s.st.SnapshotsStale(ctx); err == nil && stale && (s.now().Sub(lastSnap) >= 15*time.Minute || s.now().YearDay() != lastSnap.YearDay()) {
			lastSnap = s.now()
			if n, err := s.st.TakeSnapshots(ctx); err != nil {
				s.log.Warn("score snapshots", "err", err)
			} else {
				s.log.Debug("score snapshots taken", "scopes", n)
			}
		} else if err != nil && ctx.Err() == nil {
			s.log.Warn("score snapshots", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
