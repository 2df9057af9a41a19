package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// Session cookies. The session cookie holds, sealed with the server's
// box (AES-GCM: neither readable nor forgeable without the key), the
// token's hash, when it was issued, when it expires and the CSRF value of
// the session's forms. The login cookie holds the CSRF value of the login
// form alone, so that the login POST is a form of this site too.
const (
	sessionCookie = "plumb_session"
	loginCookie   = "plumb_login"
	// SessionLifetime is how long a login lasts.
	SessionLifetime = 8 * time.Hour
	loginLifetime   = time.Hour
)

// The associated data bind a sealed value to its use: a login cookie does
// not open as a session, nor a credential as either.
var (
	sessionAD = []byte("plumb dashboard session v1")
	loginAD   = []byte("plumb dashboard login form v1")
)

// sealedSession is the content of the session cookie.
type sealedSession struct {
	Hash    string `json:"h"`
	Issued  int64  `json:"iat"`
	Expires int64  `json:"exp"`
	CSRF    string `json:"csrf"`
}

// sealedLogin is the content of the login cookie.
type sealedLogin struct {
	Expires int64  `json:"exp"`
	CSRF    string `json:"csrf"`
}

// session is a logged-in user: the live token and the session's CSRF
// value.
type session struct {
	token store.Token
	csrf  string
}

func randomValue() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (u *ui) seal(v any, ad []byte) string {
	plain, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(u.cfg.Box.Seal(plain, ad))
}

func (u *ui) open(value string, ad []byte, v any) bool {
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return false
	}
	plain, err := u.cfg.Box.Open(sealed, ad)
	if err != nil {
		return false
	}
	return json.Unmarshal(plain, v) == nil
}

func (u *ui) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: Prefix, HttpOnly: true, Secure: u.cfg.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(maxAge / time.Second)}
	if maxAge < 0 {
		c.MaxAge, c.Value = -1, ""
	}
	return c
}

// session returns the request's session, or nil (and the cookie cleared)
// when it has none that is valid: no cookie, one that does not open, an
// expired one, or one whose token is unknown, revoked or may not log in.
// The token is read from the store on every request, so a revoked token
// logs out at once. Only a failing store is an error.
func (u *ui) session(w http.ResponseWriter, r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	var ss sealedSession
	now := u.cfg.Now()
	if !u.open(c.Value, sessionAD, &ss) || ss.Hash == "" || ss.CSRF == "" || now.Unix() >= ss.Expires ||
		ss.Expires-ss.Issued > int64(SessionLifetime/time.Second) {
		http.SetCookie(w, u.cookie(sessionCookie, "", -1))
		return nil, nil
	}
	tok, err := u.cfg.Store.TokenByHash(r.Context(), ss.Hash)
	if errors.Is(err, store.ErrNotFound) {
		http.SetCookie(w, u.cookie(sessionCookie, "", -1))
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !mayLogIn(tok.Role) {
		http.SetCookie(w, u.cookie(sessionCookie, "", -1))
		return nil, nil
	}
	return &session{token: tok, csrf: ss.CSRF}, nil
}

// mayLogIn: every role but the scanner workers' reads the posture.
func mayLogIn(role string) bool {
	switch role {
	case api.RoleAdmin, api.RoleOperator, api.RoleApprover, api.RoleAuditor:
		return true
	}
	return false
}

// sameCSRF compares a form's CSRF value with the expected one in constant
// time; an empty expected value never matches.
func sameCSRF(form, want string) bool {
	if want == "" || len(form) != len(want) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(form), []byte(want)) == 1
}

// safeNext returns next when it is a page of the dashboard (a local path
// under /ui/, not the login page itself), else /ui/: the login redirect
// never leads off the site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n\t") {
		return Prefix
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, Prefix) || strings.HasPrefix(u.Path, "/ui/login") || strings.HasPrefix(u.Path, "/ui/logout") ||
		strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") || strings.HasPrefix(u.Path, "//") {
		return Prefix
	}
	return u.RequestURI()
}

// loginURL is the login page that leads to next, with an optional message
// code (see loginMessages).
func loginURL(next, msg string) string {
	q := url.Values{}
	if n := safeNext(next); n != Prefix {
		q.Set("next", n)
	}
	if msg != "" {
		q.Set("m", msg)
	}
	if len(q) == 0 {
		return "/ui/login"
	}
	return "/ui/login?" + q.Encode()
}

// loginMessages are the notes the login page shows after a redirect.
var loginMessages = map[string]string{
	"out": "You are signed out.",
}

type loginData struct {
	Next    string
	CSRF    string
	Error   string
	Notice  string
	Current *store.Token // already signed in as
}

func (u *ui) loginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: safeNext(r.URL.Query().Get("next")), Notice: loginMessages[r.URL.Query().Get("m")]}
	s, err := u.session(w, r)
	if err != nil {
		u.renderError(w, r, nil, err)
		return
	}
	if s != nil {
		d.Current = &s.token
	}
	u.showLogin(w, r, http.StatusOK, d)
}

// showLogin renders the login form with a fresh login cookie and CSRF
// value.
func (u *ui) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	d.CSRF = randomValue()
	http.SetCookie(w, u.cookie(loginCookie, u.seal(sealedLogin{Expires: u.cfg.Now().Add(loginLifetime).Unix(), CSRF: d.CSRF}, loginAD), loginLifetime))
	u.render(w, r, nil, status, "login", "Sign in", "", d)
}

// login checks the login form: same-origin, with the CSRF value of the
// login cookie, and a token of a role that may log in. A failure says
// nothing about whether the token exists.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	if err := u.cross.Check(r); err != nil {
		u.refuse(w, r, nil, "This form was sent from another site, so it was refused.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, nil, &httpError{status: http.StatusBadRequest, msg: "The form could not be read."})
		return
	}
	var sl sealedLogin
	c, err := r.Cookie(loginCookie)
	if err != nil || !u.open(c.Value, loginAD, &sl) || u.cfg.Now().Unix() >= sl.Expires || !sameCSRF(r.PostForm.Get("csrf"), sl.CSRF) {
		u.refuse(w, r, nil, "The sign-in form has expired or did not come from this site. Open the sign-in page again and retry.")
		return
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next"))}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if secret == "" {
		d.Error = "Enter an API token."
		u.showLogin(w, r, http.StatusBadRequest, d)
		return
	}
	tok, err := u.cfg.Authenticate(r.Context(), secret)
	var p *api.Problem
	switch {
	case errors.As(err, &p) && p.Status == http.StatusUnauthorized, errors.Is(err, store.ErrNotFound):
		u.log.Info("dashboard login refused", "reason", "unknown or revoked token")
		d.Error = "This token was not accepted. Check that you copied all of it and that it has not been revoked."
		u.showLogin(w, r, http.StatusUnauthorized, d)
		return
	case err != nil:
		u.renderError(w, r, nil, err)
		return
	case !mayLogIn(tok.Role):
		u.log.Info("dashboard login refused", "token", tok.Name, "role", tok.Role)
		d.Error = "Tokens of the " + tok.Role + " role take scan jobs and cannot sign in to the dashboard. Use an admin, operator, approver or auditor token."
		u.showLogin(w, r, http.StatusForbidden, d)
		return
	}
	now := u.cfg.Now()
	ss := sealedSession{Hash: tok.Hash, Issued: now.Unix(), Expires: now.Add(SessionLifetime).Unix(), CSRF: randomValue()}
	if ss.Hash == "" {
		// A session without the hash would never open again.
		u.renderError(w, r, nil, errors.New("web: Authenticate returned a token without its hash"))
		return
	}
	http.SetCookie(w, u.cookie(loginCookie, "", -1))
	http.SetCookie(w, u.cookie(sessionCookie, u.seal(ss, sessionAD), SessionLifetime))
	u.log.Info("dashboard login", "token", tok.Name, "role", tok.Role)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session: a same-origin POST with the session's CSRF
// value.
func (u *ui) logout(w http.ResponseWriter, r *http.Request) {
	if err := u.cross.Check(r); err != nil {
		u.refuse(w, r, nil, "This form was sent from another site, so it was refused.")
		return
	}
	s, err := u.session(w, r)
	if err != nil {
		u.renderError(w, r, nil, err)
		return
	}
	if s == nil {
		http.Redirect(w, r, loginURL("", "out"), http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil || !sameCSRF(r.PostForm.Get("csrf"), s.csrf) {
		u.refuse(w, r, s, "The form did not carry this session's check value, so it was refused. Reload the page and retry.")
		return
	}
	http.SetCookie(w, u.cookie(sessionCookie, "", -1))
	u.log.Info("dashboard logout", "token", s.token.Name)
	http.Redirect(w, r, loginURL("", "out"), http.StatusSeeOther)
}

func (u *ui) refuse(w http.ResponseWriter, r *http.Request, s *session, msg string) {
	u.renderError(w, r, s, &httpError{status: http.StatusForbidden, msg: msg})
}
