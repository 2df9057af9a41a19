// Package web is Plumb's dashboard: server-rendered pages over the store,
// embedded in the binary and served by `plumb server` under /ui/.
//
// The pages are html/template over the same store calls as the REST API,
// so every number on a page is the number the API answers. There is no
// JavaScript: forms are plain GET forms (filters) and two POST forms (log
// in, log out); charts are SVG drawn on the server. Users log in with an
// API token; the session is a cookie sealed with the server's secret box
// that holds the token's hash, never its secret, and the token is looked
// up again on every request, so revoking it logs the session out at once.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/store"
)

// Config is what the dashboard needs from the server that mounts it.
type Config struct {
	Store *store.Store
	// Authenticate returns the API token a secret belongs to; the
	// dashboard logs in with API tokens.
	Authenticate func(ctx context.Context, secret string) (store.Token, error)
	// Box seals session cookies; replicas share its key.
	Box *secret.Box
	// Report writes a signed policy report (PDF) for a policy, optionally
	// narrowed to a group (0: every asset), made by actor.
	Report func(ctx context.Context, w io.Writer, policy string, group int64, actor string) error
	// Secure marks cookies Secure (the server speaks HTTPS).
	Secure bool
	Now    func() time.Time
	Logger *slog.Logger
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is where the dashboard is mounted.
const Prefix = "/ui/"

// ui is the dashboard's handler.
type ui struct {
	cfg    Config
	log    *slog.Logger
	pages  map[string]*template.Template
	static map[string]staticFile
	mux    *http.ServeMux
	cross  *http.CrossOriginProtection
	techs  technologyCache
}

// New returns the dashboard's handler, to be mounted at /ui/.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Box == nil || cfg.Authenticate == nil {
		return nil, errors.New("web: Store, Box and Authenticate are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &ui{cfg: cfg, log: cfg.Logger, cross: http.NewCrossOriginProtection()}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if u.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if u.pages, err = u.loadTemplates(); err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /ui/static/{file}", u.serveStatic)
	m.HandleFunc("GET /ui/login", u.loginPage)
	m.HandleFunc("POST /ui/login", u.login)
	m.HandleFunc("POST /ui/logout", u.logout)
	pages := []struct {
		pattern string
		h       pageHandler
	}{
		{"GET /ui/{$}", u.dashboard},
		{"GET /ui/failing", u.failing},
		{"GET /ui/scores", u.scores},
		{"GET /ui/trend", u.trend},
		{"GET /ui/assets", u.assets},
		{"GET /ui/assets/{id}", u.asset},
		{"GET /ui/assets/{id}/controls/{cid}", u.control},
		{"GET /ui/exceptions", u.exceptions},
		{"GET /ui/exceptions/expiring", u.expiring},
		{"GET /ui/exceptions/{id}", u.exception},
		{"GET /ui/scans", u.scans},
		{"GET /ui/scans/{id}", u.scan},
		{"GET /ui/reports", u.reports},
		{"GET /ui/report", u.report},
		{"/ui/", u.notFound},
	}
	for _, p := range pages {
		m.Handle(p.pattern, u.authed(p.h))
	}
	u.mux = m
	return u, nil
}

// ServeHTTP sets the security headers every answer carries and routes.
func (u *ui) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	start := time.Now()
	u.mux.ServeHTTP(sw, r)
	level := slog.LevelDebug
	if sw.status >= 500 {
		level = slog.LevelWarn
	}
	u.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
		"actor", sw.actor, "ms", time.Since(start).Milliseconds())
}

// statusWriter remembers the status and the actor for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	actor  string
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// pageHandler serves one page for a logged-in user; an error it returns
// is rendered as an error page (see renderError).
type pageHandler func(w http.ResponseWriter, r *http.Request, s *session) error

// authed runs h for a request with a valid session; any other request is
// sent to the login page, with the page it asked for as next.
func (u *ui) authed(h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := u.session(w, r)
		if err != nil {
			u.renderError(w, r, nil, err)
			return
		}
		if s == nil {
			http.Redirect(w, r, loginURL(r.URL.RequestURI(), ""), http.StatusSeeOther)
			return
		}
		if sw, ok := w.(*statusWriter); ok {
			sw.actor = actor(s.token)
		}
		if err := h(w, r, s); err != nil {
			u.renderError(w, r, s, err)
		}
	})
}

// actor names a dashboard user the way the API's audit log names API
// callers.
func actor(t store.Token) string { return "token:" + t.Name }

// httpError is an answer other than 200 with a message for the user:
// a bad query parameter (400, naming it), an unknown id (404).
type httpError struct {
	status int
	param  string // the query parameter at fault, for 400
	msg    string
}

func (e *httpError) Error() string {
	if e.param != "" {
		return e.param + ": " + e.msg
	}
	return e.msg
}

func badParam(param, format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, param: param, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// errorPage is what error.html shows.
type errorPage struct {
	Status    int
	Heading   string
	Message   string
	Param     string
	Reference string
}

// renderError answers err as an error page: an httpError with its status
// and message; a store ErrNotFound as 404; an *InvalidError as 400 naming
// its field; anything else as 500 with a reference that the log carries
// next to the error (the user never sees database errors).
func (u *ui) renderError(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := errorPage{Status: http.StatusInternalServerError}
	var he *httpError
	var inv *store.InvalidError
	switch {
	case errors.As(err, &he):
		p.Status, p.Message, p.Param = he.status, he.msg, he.param
	case errors.Is(err, store.ErrNotFound):
		p.Status, p.Message = http.StatusNotFound, "Nothing here: "+err.Error()+"."
	case errors.As(err, &inv):
		p.Status, p.Message, p.Param = http.StatusBadRequest, inv.Message, inv.Field
	case errors.Is(err, context.Canceled):
		return // the client went away
	default:
		b := make([]byte, 4)
		rand.Read(b)
		p.Reference = hex.EncodeToString(b)
		p.Message = "The page could not be read from the database. The error was logged; give the reference below to your administrator."
		u.log.Error("dashboard page failed", "path", r.URL.Path, "reference", p.Reference, "err", err)
	}
	p.Heading = map[int]string{400: "Bad request", 403: "Refused", 404: "Not found", 500: "Something went wrong"}[p.Status]
	if p.Heading == "" {
		p.Heading = http.StatusText(p.Status)
	}
	u.render(w, r, s, p.Status, "error", p.Heading, "", p)
}

// view is what every page template gets.
type view struct {
	Title string
	Nav   string // the navigation entry to mark current
	User  *store.Token
	CSRF  string
	Now   time.Time
	CSS   string // the stylesheet's URL
	Data  any
}

// render executes page into a buffer and writes it with status: a
// template error never leaves half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, s *session, status int, page, title, nav string, data any) {
	t := u.pages[page]
	v := view{Title: title, Nav: nav, Now: u.cfg.Now(), CSS: u.staticURL("style.css"), Data: data}
	if s != nil {
		v.User, v.CSRF = &s.token, s.csrf
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", v); err != nil {
		u.log.Error("dashboard template failed", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (u *ui) loadTemplates() (map[string]*template.Template, error) {
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/base.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := f[len("templates/") : len(f)-len(".html")]
		if name == "base" || name == "parts" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("web: templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

func (u *ui) notFound(w http.ResponseWriter, r *http.Request, s *session) error {
	return notFound("There is no page %s.", r.URL.Path)
}
