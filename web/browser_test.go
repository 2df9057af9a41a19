package web_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// chromiumPath is Debian's Chromium (package chromium).
const chromiumPath = "/usr/bin/chromium"

// stepTimeout bounds every browser step: a hung browser fails the test in
// seconds, not at the test binary's deadline.
const stepTimeout = 15 * time.Second

// browser is a headless Chromium tab driven over the DevTools protocol,
// with the console messages and JavaScript dialogs it saw.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string
	dir     string // screenshots
	shots   int
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	dialogs []string
}

// startBrowser starts Chromium with a fresh profile and the flags the
// tests allow, and a 1366x768 viewport (a laptop screen). Without
// Chromium the test is skipped, or fails under CI=true.
func startBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Chromium at %s: %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// The first Run starts the browser and lives as long as its context,
	// so it cannot carry a timeout itself: a timer bounds it instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start Chromium: %v", err)
		}
	case <-time.After(30 * time.Second):
		cancelAlloc()
		t.Fatal("Chromium did not start within 30 s")
	}
	b := &browser{t: t, ctx: ctx, base: base, dir: artifactsDir(t)}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			dctx, cancel := context.WithTimeout(ctx, stepTimeout)
			chromedp.Call(dctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			cancel()
		}
	}()
	b.do("set the viewport", chromedp.EmulateViewport(1366, 768))
	return b
}

// artifactsDir is where the screenshots go: $PLUMB_TEST_ARTIFACTS, else
// the temporary directory's plumb-artifacts/web.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("PLUMB_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "plumb-artifacts", "web")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs one action with the step timeout and returns its value.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(steps...))
}

// open navigates to a dashboard path and waits for the page.
func (b *browser) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

// click clicks the first element sel matches and waits for the page it
// loads.
func (b *browser) click(sel string) {
	b.t.Helper()
	run(b, "click "+sel, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel))))
}

// location is the path and query of the page shown.
func (b *browser) location() string {
	b.t.Helper()
	loc := run(b, "location", chromedp.Location())
	return strings.TrimPrefix(loc, b.base)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// js evaluates an expression in the page (DevTools evaluation: the page's
// own policy allows no script, and needs none).
func js[T any](b *browser, expr string) T {
	b.t.Helper()
	return run(b, expr, chromedp.Evaluate[T](expr))
}

// shot saves a full-page PNG screenshot as a test artefact.
func (b *browser) shot(name string) {
	b.t.Helper()
	// Usable on a 1366x768 laptop: nothing wider than the window.
	if w := js[[]int](b, `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		b.t.Errorf("%s: the page is %d pixels wide in a %d pixel window", name, w[0], w[1])
	}
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	b.shots++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// TestBrowser walks the story in headless Chromium: log in, read
// the group's score, filter the failing controls, open one host's failing
// control and read its evidence, see the exceptions, the trend chart and
// the scan in progress, and log out. Each number read from the page is
// compared with the API's.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		startBrowser(t, "") // skips, or fails under CI
	}
	e := newEnv(t)
	b := startBrowser(t, e.http.URL)

	// Not signed in: the dashboard sends to the login page.
	b.open("/ui/")
	if loc := b.location(); loc != "/ui/login" {
		t.Fatalf("/ui/ without a session shows %s, want the login page", loc)
	}
	b.shot("login")
	b.do("type the token", chromedp.SendKeys(chromedp.ID("token"), e.tokens["auditor"]))
	b.click(`form[action="/ui/login"] button[type="submit"]`)
	if loc := b.location(); loc != "/ui/" {
		t.Fatalf("after login: %s", loc)
	}
	b.shot("dashboard")

	// The fleet and the group's score, as the API has them.
	fleet, group := e.summary(""), e.summary(fmt.Sprintf("group=%d", e.group.ID))
	if got := b.text(`[data-kpi="score"]`); got != pct(fleet.Score)+"%" {
		t.Errorf("fleet score on the page %q, API %.1f", got, fleet.Score)
	}
	cell := fmt.Sprintf(`table[data-by="group"] tr[data-key="%d"]`, e.group.ID)
	if got := b.text(cell + ` [data-score]`); got != pct(group.Score)+"%" {
		t.Errorf("group %s score on the page %q, API %.1f", e.group.Name, got, group.Score)
	}
	if got := b.text(cell + ` [data-weighted]`); got != pct(group.Weighted)+"%" {
		t.Errorf("group %s weighted score on the page %q, API %.1f", e.group.Name, got, group.Weighted)
	}
	// The trend chart: an SVG with a point per snapshot day.
	if n := js[int](b, `document.querySelectorAll('svg#fleet-trend circle.pt-score').length`); n != 4 {
		t.Errorf("the fleet trend has %d points, want 4", n)
	}
	if title := js[string](b, `document.querySelector('svg#fleet-trend title').textContent`); !strings.Contains(title, "Fleet score") {
		t.Errorf("the trend chart's title is %q", title)
	}
	// The scan in progress and the exception expiring soon.
	if got := b.text(fmt.Sprintf(`#running tr[data-scan="%d"] .progress-text`, e.running.ID)); got != "1 / 4" {
		t.Errorf("scan in progress shows %q, want 1 / 4", got)
	}
	if got := b.text(fmt.Sprintf(`#expiring tr[data-exception="%d"]`, e.approved.ID)); !strings.Contains(got, "web team") {
		t.Errorf("expiring exception row: %q", got)
	}

	// Failing controls, filtered by criticality and technology.
	b.click(`nav[aria-label="Main"] a[href="/ui/failing"]`)
	b.do("filter", chromedp.SetValue(chromedp.ID("f-crit"), "4"), chromedp.SetValue(chromedp.ID("f-tech"), "debian-12"))
	b.click(`form.filters button[type="submit"]`)
	loc, _ := url.Parse(b.location())
	if loc.Path != "/ui/failing" || loc.Query().Get("criticality") != "4" || loc.Query().Get("technology") != "debian-12" {
		t.Fatalf("after filtering: %s", loc)
	}
	var fails api.List[store.Result]
	e.must("auditor", "GET", "/v1/posture?status=fail&criticality=4&technology=debian-12&limit=1000", nil, 200, &fails)
	crits := js[[]string](b, `Array.from(document.querySelectorAll('#failing-table tbody tr[data-result] .crit')).map(e => e.textContent)`)
	if len(crits) != min(len(fails.Items), 50) || len(crits) == 0 {
		t.Errorf("%d failing rows, API %d", len(crits), len(fails.Items))
	}
	for _, c := range crits {
		if c != "Critical" && c != "Urgent" {
			t.Errorf("a row of criticality %q under the filter critical", c)
		}
	}
	b.shot("failing-critical-debian")

	// One host's failing control: its expected and actual values.
	b.click(`#failing-table tbody tr[data-result] a.evidence`)
	loc, _ = url.Parse(b.location())
	parts := strings.Split(loc.Path, "/") // /ui/assets/ID/controls/CID
	if len(parts) != 6 || parts[2] != "assets" || parts[4] != "controls" {
		t.Fatalf("the evidence page is %s", loc)
	}
	var item api.List[store.Result]
	e.must("auditor", "GET", fmt.Sprintf("/v1/posture?asset=%s&cid=%s&policy=%s", parts[3], parts[5], url.QueryEscape(loc.Query().Get("policy"))), nil, 200, &item)
	if len(item.Items) != 1 {
		t.Fatalf("API posture of %s: %+v", loc, item.Items)
	}
	want := item.Items[0]
	if got := js[string](b, `document.querySelector('article.evidence pre.expected').textContent`); got != want.Expected {
		t.Errorf("expected value on the page %q, API %q", got, want.Expected)
	}
	actual := js[[]string](b, `Array.from(document.querySelectorAll('article.evidence ol.actual pre')).map(e => e.textContent)`)
	if strings.Join(actual, "\n") != strings.Join(want.Actual, "\n") {
		t.Errorf("actual values on the page %q, API %q", actual, want.Actual)
	}
	if got := b.text(`article.evidence .control-title`); got != want.Title {
		t.Errorf("title %q, API %q", got, want.Title)
	}
	t.Logf("evidence of control %d on asset %d: expected %q, actual %q", want.CID, want.AssetID, want.Expected, want.Actual)
	b.shot("evidence")
	b.click(`a.back`)
	if loc := b.location(); loc != "/ui/assets/"+parts[3] {
		t.Errorf("the link back leads to %s", loc)
	}
	b.shot("asset")

	// The excepted control, with its exception.
	b.open(fmt.Sprintf("/ui/assets/%d/controls/%d?policy=plumb-linux-l1", e.assets[2].ID, e.approved.CID))
	if got := b.text(`article.evidence .status`); got != "Fail (excepted)" {
		t.Errorf("the excepted control reads %q", got)
	}
	if got := b.text(`article.evidence .exception .just`); got != e.approved.Justification {
		t.Errorf("the exception's justification reads %q", got)
	}
	b.shot("evidence-excepted")

	// Exceptions: the approved one with its justification.
	b.click(`nav[aria-label="Main"] a[href="/ui/exceptions"]`)
	row := fmt.Sprintf(`#exceptions-table tr[data-exception="%d"]`, e.approved.ID)
	if got := b.text(row + ` td.just`); got != e.approved.Justification {
		t.Errorf("exception %d justification %q", e.approved.ID, got)
	}
	if got := b.text(row + ` .state`); got != "Approved" {
		t.Errorf("exception %d state %q", e.approved.ID, got)
	}
	b.shot("exceptions")
	b.click(`.tabs a[href="/ui/exceptions/expiring"]`)
	if n := js[int](b, `document.querySelectorAll('#exceptions-table tr[data-exception]').length`); n != 1 {
		t.Errorf("%d exceptions expiring soon, want 1", n)
	}

	// Scans: the one in progress.
	b.click(`nav[aria-label="Main"] a[href="/ui/scans"]`)
	if got := b.text(fmt.Sprintf(`#scans-table tr[data-scan="%d"] .state`, e.running.ID)); got != "Running" {
		t.Errorf("scan %d state %q", e.running.ID, got)
	}
	b.shot("scans")
	b.click(fmt.Sprintf(`#scans-table tr[data-scan="%d"] a`, e.running.ID))
	if n := js[int](b, `document.querySelectorAll('#jobs-table tr[data-job]').length`); n != 4 {
		t.Errorf("scan %d lists %d hosts, want 4", e.running.ID, n)
	}
	b.shot("scan")

	// The trend of the group, the reports, and hostile evidence shown as
	// text (no dialog may open).
	b.open(fmt.Sprintf("/ui/trend?group=%d", e.group.ID))
	if n := js[int](b, `document.querySelectorAll('svg#trend circle.pt-score').length`); n != 4 {
		t.Errorf("the group trend has %d points, want 4", n)
	}
	b.shot("trend")
	b.open("/ui/reports")
	b.shot("reports")
	b.open(fmt.Sprintf("/ui/assets/%d/controls/%d", e.hostile.ID, hostileCID))
	if got := b.text(`h1 .name`); got != hostileName {
		t.Errorf("the hostile asset's name reads %q", got)
	}
	if got := js[string](b, `document.querySelector('article.evidence pre.expected').textContent`); got != hostileExpected {
		t.Errorf("the hostile expected value reads %q", got)
	}
	if n := js[int](b, `document.querySelectorAll('script, img, svg[onload]').length`); n != 0 {
		t.Errorf("hostile evidence made %d script, img or svg elements", n)
	}
	b.shot("evidence-hostile")

	// Sign out: the session is gone.
	b.open("/ui/")
	b.click(`form[action="/ui/logout"] button`)
	if loc := b.location(); !strings.HasPrefix(loc, "/ui/login") || !strings.Contains(b.text("main"), "You are signed out.") {
		t.Errorf("after sign out: %s", loc)
	}
	b.open("/ui/failing")
	if loc := b.location(); loc != "/ui/login?next="+url.QueryEscape("/ui/failing") {
		t.Errorf("after sign out /ui/failing shows %s", loc)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.dialogs) > 0 {
		t.Errorf("JavaScript dialogs opened: %q", b.dialogs)
	}
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
			t.Errorf("browser console: %s (%s)", m, m.URL)
		}
	}
	t.Logf("%d screenshots in %s; %d console messages", b.shots, b.dir, len(b.console))
}
