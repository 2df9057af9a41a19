package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/store"
	"github.com/plumbhq/plumb/web"
)

// TestNew checks the configuration New requires.
func TestNew(t *testing.T) {
	if _, err := web.New(web.Config{}); err == nil {
		t.Error("New without a store, box and Authenticate succeeded")
	}
}

// TestReportDownload checks the report download against Report funcs
// that succeed, fail before writing, fail half way, or find nothing.
func TestReportDownload(t *testing.T) {
	e := newServer(t, false)
	e.must("admin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"plumb-linux-l1"}}, 200, nil)
	var g store.Group
	e.must("operator", "POST", "/v1/groups", api.GroupInput{Name: "web", MatchTags: []string{"web"}}, 201, &g)
	key, _ := secret.ParseKey(secret.NewKey())
	box, _ := secret.New(key)
	auth := func(ctx context.Context, s string) (store.Token, error) {
		sum := sha256.Sum256([]byte(strings.TrimSpace(s)))
		return e.st.TokenByHash(ctx, hex.EncodeToString(sum[:]))
	}
	type call struct {
		policy string
		group  int64
		actor  string
	}
	for _, c := range []struct {
		name   string
		report func(w io.Writer) error
		status int
		want   string
		cut    bool // the connection is cut after the first bytes
	}{
		{"a PDF", func(w io.Writer) error { _, err := io.WriteString(w, "%PDF-1.7\nreport\n%%EOF\n"); return err }, 200, "%PDF-1.7", false},
		{"an error before the first byte", func(io.Writer) error { return errors.New("no signing key") }, 500,
			"The report of policy plumb-linux-l1 could not be made: no signing key.", false},
		{"nothing found", func(io.Writer) error { return fmt.Errorf("asset 7: %w", store.ErrNotFound) }, 404, "could not be made", false},
		{"nothing written", func(io.Writer) error { return nil }, 500, "the report is empty", false},
		{"an error half way", func(w io.Writer) error {
			io.WriteString(w, "%PDF-1.7\n")
			if f, ok := w.(interface{ Flush() }); ok {
				f.Flush()
			}
			return errors.New("disk full")
		}, 200, "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got call
			h, err := web.New(web.Config{Store: e.st, Box: box, Authenticate: auth, Now: e.clk.now,
				Report: func(ctx context.Context, w io.Writer, policy string, group int64, actor string) error {
					got = call{policy, group, actor}
					return c.report(w)
				}})
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/ui/", h)
			hs := httptest.NewServer(mux)
			defer hs.Close()
			e2 := *e
			e2.t, e2.http = t, hs
			cl := e2.loggedIn("auditor")
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/ui/report?policy=plumb-linux-l1&group=%d", hs.URL, g.ID), nil)
			resp, err := cl.c.Do(req)
			if err != nil && c.cut {
				return // cut before the headers: no response at all
			}
			if err != nil {
				t.Fatal(err)
			}
			body, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got != (call{"plumb-linux-l1", g.ID, "token:auditor-token"}) {
				t.Errorf("Report called with %+v", got)
			}
			if resp.StatusCode != c.status {
				t.Errorf("status %d, want %d:\n%s", resp.StatusCode, c.status, body)
			}
			if c.cut {
				if readErr == nil {
					t.Errorf("a report that failed half way arrived whole: %q", body)
				}
				return
			}
			if readErr != nil || !strings.Contains(string(body), c.want) {
				t.Errorf("body %q (%v), want %q", body, readErr, c.want)
			}
			if c.status == 200 {
				cd := resp.Header.Get("Content-Disposition")
				if resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(cd, `attachment; filename="plumb-report-plumb-linux-l1-web-`) {
					t.Errorf("headers %q %q", resp.Header.Get("Content-Type"), cd)
				}
			}
		})
	}
}
