package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/internal/pgtest"
	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/store"
)

var (
	plumbBinOnce sync.Once
	plumbBin     string
	plumbBinErr  error
)

// binary builds the plumb command once for the tests that run it as a
// real process (servers and scanners that get killed).
func binary(t *testing.T) string {
	t.Helper()
	plumbBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plumb-bin-")
		if err != nil {
			plumbBinErr = err
			return
		}
		plumbBin = filepath.Join(dir, "plumb")
		out, err := exec.Command("go", "build", "-o", plumbBin, ".").CombinedOutput()
		if err != nil {
			plumbBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if plumbBinErr != nil {
		t.Fatal(plumbBinErr)
	}
	return plumbBin
}

// proc is a plumb process whose standard error is kept for the log.
type proc struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	url  chan string
	done chan struct{}
}

var listenRE = regexp.MustCompile(`plumb server listening" url=(\S+)`)

func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(binary(t), args...), url: make(chan string, 1), done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "PLUMB_TOKEN=", "PLUMB_SERVER=")
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case p.url <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, stderr)
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("--- %s log:\n%s", p.name, p.Log())
		}
	})
	return p
}

func (p *proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *proc) waitURL(t *testing.T) string {
	t.Helper()
	select {
	case u := <-p.url:
		return u
	case <-p.done:
		t.Fatalf("%s exited before listening:\n%s", p.name, p.Log())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not start listening:\n%s", p.name, p.Log())
	}
	return ""
}

// fleet is a server (or two) with scanners' tokens, assets behind real
// sshd instances and the policy imported.
type fleet struct {
	admin    *client.Client
	adminTok string
	scanTok  string
	known    string // known_hosts of every sshd
	assets   []int64
	rules    int // controls of the policy
}

const e2ePolicy = "plumb-linux-l1"

// setupFleet starts n sshd hosts and registers them on the server at
// url, each in its own network partition (they share 127.0.0.1).
func setupFleet(t *testing.T, url, adminTok string, n int, opts ...sshtest.Options) *fleet {
	t.Helper()
	ctx := context.Background()
	f := &fleet{admin: client.New(url, adminTok), adminTok: adminTok}
	key := sshtest.NewKey(t, "")
	cred, err := f.admin.CreateCredential(ctx, api.CredentialInput{Name: "root-key", User: "root", PrivateKey: string(key.PEM)})
	if err != nil {
		t.Fatal(err)
	}
	var known strings.Builder
	for i := range n {
		var o sshtest.Options
		if len(opts) > 0 {
			o = opts[0]
		}
		srv := sshtest.Start(t, o)
		srv.AuthorizeKey(t, "root", key.Public)
		known.WriteString(srv.KnownHostsLine() + "\n")
		a, err := f.admin.CreateAsset(ctx, api.AssetInput{Name: fmt.Sprintf("host%d", i), Addresses: []string{"127.0.0.1"},
			Partition: fmt.Sprintf("lab%d", i), Port: srv.Port, CredentialID: cred.ID, Tags: []string{"Lab"}})
		if err != nil {
			t.Fatal(err)
		}
		f.assets = append(f.assets, a.ID)
	}
	f.known = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(f.known, []byte(known.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.admin.ImportPolicies(ctx, api.PolicyImport{IDs: []string{e2ePolicy}}); err != nil {
		t.Fatal(err)
	}
	tok, err := f.admin.CreateToken(ctx, api.TokenInput{Name: fmt.Sprintf("scanners-%d", time.Now().UnixNano()), Role: api.RoleScanner})
	if err != nil {
		t.Fatal(err)
	}
	f.scanTok = tok.Secret
	lib, err := library.Load()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lib.Policy(e2ePolicy).Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	f.rules = len(rules)
	return f
}

func (f *fleet) scanner(t *testing.T, name, url string, concurrency int) *proc {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tf, []byte(f.scanTok), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, name, "scanner", "--server", url, "--token-file", tf, "--name", name,
		"--known-hosts", f.known, "--concurrency", fmt.Sprint(concurrency), "--poll", "200ms", "--log-level", "debug")
}

func (f *fleet) launch(t *testing.T) store.Scan {
	t.Helper()
	sc, err := f.admin.LaunchScan(context.Background(), api.ScanInput{Policies: []string{e2ePolicy}, Assets: f.assets})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// wait polls the scan until it ends, or fails the test after limit.
func (f *fleet) wait(t *testing.T, c *client.Client, id int64, limit time.Duration) store.Scan {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		sc, err := c.GetScan(context.Background(), id)
		if err == nil && (sc.State == store.Finished || sc.State == store.Failed || sc.State == store.Cancelled) {
			return sc
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan %d not done after %v: %+v (last error %v)", id, limit, sc, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// waitRunning waits until some job of the scan is running on worker
// (name prefix), and returns it.
func waitRunning(t *testing.T, c *client.Client, scan int64, worker string) store.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		jobs, err := c.ScanJobs(context.Background(), scan, store.Page{})
		if err == nil {
			for _, j := range jobs.Items {
				if j.State == store.Running && strings.HasPrefix(j.Worker, worker) {
					return j
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no job of scan %d ran on %s", scan, worker)
	return store.Job{}
}

// checkComplete verifies every job stored exactly one result per control:
// nothing lost, nothing twice.
func (f *fleet) checkComplete(t *testing.T, c *client.Client, sc store.Scan) {
	t.Helper()
	ctx := context.Background()
	if sc.State != store.Finished || sc.Done != len(f.assets) || sc.Failures != 0 {
		t.Fatalf("scan %+v: want finished with %d jobs done", sc, len(f.assets))
	}
	perJob := map[int64]map[int]int{}
	filter := store.ResultFilter{Scan: sc.ID, Page: store.Page{Limit: 1000}}
	for {
		page, err := c.ListResults(ctx, filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			if perJob[r.JobID] == nil {
				perJob[r.JobID] = map[int]int{}
			}
			perJob[r.JobID][r.CID]++
			if r.Status == "error" && (r.Reason == "unreachable" || r.Reason == "auth_failed") {
				t.Errorf("job %d cid %d: %s %s", r.JobID, r.CID, r.Reason, r.Message)
			}
		}
		if page.NextAfter == 0 {
			break
		}
		filter.After = page.NextAfter
	}
	if len(perJob) != len(f.assets) {
		t.Errorf("results from %d jobs, want %d", len(perJob), len(f.assets))
	}
	for job, cids := range perJob {
		if len(cids) != f.rules {
			t.Errorf("job %d: %d controls stored, want %d", job, len(cids), f.rules)
		}
		for cid, n := range cids {
			if n != 1 {
				t.Errorf("job %d: control %d stored %d times", job, cid, n)
			}
		}
	}
}

func serverArgs(dataDir, listen string, extra ...string) []string {
	return append([]string{"server", "--data-dir", dataDir, "--listen", listen, "--lease", "4s",
		"--admin-token-file", filepath.Join(dataDir, "admin.token"), "--log-level", "debug"}, extra...)
}

func readToken(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestServerScannerKilled: kill -9 a scanner mid-scan; its job is taken
// over by another scanner after the lease, with every result stored once.
func TestServerScannerKilled(t *testing.T) {
	sshtest.Require(t)
	data := t.TempDir()
	srv := start(t, "server", serverArgs(data, "127.0.0.1:0")...)
	url := srv.waitURL(t)
	f := setupFleet(t, url, readToken(t, filepath.Join(data, "admin.token")), 3)

	a := f.scanner(t, "scanner-a", url, 1)
	sc := f.launch(t)
	job := waitRunning(t, f.admin, sc.ID, "scanner-a")
	a.kill()
	t.Logf("killed scanner-a holding job %d (attempt %d)", job.ID, job.Attempt)
	f.scanner(t, "scanner-b", url, 2)
	sc = f.wait(t, f.admin, sc.ID, 5*time.Minute)
	f.checkComplete(t, f.admin, sc)
	jobs, err := f.admin.ScanJobs(context.Background(), sc.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs.Items {
		if j.ID == job.ID && (j.Attempt < 2 || !strings.HasPrefix(j.Worker, "scanner-b")) {
			t.Errorf("the killed scanner's job %+v was not taken over by scanner-b", j)
		}
	}
}

// TestServerRestart: restart the server during a scan; the scan finishes
// with nothing lost, as the queue lives in the database.
func TestServerRestart(t *testing.T) {
	sshtest.Require(t)
	data := t.TempDir()
	srv := start(t, "server", serverArgs(data, "127.0.0.1:0")...)
	url := srv.waitURL(t)
	f := setupFleet(t, url, readToken(t, filepath.Join(data, "admin.token")), 3)
	f.scanner(t, "scanner", url, 1)
	sc := f.launch(t)
	waitRunning(t, f.admin, sc.ID, "scanner")
	srv.kill()
	addr := strings.TrimPrefix(url, "http://")
	srv2 := start(t, "server-2", serverArgs(data, addr)...)
	if u := srv2.waitURL(t); u != url {
		t.Fatalf("restarted on %s, want %s", u, url)
	}
	sc = f.wait(t, f.admin, sc.ID, 5*time.Minute)
	f.checkComplete(t, f.admin, sc)
	if strings.Contains(srv2.Log(), "Created the first admin API token") {
		t.Error("the restarted server created another admin token")
	}
}

// TestServerReplicasPostgres: two servers on one PostgreSQL database
// serve the same data, and a scan launched on one is run by a scanner
// of the other.
func TestServerReplicasPostgres(t *testing.T) {
	sshtest.Require(t)
	dsn := pgtest.NewDatabase(t)
	t.Setenv(secretKeyEnv, secret.NewKey())
	d1, d2 := t.TempDir(), t.TempDir()
	s1 := start(t, "replica-1", serverArgs(d1, "127.0.0.1:0", "--database", dsn)...)
	url1 := s1.waitURL(t)
	tok := readToken(t, filepath.Join(d1, "admin.token"))
	s2 := start(t, "replica-2", serverArgs(d2, "127.0.0.1:0", "--database", dsn)...)
	url2 := s2.waitURL(t)
	if _, err := os.Stat(filepath.Join(d2, "admin.token")); err == nil {
		t.Error("the second replica created another admin token")
	}
	f := setupFleet(t, url1, tok, 2)
	c2 := client.New(url2, tok)
	assets, err := c2.ListAssets(context.Background(), store.AssetFilter{Tag: "lab"})
	if err != nil || len(assets.Items) != 2 {
		t.Fatalf("replica 2 sees %d assets (%v), want 2", len(assets.Items), err)
	}
	f.scanner(t, "scanner", url2, 2)
	sc := f.launch(t)
	sc = f.wait(t, c2, sc.ID, 5*time.Minute)
	f.checkComplete(t, c2, sc)
	posture, err := client.New(url1, tok).Posture(context.Background(), store.ResultFilter{Asset: f.assets[0], Page: store.Page{Limit: 1000}})
	if err != nil || len(posture.Items) != f.rules {
		t.Errorf("replica 1 posture of host0: %d results (%v), want %d", len(posture.Items), err, f.rules)
	}
	out, stderr, code := run(t, "posture", "summary", "--policy", e2ePolicy, "--server", url1, "--token", tok, "--json")
	var sum result.Summary
	if code != 0 || json.Unmarshal([]byte(out), &sum) != nil || sum.Total != 2*f.rules || sum.Scored == 0 {
		t.Errorf("plumb posture summary: exit %d, %+v\n%s%s", code, sum, out, stderr)
	}
	out, _, _ = run(t, "posture", "summary", "--asset", "host1", "--server", url1, "--token", tok)
	if !strings.HasPrefix(out, "Score ") {
		t.Errorf("plumb posture summary table:\n%s", out)
	}
}

// TestServerTLS: with a certificate the server speaks HTTPS only, and a
// client that trusts the certificate gets answers.
func TestServerTLS(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "plumb test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)

	srv := start(t, "server", serverArgs(dir, "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)...)
	url := srv.waitURL(t)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("url %s, want https", url)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := client.New(url, readToken(t, filepath.Join(dir, "admin.token")), client.WithHTTPClient(hc))
	if who, err := c.WhoAmI(context.Background()); err != nil || who.Role != "admin" {
		t.Fatalf("whoami over TLS: %+v, %v", who, err)
	}
	resp, err := http.Get("http://" + strings.TrimPrefix(url, "https://") + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
}

// TestServerSCAP: a profile of the SCAP Security Guide imported on the
// server is evaluated by a scanner over SSH, beside a built-in policy, on
// a host whose sessions are chrooted into the Debian 11 root, and every
// rule's result equals a local plumb scan --root of that root.
func TestServerSCAP(t *testing.T) {
	sshtest.Require(t)
	root := need(t, "PLUMB_TEST_BULLSEYE_ROOT", os.Getenv("PLUMB_TEST_BULLSEYE_ROOT"), "run the suite with ./test.sh, which builds the bullseye root")
	data := t.TempDir()
	srv := start(t, "server", serverArgs(data, "127.0.0.1:0")...)
	url := srv.waitURL(t)
	f := setupFleet(t, url, readToken(t, filepath.Join(data, "admin.token")), 1, sshtest.Options{Config: []string{"ChrootDirectory " + root}})
	ctx := context.Background()
	doc, err := f.admin.ImportSCAP(ctx, api.SCAPImport{DataStream: "ssg-debian11-ds.xml", Profile: "standard"})
	if err != nil {
		t.Fatal(err)
	}
	var sp api.SCAPPolicy
	if err := json.Unmarshal(doc.Document, &sp); err != nil {
		t.Fatal(err)
	}
	f.scanner(t, "scanner", url, 1)
	sc, err := f.admin.LaunchScan(ctx, api.ScanInput{Policies: []string{doc.ID, e2ePolicy}, Assets: f.assets})
	if err != nil {
		t.Fatal(err)
	}
	sc = f.wait(t, f.admin, sc.ID, 5*time.Minute)
	if sc.State != store.Finished {
		t.Fatalf("scan %+v", sc)
	}
	rs, _, err := client.All(ctx, store.Page{Limit: 1000}, 0, func(ctx context.Context, p store.Page) (api.List[store.Result], error) {
		return f.admin.ListResults(ctx, store.ResultFilter{Scan: sc.ID, Policy: doc.ID, Page: p})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != sp.Rules {
		t.Errorf("%d results of %s, want %d (one per selected rule)", len(rs), doc.ID, sp.Rules)
	}
	out, stderr, code := run(t, "scan", "--root", root, "--datastream", "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml",
		"--profile", "standard", "--format", "json", "--no-progress")
	if code != 0 {
		t.Fatalf("local scan: exit %d: %s", code, stderr)
	}
	local := map[string]string{}
	for _, r := range decode(t, out).Hosts[0].Policies[0].Results {
		local[r.Rule] = r.SCAPResult
	}
	differ := 0
	for _, r := range rs {
		if r.Rule == "" || r.PolicyVersion != doc.Version || r.Method != "ssh" {
			t.Errorf("result %+v lacks its SCAP identity", r.Result)
			break
		}
		// Runtime state (sysctl values, the environment, the mount table
		// in /proc, which a chroot lacks) is the live host's over SSH and
		// the files' in a root: not compared.
		runtime := strings.Contains(r.Rule, "sysctl") || strings.Contains(r.Rule, "_path_") || strings.Contains(r.Message, "/proc/")
		if r.SCAPResult != local[r.Rule] && !runtime {
			differ++
			t.Errorf("%s: %s through the server, %s locally (%s)", r.Rule, r.SCAPResult, local[r.Rule], r.Message)
		}
	}
	sum, err := f.admin.PostureSummary(ctx, store.ResultFilter{Policy: doc.ID})
	if err != nil || sum.Total != sp.Rules || sum.Counts["pass"] == 0 || sum.Counts["fail"] == 0 {
		t.Errorf("posture summary of %s: %+v, %v", doc.ID, sum, err)
	}
	t.Logf("%s: %d rules, %v, %d differ from the local scan", doc.ID, sp.Rules, sum.Counts, differ)
}
