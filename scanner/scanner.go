// Package scanner is the worker behind `plumb scanner`: it takes scan
// jobs from a Plumb server, collects each host over SSH with nothing
// installed on it, evaluates the job's policies and posts the results.
// Many workers can run at once; the server's leases make sure a job whose
// worker dies is taken over and stored once.
package scanner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap"
	"github.com/plumbhq/plumb/scap/xccdf"
	"github.com/plumbhq/plumb/store"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// Jobs is the part of the server API a worker uses.
type Jobs interface {
	// Claim returns a job, or nil when there is none.
	Claim(ctx context.Context, worker string) (*api.Claim, error)
	// Heartbeat extends the lease; ErrLeaseLost when the job is gone.
	Heartbeat(ctx context.Context, job int64, attempt int) error
	// Complete posts the results; ErrLeaseLost when the job is gone.
	Complete(ctx context.Context, job int64, c api.Completion) error
}

// ErrLeaseLost: the server gave the job to another worker (or the scan
// was cancelled); the worker drops it.
var ErrLeaseLost = errors.New("job lease lost")

// Worker runs jobs until its context ends.
type Worker struct {
	Jobs    Jobs
	Name    string
	Library *policy.Library // built-in controls the policies select from
	// Concurrency is the number of jobs (hosts) run at once (default 4);
	// ObjectConcurrency the objects collected at once on one host.
	Concurrency       int
	ObjectConcurrency int
	// Poll is the pause after finding no job (default 2 s, jittered).
	Poll time.Duration
	// SSH is the template for every connection: host key policy,
	// timeouts, limits. Host, port and credentials come from the job.
	SSH    sshtarget.Config
	Logger *slog.Logger
	// OnDone, when set, is told of every job the worker finished.
	OnDone func(job int64, err error)
	// ContentDirs are where SCAP data streams are looked for (default
	// xccdf.ContentDirs()).
	ContentDirs []string

	mu       sync.Mutex
	profiles map[string]*scap.Profile // by SHA-256 and profile id
}

// profile opens (once per worker) the SCAP content a policy names,
// refusing a file that is not the one the policy was imported from.
func (w *Worker) profile(doc api.SCAPPolicy) (*scap.Profile, error) {
	key := doc.SHA256 + " " + doc.Profile
	w.mu.Lock()
	defer w.mu.Unlock()
	if p := w.profiles[key]; p != nil {
		return p, nil
	}
	dirs := w.ContentDirs
	if dirs == nil {
		dirs = xccdf.ContentDirs()
	}
	path, err := scap.Locate(doc.DataStream, dirs)
	if err != nil {
		return nil, err
	}
	sum, err := scap.FileSHA256(path)
	if err != nil {
		return nil, err
	}
	if sum != doc.SHA256 {
		return nil, fmt.Errorf("%s on this scanner is not the content the policy was imported from (SHA-256 %s, want %s): install the same ssg package version", path, sum[:12], doc.SHA256[:min(12, len(doc.SHA256))])
	}
	p, err := scap.OpenProfile(path, scap.OpenOptions{}, doc.Profile, "")
	if err != nil {
		return nil, err
	}
	if w.profiles == nil {
		w.profiles = map[string]*scap.Profile{}
	}
	w.profiles[key] = p
	return p, nil
}

// Close releases the SCAP content the worker opened.
func (w *Worker) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, p := range w.profiles {
		p.Close()
		delete(w.profiles, k)
	}
	return nil
}

// Run takes and runs jobs until ctx ends. Errors talking to the server
// are logged and retried; Run returns only ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	n := max(w.Concurrency, 1)
	if w.Concurrency == 0 {
		n = 4
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, fmt.Sprintf("%s/%d", w.Name, i))
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (w *Worker) log() *slog.Logger {
	if w.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Logger
}

func (w *Worker) loop(ctx context.Context, name string) {
	poll := w.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	backoff := poll
	for ctx.Err() == nil {
		claim, err := w.Jobs.Claim(ctx, name)
		if err != nil {
			if ctx.Err() == nil {
				w.log().Warn("cannot claim a job", "worker", name, "err", err, "retry_in", backoff)
			}
			sleep(ctx, backoff)
			backoff = min(2*backoff, time.Minute)
			continue
		}
		backoff = poll
		if claim == nil {
			// Jitter spreads the polls of many idle workers.
			sleep(ctx, poll/2+rand.N(poll))
			continue
		}
		err = w.runJob(ctx, claim)
		if err != nil && ctx.Err() == nil {
			w.log().Warn("job not completed", "job", claim.Job.ID, "err", err)
		}
		if w.OnDone != nil {
			w.OnDone(claim.Job.ID, err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// runJob scans one host while a heartbeat keeps the lease, then posts.
func (w *Worker) runJob(ctx context.Context, c *api.Claim) error {
	job := c.Job
	log := w.log().With("job", job.ID, "scan", job.ScanID, "asset", c.Asset.Name, "attempt", job.Attempt)
	log.Info("job started")
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lease := time.Duration(c.LeaseSeconds) * time.Second
	if lease <= 0 {
		lease = time.Minute
	}
	go func() {
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
			}
			err := w.Jobs.Heartbeat(jctx, job.ID, job.Attempt)
			if errors.Is(err, ErrLeaseLost) {
				cancel(ErrLeaseLost)
				return
			}
			if err != nil && jctx.Err() == nil {
				log.Warn("heartbeat failed; retrying", "err", err)
			}
		}
	}()
	comp, err := w.scan(jctx, c, log)
	if err != nil {
		if cause := context.Cause(jctx); errors.Is(cause, ErrLeaseLost) {
			return cause
		}
		return err
	}
	comp.Attempt = job.Attempt
	// Posting gets its own bound: results of a long scan must not be
	// lost to a slow server, but a dead one must not hang the worker.
	for try := 0; ; try++ {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Minute)
		err = w.Jobs.Complete(pctx, job.ID, comp)
		pcancel()
		if err == nil || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil || try == 4 {
			break
		}
		log.Warn("cannot post results; retrying", "err", err)
		sleep(ctx, time.Duration(1<<try)*time.Second)
	}
	if err == nil {
		log.Info("job done", "results", len(comp.Results), "host_error", comp.Error)
	}
	return err
}

// scan evaluates the claim's policies on its asset.
func (w *Worker) scan(ctx context.Context, c *api.Claim, log *slog.Logger) (api.Completion, error) {
	var runs []engine.Run
	type scapRun struct {
		id      string
		version int
		p       *scap.Profile
	}
	var scaps []scapRun
	versions := map[string]int{}
	for _, doc := range c.Policies {
		if doc.Source == "scap" {
			var sp api.SCAPPolicy
			if err := json.Unmarshal(doc.Document, &sp); err != nil {
				return api.Completion{}, fmt.Errorf("policy %s version %d: %w", doc.ID, doc.Version, err)
			}
			p, err := w.profile(sp)
			if err != nil {
				// This scanner cannot run the job at all: say why on the
				// job rather than let another worker fail the same way.
				msg := fmt.Sprintf("policy %s version %d: %v", doc.ID, doc.Version, err)
				log.Error("cannot evaluate the job's SCAP content", "err", msg)
				return api.Completion{Error: msg, Results: []store.Result{}}, nil
			}
			scaps = append(scaps, scapRun{doc.ID, doc.Version, p})
			versions[doc.ID] = doc.Version
			continue
		}
		var p policy.Policy
		if err := json.Unmarshal(doc.Document, &p); err != nil {
			return api.Completion{}, fmt.Errorf("policy %s version %d: %w", doc.ID, doc.Version, err)
		}
		rules, err := p.Rules(w.Library)
		if err != nil {
			return api.Completion{}, fmt.Errorf("policy %s version %d: %w", doc.ID, doc.Version, err)
		}
		runs = append(runs, engine.Run{Policy: &p, Rules: rules})
		versions[p.ID] = doc.Version
	}
	a := c.Asset
	name := a.Name
	var t target.Target
	cfg, err := w.sshConfig(c)
	if err == nil {
		t, err = sshtarget.Dial(ctx, cfg)
	}
	if err != nil {
		if ctx.Err() != nil {
			return api.Completion{}, ctx.Err()
		}
		log.Warn("cannot scan", "err", err)
		t = target.Failed(name, err)
	}
	defer t.Close()
	eng := &engine.Engine{Concurrency: w.ObjectConcurrency, Logger: log}
	host, err := eng.Scan(ctx, t, runs)
	if err != nil {
		return api.Completion{}, err
	}
	for _, sr := range scaps {
		var run result.PolicyRun
		if host.Error != "" {
			run = sr.p.Unscanned(host.Reason, host.Error)
		} else {
			method, _, _ := strings.Cut(t.Name(), ":")
			if run, _, err = sr.p.Scan(ctx, t, w.ObjectConcurrency, method); err != nil {
				return api.Completion{}, err
			}
		}
		run.ID = sr.id
		host.Policies = append(host.Policies, run)
	}
	comp := api.Completion{Technology: host.Facts.Technology, Error: host.Error, Results: []store.Result{}}
	for _, run := range host.Policies {
		for _, r := range run.Results {
			comp.Results = append(comp.Results, store.Result{Policy: run.ID, PolicyVersion: versions[run.ID], Result: r})
		}
	}
	return comp, nil
}

// errNoCredential carries the server's reason a job has no credential;
// it is an authentication failure for every control of the host.
type errNoCredential string

func (e errNoCredential) Error() string { return string(e) }
func (e errNoCredential) Unwrap() error { return target.ErrAuth }

func (w *Worker) sshConfig(c *api.Claim) (sshtarget.Config, error) {
	a := c.Asset
	cfg := w.SSH
	switch {
	case len(a.Hostnames) > 0:
		cfg.Host = a.Hostnames[0]
	case len(a.Addresses) > 0:
		cfg.Host = a.Addresses[0]
	default:
		return cfg, fmt.Errorf("asset %s has no address or hostname: %w", a.Name, target.ErrUnreachable)
	}
	cfg.Port = a.Port
	if c.Credential == nil {
		msg := c.CredentialError
		if msg == "" {
			msg = "no credential"
		}
		return cfg, errNoCredential(msg)
	}
	s := c.Credential
	cfg.User = s.User
	if s.PrivateKey != "" {
		cfg.PrivateKey = []byte(s.PrivateKey)
	}
	cfg.Passphrase = s.Passphrase
	cfg.Password = s.Password
	if s.Sudo {
		cfg.Sudo = sshtarget.SudoSudo
		cfg.SudoPassword = s.SudoPassword
	}
	if strings.HasPrefix(cfg.Host, "-") {
		return cfg, fmt.Errorf("asset %s: host %q: %w", a.Name, cfg.Host, target.ErrUnreachable)
	}
	return cfg, nil
}
