package web_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// TestHTTP checks the dashboard over plain HTTP against a real server and
// the story's data: sessions, CSRF, headers, the numbers of every page
// against the API's, the exports, hostile data and bad parameters.
func TestHTTP(t *testing.T) {
	e := newEnv(t)
	auditor := e.loggedIn("auditor")
	hostileScan := int64(0)
	{
		var scans api.List[store.Scan]
		e.must("auditor", "GET", "/v1/scans", nil, 200, &scans)
		for _, sc := range scans.Items {
			if slices.Contains(sc.Assets, e.hostile.ID) {
				hostileScan = sc.ID
			}
		}
	}
	pages := []string{"/ui/", "/ui/failing", "/ui/failing?criticality=4&technology=debian-12", "/ui/scores?by=policy",
		"/ui/trend", fmt.Sprintf("/ui/trend?group=%d&granularity=week", e.group.ID), "/ui/assets",
		fmt.Sprintf("/ui/assets/%d", e.assets[2].ID), fmt.Sprintf("/ui/assets/%d/controls/%d?policy=plumb-linux-l1", e.assets[2].ID, e.approved.CID),
		"/ui/exceptions", "/ui/exceptions/expiring", fmt.Sprintf("/ui/exceptions/%d", e.approved.ID), "/ui/scans",
		fmt.Sprintf("/ui/scans/%d", e.running.ID), "/ui/reports"}

	t.Run("pages need a session", func(t *testing.T) {
		anon := e.client()
		for _, p := range append(pages, "/ui/failing?format=csv", "/ui/nowhere") {
			got := anon.get(p)
			want := "/ui/login?next=" + url.QueryEscape(p)
			if p == "/ui/" {
				want = "/ui/login"
			}
			if got.status != http.StatusSeeOther || got.header.Get("Location") != want {
				t.Errorf("GET %s without a session = %d to %q, want 303 to %q", p, got.status, got.header.Get("Location"), want)
			}
		}
		if got := anon.get("/"); got.status != http.StatusFound || got.header.Get("Location") != "/ui/" {
			t.Errorf("GET / = %d to %q, want a redirect to /ui/", got.status, got.header.Get("Location"))
		}
	})

	t.Run("every page renders", func(t *testing.T) {
		for _, p := range pages {
			got := auditor.get(p)
			if got.status != 200 || !strings.Contains(got.header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s = %d %s:\n%s", p, got.status, got.header.Get("Content-Type"), got.body)
				continue
			}
			for _, want := range []string{`<html lang="en">`, `<main id="main"`, `<nav aria-label="Main">`, `action="/ui/logout"`, "auditor-token"} {
				if !strings.Contains(got.body, want) {
					t.Errorf("GET %s: no %s", p, want)
				}
			}
		}
	})

	t.Run("security headers", func(t *testing.T) {
		for _, c := range []struct {
			client *uiClient
			path   string
			cache  string
		}{
			{e.client(), "/ui/login", "no-store"},
			{auditor, "/ui/", "no-store"},
			{auditor, "/ui/failing?format=csv", "no-store"},
			{auditor, "/ui/nowhere", "no-store"},
			{e.client(), "/ui/static/style.css", "no-cache"},
		} {
			got := c.client.get(c.path)
			h := got.header
			csp := h.Get("Content-Security-Policy")
			for _, d := range []string{"default-src 'self'", "img-src 'self' data:", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s: Content-Security-Policy %q lacks %s", c.path, csp, d)
				}
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != c.cache {
				t.Errorf("%s: nosniff %q, referrer %q, cache %q (want %s)", c.path, h.Get("X-Content-Type-Options"),
					h.Get("Referrer-Policy"), h.Get("Cache-Control"), c.cache)
			}
		}
		css := e.client().get(strings.Split(regexp.MustCompile(`href="(/ui/static/style\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(auditor.get("/ui/").body)[1], "&amp;")[0])
		if css.status != 200 || !strings.Contains(css.header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
			t.Errorf("the versioned stylesheet: %d %q %q", css.status, css.header.Get("Cache-Control"), css.header.Get("Content-Type"))
		}
	})

	t.Run("login", func(t *testing.T) {
		// A revoked operator token.
		var created api.TokenCreated
		e.must("admin", "POST", "/v1/tokens", api.TokenInput{Name: "gone", Role: "operator"}, 201, &created)
		e.must("admin", "DELETE", fmt.Sprintf("/v1/tokens/%d", created.ID), nil, 204, nil)
		refused := "This token was not accepted."
		for _, c := range []struct {
			name, token string
			status      int
			message     string
		}{
			{"unknown token", "plumb_" + strings.Repeat("A", 43), 401, refused},
			{"garbage", "hello <b>", 401, refused},
			{"revoked token", created.Secret, 401, refused},
			{"no token", "  ", 400, "Enter an API token."},
			{"scanner", e.tokens["scanner"], 403, "cannot sign in to the dashboard"},
		} {
			c2 := e.client()
			got := c2.login(c.token, "/ui/scans")
			if got.status != c.status || !strings.Contains(got.body, c.message) || c2.sessionCookie() != nil {
				t.Errorf("%s: %d, session %v, want %d saying %q:\n%s", c.name, got.status, c2.sessionCookie(), c.status, c.message, got.body)
			}
			if strings.Contains(got.body, c.token) && strings.TrimSpace(c.token) != "" {
				t.Errorf("%s: the page repeats the token", c.name)
			}
		}
		for _, role := range []string{"admin", "operator", "approver", "auditor"} {
			c := e.client()
			got := c.login(e.tokens[role], "/ui/scans?state=running")
			if got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/scans?state=running" {
				t.Errorf("login as %s = %d to %q", role, got.status, got.header.Get("Location"))
				continue
			}
			var raw string
			for _, v := range got.header.Values("Set-Cookie") {
				if strings.HasPrefix(v, "plumb_session=") {
					raw = v
				}
			}
			for _, attr := range []string{"Path=/ui/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"} {
				if !strings.Contains(raw, attr) {
					t.Errorf("session cookie %q lacks %s", raw, attr)
				}
			}
			if strings.Contains(raw, "Secure") || strings.Contains(raw, e.tokens[role]) {
				t.Errorf("session cookie %q: Secure on plain HTTP, or the secret in it", raw)
			}
			if p := c.get("/ui/scans?state=running"); p.status != 200 || !strings.Contains(p.body, role+"-token") && role != "admin" {
				t.Errorf("after login as %s: %d", role, p.status)
			}
		}
		// next leads to the dashboard only.
		for next, want := range map[string]string{
			"//evil.example/ui/":           "/ui/",
			"https://evil.example/ui/":     "/ui/",
			"/ui/../v1/tokens":             "/ui/",
			"/v1/tokens":                   "/ui/",
			"/ui/\\evil":                   "/ui/",
			"/ui/login":                    "/ui/",
			"/ui/failing?criticality=4&x=": "/ui/failing?criticality=4&x=",
		} {
			if got := e.client().login(e.tokens["auditor"], next); got.header.Get("Location") != want {
				t.Errorf("login with next %q leads to %q, want %q", next, got.header.Get("Location"), want)
			}
		}
	})

	t.Run("secure cookies over HTTPS", func(t *testing.T) {
		s := newServer(t, true)
		got := s.client().login(s.tokens["auditor"], "")
		if !strings.Contains(strings.Join(got.header.Values("Set-Cookie"), "\n"), "; Secure") {
			t.Errorf("SecureCookies: cookies %q are not Secure", got.header.Values("Set-Cookie"))
		}
	})

	t.Run("forms need the CSRF value and this site", func(t *testing.T) {
		c := e.loggedIn("operator")
		token := csrfOf(t, c.get("/ui/").body)
		for _, x := range []struct {
			name    string
			form    url.Values
			headers []string
		}{
			{"no CSRF value", url.Values{}, nil},
			{"a wrong CSRF value", url.Values{"csrf": {strings.Repeat("x", len(token))}}, nil},
			{"another site", url.Values{"csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site"}},
			{"another origin", url.Values{"csrf": {token}}, []string{"Origin", "https://evil.example"}},
		} {
			if got := c.post("/ui/logout", x.form, x.headers...); got.status != http.StatusForbidden || c.get("/ui/").status != 200 {
				t.Errorf("logout with %s = %d, want 403 and the session kept", x.name, got.status)
			}
		}
		anon := e.client()
		if got := anon.post("/ui/login", url.Values{"token": {e.tokens["auditor"]}}); got.status != http.StatusForbidden {
			t.Errorf("login POST without the form's CSRF value = %d, want 403", got.status)
		}
		form := anon.get("/ui/login")
		if got := anon.post("/ui/login", url.Values{"token": {e.tokens["auditor"]}, "csrf": {csrfOf(t, form.body)}},
			"Sec-Fetch-Site", "cross-site"); got.status != http.StatusForbidden {
			t.Errorf("cross-site login POST = %d, want 403", got.status)
		}
		got := c.post("/ui/logout", url.Values{"csrf": {token}}, "Sec-Fetch-Site", "same-origin", "Origin", e.http.URL)
		if got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/ui/login") {
			t.Fatalf("logout = %d to %q", got.status, got.header.Get("Location"))
		}
		if p := c.get("/ui/"); p.status != http.StatusSeeOther {
			t.Errorf("after logout GET /ui/ = %d, want the login redirect", p.status)
		}
	})

	t.Run("a revoked token logs out at once", func(t *testing.T) {
		var created api.TokenCreated
		e.must("admin", "POST", "/v1/tokens", api.TokenInput{Name: "leaver", Role: "auditor"}, 201, &created)
		c := e.client()
		if got := c.login(created.Secret, ""); got.status != http.StatusSeeOther {
			t.Fatalf("login = %d", got.status)
		}
		if got := c.get("/ui/assets"); got.status != 200 {
			t.Fatalf("GET /ui/assets = %d", got.status)
		}
		e.must("admin", "DELETE", fmt.Sprintf("/v1/tokens/%d", created.ID), nil, 204, nil)
		if got := c.get("/ui/assets"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/ui/login") {
			t.Errorf("after revocation GET /ui/assets = %d to %q, want the login page", got.status, got.header.Get("Location"))
		}
		// A tampered or foreign cookie is no session either.
		forged := e.client()
		u, _ := url.Parse(e.http.URL + "/ui/")
		forged.jar.SetCookies(u, []*http.Cookie{{Name: "plumb_session", Value: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA", Path: "/ui/"}})
		if got := forged.get("/ui/"); got.status != http.StatusSeeOther {
			t.Errorf("a forged session cookie: %d", got.status)
		}
	})

	t.Run("the numbers are the API's", func(t *testing.T) {
		dash := auditor.get("/ui/").body
		fleet := e.summary("")
		if got := kpi(t, dash, "score"); got != pct(fleet.Score) {
			t.Errorf("fleet score %s, API %s", got, pct(fleet.Score))
		}
		for k, want := range map[string]string{"weighted": pct(fleet.Weighted), "coverage": pct(fleet.Coverage),
			"error": strconv.Itoa(fleet.Counts[result.Error]), "excepted": strconv.Itoa(fleet.Excepted), "fail": strconv.Itoa(fleet.Counts[result.Fail])} {
			if got := kpi(t, dash, k); strings.TrimSuffix(got, "%") != want {
				t.Errorf("fleet %s %s, API %s", k, got, want)
			}
		}
		for _, c := range []struct{ by, key, query string }{
			{"group", strconv.FormatInt(e.group.ID, 10), fmt.Sprintf("group=%d", e.group.ID)},
			{"policy", "plumb-linux-l1", "policy=plumb-linux-l1"},
			{"technology", "debian-12", "technology=debian-12"},
		} {
			sum := e.summary(c.query)
			score, weighted := scoreCell(t, dash, c.by, c.key)
			if score != pct(sum.Score) || weighted != pct(sum.Weighted) {
				t.Errorf("dashboard %s %s: %s%% (%s%%), API %s%% (%s%%)", c.by, c.key, score, weighted, pct(sum.Score), pct(sum.Weighted))
			}
		}
		if sum := e.summary(fmt.Sprintf("group=%d", e.group.ID)); sum.Excepted == 0 {
			t.Errorf("the group has no excepted Fail: %+v", sum)
		}
		// Scans in progress, exceptions expiring soon.
		running := section(t, dash, "running")
		if !strings.Contains(running, fmt.Sprintf(`data-scan="%d"`, e.running.ID)) || !strings.Contains(running, "1 / 4") {
			t.Errorf("scans in progress:\n%s", running)
		}
		expiring := section(t, dash, "expiring")
		if !strings.Contains(expiring, fmt.Sprintf(`data-exception="%d"`, e.approved.ID)) || strings.Contains(expiring, fmt.Sprintf(`data-exception="%d"`, e.pending.ID)) {
			t.Errorf("expiring exceptions:\n%s", expiring)
		}
		if !strings.Contains(dash, `data-points="4"`) {
			t.Errorf("the fleet trend does not have 4 points")
		}
		// Failing controls: the counts line of each filter, and the rows.
		for _, q := range []string{"", "criticality=4", "technology=debian-12", "criticality=2&technology=debian-12",
			fmt.Sprintf("group=%d", e.group.ID), fmt.Sprintf("group=%d&criticality=4", e.group.ID),
			"criticality=5&technology=" + url.QueryEscape(hostileTech), "policy=plumb-linux-l1", "technology=none"} {
			page := auditor.get("/ui/failing?" + q).body
			sum := e.summary("status=fail&" + q)
			want := fmt.Sprintf("<strong>%d</strong> failing %s count in the score; <strong>%d</strong> more", sum.Counts[result.Fail],
				map[bool]string{true: "result", false: "results"}[sum.Counts[result.Fail] == 1], sum.Excepted)
			if !strings.Contains(page, want) {
				t.Errorf("failing %s: no %q in\n%s", q, want, regexp.MustCompile(`(?s)<p class="counts".*?</p>`).FindString(page))
			}
		}
		q := "criticality=4&technology=debian-12"
		failing := auditor.get("/ui/failing?" + q).body
		var items api.List[store.Result]
		e.must("auditor", "GET", "/v1/posture?status=fail&limit=1000&"+q, nil, 200, &items)
		if n := strings.Count(failing, "<tr data-result="); n != min(len(items.Items), 50) || n == 0 {
			t.Errorf("failing rows %d, API %d", n, len(items.Items))
		}
		for _, it := range items.Items {
			if it.Criticality < 4 || !strings.Contains(failing, fmt.Sprintf(`data-result="%d"`, it.ID)) && len(items.Items) <= 50 {
				t.Errorf("failing item %d (crit %d) missing", it.ID, it.Criticality)
			}
		}
		// Excepted items say so, with the exception's type, owner and expiry.
		group := auditor.get(fmt.Sprintf("/ui/failing?group=%d&policy=plumb-linux-l1", e.group.ID)).body
		if !strings.Contains(group, "Fail (excepted)") || !strings.Contains(group, "Risk acceptance · owner web team &lt;ops@example.com&gt; · until") {
			t.Errorf("the failing list does not show the excepted Fails with their exception")
		}
		// Asset page: its summary.
		asset := auditor.get(fmt.Sprintf("/ui/assets/%d", e.assets[2].ID)).body
		if got, want := kpi(t, asset, "score"), pct(e.summary(fmt.Sprintf("asset=%d", e.assets[2].ID)).Score); got != want {
			t.Errorf("asset score %s, API %s", got, want)
		}
	})

	t.Run("one host's control shows its evidence", func(t *testing.T) {
		var items api.List[store.Result]
		e.must("auditor", "GET", fmt.Sprintf("/v1/posture?asset=%d&cid=%d", e.assets[2].ID, e.approved.CID), nil, 200, &items)
		it := items.Items[0]
		got := auditor.get(fmt.Sprintf("/ui/assets/%d/controls/%d?policy=%s", it.AssetID, it.CID, it.Policy))
		for _, want := range []string{
			`<pre class="value expected">` + htmlEscape(it.Expected) + `</pre>`,
			"Fail (excepted)", e.approved.Justification, "Approved", "Risk acceptance",
		} {
			if !strings.Contains(got.body, want) {
				t.Errorf("control page lacks %q", want)
			}
		}
		for _, a := range it.Actual {
			if !strings.Contains(got.body, `<li><pre class="value">`+htmlEscape(a)+`</pre></li>`) {
				t.Errorf("control page lacks the actual value %q", a)
			}
		}
	})

	t.Run("exports are the API's lists", func(t *testing.T) {
		for _, c := range []struct{ ui, api string }{
			{"/ui/failing?format=json", "/v1/posture?status=fail&limit=1000"},
			{"/ui/failing?format=json&criticality=4&technology=debian-12", "/v1/posture?status=fail&limit=1000&criticality=4&technology=debian-12"},
			{"/ui/failing?format=json&limit=7", "/v1/posture?status=fail&limit=7"},
			{"/ui/failing?format=json&limit=7&after=3", "/v1/posture?status=fail&limit=7&after=3"},
			{fmt.Sprintf("/ui/assets/%d?format=json", e.assets[2].ID), fmt.Sprintf("/v1/posture?asset=%d&limit=1000", e.assets[2].ID)},
			{"/ui/scores?by=group&format=json", "/v1/scores?by=group"},
			{"/ui/scores?by=mandate&format=json", "/v1/scores?by=mandate"},
			{"/ui/assets?format=json", "/v1/assets"},
			{"/ui/exceptions?format=json", "/v1/exceptions"},
			{"/ui/exceptions?format=json&status=approved", "/v1/exceptions?status=approved"},
			{"/ui/exceptions/expiring?format=json", "/v1/exceptions/expiring"},
			{"/ui/scans?format=json", "/v1/scans"},
			{fmt.Sprintf("/ui/scans/%d?format=json", e.running.ID), fmt.Sprintf("/v1/scans/%d/jobs", e.running.ID)},
			{"/ui/trend?format=json", "/v1/trend"},
			{fmt.Sprintf("/ui/exceptions/%d?format=json", e.approved.ID), fmt.Sprintf("/v1/exceptions/%d/history", e.approved.ID)},
			{fmt.Sprintf("/ui/trend?format=json&group=%d&granularity=month", e.group.ID), fmt.Sprintf("/v1/trend?scope=group&key=%d&granularity=month", e.group.ID)},
		} {
			got := auditor.get(c.ui)
			if got.status != 200 || got.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(got.header.Get("Content-Disposition"), "attachment;") {
				t.Errorf("%s: %d %q %q", c.ui, got.status, got.header.Get("Content-Type"), got.header.Get("Content-Disposition"))
				continue
			}
			status, want := e.do("auditor", "GET", c.api, nil)
			if status != 200 {
				t.Fatalf("%s: %d %s", c.api, status, want)
			}
			var a, b any
			if err := json.Unmarshal([]byte(got.body), &a); err != nil {
				t.Errorf("%s: %v", c.ui, err)
			}
			json.Unmarshal(want, &b)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s differs from %s:\n%.600s\n%.600s", c.ui, c.api, got.body, want)
			}
			if strings.Contains(c.ui, "limit=") && !strings.Contains(got.body, `"next_after"`) {
				t.Errorf("%s: a full page without next_after", c.ui)
			}
		}
		// CSV: the same rows, a header, numbers as the API has them.
		got := auditor.get("/ui/failing?format=csv&criticality=4&technology=debian-12")
		rows, err := csv.NewReader(strings.NewReader(got.body)).ReadAll()
		if err != nil || got.header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("failing CSV: %v %q", err, got.header.Get("Content-Type"))
		}
		var items api.List[store.Result]
		e.must("auditor", "GET", "/v1/posture?status=fail&limit=1000&criticality=4&technology=debian-12", nil, 200, &items)
		if len(rows) != len(items.Items)+1 || rows[0][0] != "result_id" {
			t.Fatalf("failing CSV: %d rows, API %d items", len(rows), len(items.Items))
		}
		for i, it := range items.Items {
			row := rows[i+1]
			if row[0] != strconv.FormatInt(it.ID, 10) || row[5] != strconv.Itoa(it.CID) || row[10] != "fail" || (row[11] != "") != (it.Excepted != nil) {
				t.Errorf("CSV row %v, API item %+v", row, it)
			}
		}
		scores := auditor.get("/ui/scores?by=group&format=csv")
		rows, _ = csv.NewReader(strings.NewReader(scores.body)).ReadAll()
		sum := e.summary(fmt.Sprintf("group=%d", e.group.ID))
		if len(rows) != 2 || rows[1][0] != strconv.FormatInt(e.group.ID, 10) || rows[1][2] != pct(sum.Score) || rows[1][3] != pct(sum.Weighted) {
			t.Errorf("scores CSV %v, API %+v", rows, sum)
		}
		// The HTML pages link to their exports.
		list := auditor.get("/ui/failing?criticality=4&after=1").body
		if !strings.Contains(list, `href="/ui/failing?criticality=4&amp;format=csv"`) || !strings.Contains(list, `href="/ui/failing?criticality=4&amp;format=json"`) {
			t.Errorf("the failing page does not link to its exports")
		}
	})

	t.Run("hostile scan data is escaped", func(t *testing.T) {
		paths := []string{"/ui/", "/ui/failing", "/ui/failing?criticality=urgent", "/ui/assets", fmt.Sprintf("/ui/assets/%d", e.hostile.ID),
			fmt.Sprintf("/ui/assets/%d/controls/%d", e.hostile.ID, hostileCID), fmt.Sprintf("/ui/assets/%d/controls/%d", e.hostile.ID, hostileCID+1),
			"/ui/scores?by=technology", "/ui/scores?by=asset", "/ui/trend?technology=" + url.QueryEscape(hostileTech),
			fmt.Sprintf("/ui/scans/%d", hostileScan), "/ui/scans", fmt.Sprintf("/ui/scores?by=mandate&technology=%s", url.QueryEscape(hostileTech))}
		raw := []string{hostileName, hostileTag, "<script>alert", "<svg onload", "<img src=x", "<i>ian", "<b>5.2.1", "<b>ssh", "<i>permission", "<x>", hostileActual}
		for _, p := range paths {
			got := auditor.get(p)
			if got.status != 200 {
				t.Errorf("GET %s = %d", p, got.status)
				continue
			}
			for _, r := range raw {
				if strings.Contains(got.body, r) {
					t.Errorf("GET %s: %q is in the page unescaped", p, r)
				}
			}
		}
		ctl := auditor.get(fmt.Sprintf("/ui/assets/%d/controls/%d", e.hostile.ID, hostileCID)).body
		for _, want := range []string{"&lt;script&gt;alert(&#34;asset&#34;)&lt;/script&gt;", htmlEscape(hostileActual), htmlEscape(hostileExpected)} {
			if !strings.Contains(ctl, want) {
				t.Errorf("the control page does not show %q escaped", want)
			}
		}
		// A technology carried in a URL is query-escaped.
		if scores := auditor.get("/ui/scores?by=technology").body; !strings.Contains(scores, `href="/ui/failing?technology=deb%3Ci%3Eian%3C%2Fi%3E"`) {
			t.Errorf("the technology link is not query-escaped")
		}
		// CSV cells that a spreadsheet would read as formulas are neutralized.
		got := auditor.get(fmt.Sprintf("/ui/assets/%d?format=csv", e.hostile.ID))
		rows, err := csv.NewReader(strings.NewReader(got.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rows {
			if r[15] == "'"+hostileFormula {
				found = true
			}
			if strings.HasPrefix(r[15], "=") {
				t.Errorf("CSV cell %q starts a formula", r[15])
			}
		}
		if !found {
			t.Errorf("the hostile expected value is not in the CSV: %v", rows)
		}
	})

	t.Run("bad parameters are named", func(t *testing.T) {
		for _, c := range []struct {
			path   string
			status int
			param  string
		}{
			{"/ui/failing?criticality=severe", 400, "criticality"},
			{"/ui/failing?group=web", 400, "group"},
			{"/ui/failing?group=999", 400, "group"},
			{"/ui/failing?limit=0", 400, "limit"},
			{"/ui/failing?limit=5000", 400, "limit"},
			{"/ui/failing?after=-1", 400, "after"},
			{"/ui/failing?format=xml", 400, "format"},
			{"/ui/?granularity=hour", 400, "granularity"},
			{"/ui/scores?by=colour", 400, "by"},
			{"/ui/trend?from=yesterday", 400, "from"},
			{"/ui/trend?from=2027-03-02&to=2027-03-01", 400, "to"},
			{"/ui/trend?group=1&policy=plumb-linux-l1", 400, "group"},
			{"/ui/assets?group=x", 400, "group"},
			{fmt.Sprintf("/ui/assets/%d?status=broken", e.assets[0].ID), 400, "status"},
			{"/ui/exceptions?status=maybe", 400, "status"},
			{"/ui/exceptions?cid=x", 400, "cid"},
			{"/ui/exceptions/expiring?within=soon", 400, "within"},
			{"/ui/scans?state=asleep", 400, "state"},
			{"/ui/report", 400, "policy"},
			{"/ui/report?policy=nope", 400, "policy"},
			{"/ui/report?policy=plumb-linux-l1&group=12345", 400, "group"},
			{"/ui/assets/99999", 404, ""},
			{"/ui/assets/web1", 404, ""},
			{fmt.Sprintf("/ui/assets/%d/controls/99999999", e.assets[0].ID), 404, ""},
			{"/ui/scans/99999", 404, ""},
			{"/ui/exceptions/99999", 404, ""},
			{"/ui/nowhere", 404, ""},
		} {
			got := auditor.get(c.path)
			if got.status != c.status {
				t.Errorf("GET %s = %d, want %d", c.path, got.status, c.status)
				continue
			}
			if c.param != "" && !strings.Contains(got.body, `<code class="param">`+c.param+`</code>`) {
				t.Errorf("GET %s: the page does not name %s:\n%s", c.path, c.param, got.body)
			}
		}
	})

	t.Run("policy report", func(t *testing.T) {
		got := auditor.get(fmt.Sprintf("/ui/report?policy=plumb-linux-l1&group=%d", e.group.ID))
		if got.status != 200 || got.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(got.body, "%PDF-") ||
			!strings.HasPrefix(got.header.Get("Content-Disposition"), `attachment; filename="plumb-report-plumb-linux-l1-web-`) {
			t.Errorf("report: %d %q %q %.200q", got.status, got.header.Get("Content-Type"), got.header.Get("Content-Disposition"), got.body)
		}
		fleet := auditor.get("/ui/report?policy=plumb-linux-l1")
		if fleet.status != 200 || !strings.HasPrefix(fleet.body, "%PDF-") {
			t.Errorf("fleet report: %d %.200q", fleet.status, fleet.body)
		}
		t.Logf("policy report of group web: %d bytes", len(got.body))
	})

	t.Run("a store error is a 500 page, logged", func(t *testing.T) {
		s := newServer(t, false)
		c := s.loggedIn("auditor")
		s.st.Close()
		got := c.get("/ui/failing")
		if got.status != 500 || !strings.Contains(got.body, "Reference:") || strings.Contains(strings.ToLower(got.body), "sql") {
			t.Errorf("with the store closed: %d:\n%s", got.status, got.body)
		}
		ref := regexp.MustCompile(`Reference: <code>([0-9a-f]+)</code>`).FindStringSubmatch(got.body)
		if ref == nil || !strings.Contains(s.logs.String(), "reference="+ref[1]) {
			t.Errorf("the reference is not in the log:\n%s", s.logs.String())
		}
	})
}

func (e *env) summary(query string) result.Summary {
	e.t.Helper()
	var s result.Summary
	e.must("auditor", "GET", "/v1/posture/summary?"+query, nil, 200, &s)
	return s
}

func pct(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// kpi reads a key figure of a page's summary.
func kpi(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`data-kpi="` + name + `">([^<]*)</dd>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no key figure %s", name)
	}
	return strings.TrimSuffix(m[1], "%")
}

// scoreCell reads the score and weighted score of a key in a score table.
func scoreCell(t *testing.T, body, by, key string) (score, weighted string) {
	t.Helper()
	tbl := regexp.MustCompile(`(?s)<table class="data scores[^"]*" data-by="` + by + `">.*?</table>`).FindString(body)
	m := regexp.MustCompile(`(?s)<tr data-key="` + regexp.QuoteMeta(key) + `">.*?data-score="([0-9.]+)".*?data-weighted="([0-9.]+)"`).FindStringSubmatch(tbl)
	if m == nil {
		t.Fatalf("no %s %s in the score table:\n%s", by, key, tbl)
	}
	return m[1], m[2]
}

// section is the HTML of the section with this id.
func section(t *testing.T, body, id string) string {
	t.Helper()
	s := regexp.MustCompile(`(?s)<section [^>]*id="` + id + `".*?</section>`).FindString(body)
	if s == "" {
		t.Fatalf("no section %s", id)
	}
	return s
}

// htmlEscape is how html/template writes text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "\x00", "\uFFFD").Replace(s)
}
