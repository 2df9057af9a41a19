package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// problem builds an error answer. kind is a short slug that becomes the
// problem type URI, so clients can branch on it without parsing text.
func problem(status int, kind, field, format string, args ...any) *api.Problem {
	return &api.Problem{
		Type:   "urn:plumb:problem:" + kind,
		Title:  http.StatusText(status),
		Status: status,
		Detail: fmt.Sprintf(format, args...),
		Field:  field,
	}
}

// invalid is the 400 answer for one bad input field.
func invalid(field, format string, args ...any) *api.Problem {
	return problem(http.StatusBadRequest, "invalid", field, format, args...)
}

// writeError answers err as problem details: an *api.Problem as it is,
// store errors mapped to 404 and 409, anything else 500 with nothing of
// its text (it is logged instead).
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var p *api.Problem
	var conflict *store.ConflictError
	var bad *store.InvalidError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &bad):
		p = invalid(bad.Field, "%s", bad.Message)
	case errors.As(err, &conflict) && (conflict.Field == "state" || conflict.Field == "status"):
		p = problem(http.StatusConflict, "wrong-state", conflict.Field, "not allowed while the %s is %s", conflict.Field, conflict.Value)
	case errors.As(err, &conflict):
		p = problem(http.StatusConflict, "conflict", conflict.Field, "%s %q is already taken", conflict.Field, conflict.Value)
	case errors.Is(err, store.ErrLeaseLost):
		p = problem(http.StatusConflict, "lease-lost", "", "%v", err)
	case errors.Is(err, store.ErrNotFound):
		p = problem(http.StatusNotFound, "not-found", "", "%v", err)
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p = problem(http.StatusInternalServerError, "internal", "", "internal error; the server log has the details")
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="plumb"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// decode reads one JSON value of at most max bytes into v, refusing
// unknown fields, and names the offending field in its error.
func decode(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return problem(http.StatusUnsupportedMediaType, "media-type", "", "the body must be application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, max))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return invalid("", "the body must hold exactly one JSON value")
		}
		return nil
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var big *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return invalid("", "the body is empty; a JSON object is required")
	case errors.As(err, &big):
		return problem(http.StatusRequestEntityTooLarge, "too-large", "", "the body is larger than %d bytes", big.Limit)
	case errors.As(err, &syn):
		return invalid("", "malformed JSON at byte %d: %v", syn.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("", "malformed JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return invalid(field, "must be %s, not a JSON %s", article(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(f, "unknown field")
	}
	return invalid("", "%v", err)
}

// article turns a Go type into words for an error: "int64" -> "a number".
func article(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case strings.HasPrefix(t, "map["):
		return "an object"
	}
	return "an object"
}

// pathID parses the {id} path value.
func pathID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, invalid("id", "%q is not an id (a positive integer)", s)
	}
	return id, nil
}

// get answers GET .../{id} with the object find returns.
func get[T any](find func(context.Context, int64) (T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		v, err := find(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

// act answers a write on .../{id} that returns nothing (delete, cancel,
// revoke) with 204; do records the caller in the audit log.
func act(do func(ctx context.Context, id int64, actor string) error) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := do(r.Context(), id, actor(r)); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// create answers POST of a new object: the input is decoded, checked
// and turned into the object by from, then stored by save.
func create[In, T any](s *Server, from func(*http.Request, In) (T, error), save func(context.Context, T, string) (T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if err := decode(w, r, s.max, &in); err != nil {
			return err
		}
		v, err := from(r, in)
		if err != nil {
			return err
		}
		if v, err = save(r.Context(), v, actor(r)); err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, v)
	}
}

// update answers PUT .../{id}: as create, with the path's id set on the
// object by setID before save replaces it.
func update[In, T any](s *Server, from func(*http.Request, In) (T, error), setID func(*T, int64), save func(context.Context, T, string) (T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		var in In
		if err := decode(w, r, s.max, &in); err != nil {
			return err
		}
		v, err := from(r, in)
		if err != nil {
			return err
		}
		setID(&v, id)
		if v, err = save(r.Context(), v, actor(r)); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

// paged answers a listing that takes no filter but the page.
func paged[T any](find func(context.Context, store.Page) ([]T, error), id func(T) int64) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		q := &query{r: r}
		p := q.page()
		if q.err != nil {
			return q.err
		}
		items, err := find(r.Context(), p)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, list(items, p, id))
	}
}

// query reads typed query parameters, collecting the first error.
type query struct {
	r   *http.Request
	err error
}

func (q *query) str(name string) string { return q.r.URL.Query().Get(name) }

func (q *query) int64(name string) int64 {
	s := q.str(name)
	if s == "" || q.err != nil {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		q.err = invalid(name, "%q is not a non-negative integer", s)
	}
	return n
}

func (q *query) page() store.Page {
	p := store.Page{Limit: int(q.int64("limit")), After: q.int64("after")}
	if q.err == nil && p.Limit > 1000 {
		q.err = invalid("limit", "at most 1000, got %d", p.Limit)
	}
	if p.Limit == 0 {
		p.Limit = 100
	}
	return p
}

// list wraps one page with the cursor of the next.
func list[T any](items []T, p store.Page, id func(T) int64) api.List[T] {
	l := api.List[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if len(items) > 0 && len(items) == p.Limit {
		l.NextAfter = id(items[len(items)-1])
	}
	return l
}

// statusWriter remembers the status for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *Server) accessLog(r *http.Request, sw *statusWriter, actor string) {
	level := slog.LevelDebug
	if sw.status >= 500 {
		level = slog.LevelWarn
	}
	s.log.Log(r.Context(), level, "http", "method", r.Method, "path", r.URL.Path, "status", sw.status, "actor", actor)
}
