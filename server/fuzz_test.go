package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBodies posts arbitrary bodies to every route that takes
// one: the answer may be any 2xx or 4xx, never a 5xx, and never a panic.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"name":"web1","addresses":["10.0.0.1"],"tags":["Prod"]}`,
		`{"name":"g","match_tags":["prod"],"members":[1],"policies":["plumb-linux-l1"]}`,
		`{"ids":["plumb-linux-l1"]}`,
		`{"id":"mine","version":"1","title":"Mine","controls":[{"cid":1101,"criticality":3,"value":"no"}]}`,
		`{"name":"c","user":"root","password":"pw","sudo":true}`,
		`{"policies":["plumb-linux-l1"],"assets":[1]}`,
		`{"name":"s","assets":[1],"every":"24h"}`,
		`{"name":"t","role":"auditor"}`,
		`{"worker":"w"}`,
		`{"attempt":1,"results":[{"policy":"plumb-linux-l1","policy_version":1,"cid":1,"status":"pass","criticality":"serious"}]}`,
		`{"name": 5}`, `[]`, `null`, `{"a":` + strings.Repeat("[", 100), "\x00\xff",
	} {
		f.Add(seed)
	}
	e := newEnv(f)
	var posts []string
	for _, rt := range e.srv.Routes() {
		method, path, _ := strings.Cut(rt, " ")
		if method == "POST" || method == "PUT" {
			posts = append(posts, method+" "+strings.NewReplacer("{id}", "1", "{pid}", "plumb-linux-l1").Replace(path))
		}
	}
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, p := range posts {
			method, path, _ := strings.Cut(p, " ")
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s with %q: %d %s", p, body, rec.Code, rec.Body)
			}
			if rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s: error without problem details: %d %s", p, rec.Code, rec.Header().Get("Content-Type"))
			}
		}
	})
}
