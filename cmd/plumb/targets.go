package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/inventory"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap"
	"github.com/plumbhq/plumb/target"
)

// targetSpec is one host a scan covers, known before it is connected to.
type targetSpec struct {
	name string // as reports show it
	open func(ctx context.Context) (target.Target, error)
}

// targetSpecs turns --root, --target and --targets into the hosts to
// scan, in the order given; none means this machine.
func targetSpecs(o scanOptions) ([]targetSpec, error) {
	var specs []targetSpec
	if o.root != "" {
		if len(o.targets) > 0 || o.inventory != "" {
			return nil, errors.New("--root scans one unpacked root file system; it cannot be combined with --target or --targets")
		}
		dir := o.root
		return []targetSpec{{name: "root:" + dir, open: func(context.Context) (target.Target, error) {
			t, err := target.NewRoot(dir)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", target.ErrUnreachable, err)
			}
			return t, nil
		}}}, nil
	}
	for _, arg := range o.targets {
		s, err := parseTargetURL(arg, o)
		if err != nil {
			return nil, err
		}
		specs = append(specs, s)
	}
	if o.inventory != "" {
		inv, err := inventory.ReadFile(o.inventory)
		if err != nil {
			return nil, err
		}
		for _, h := range inv.Hosts {
			specs = append(specs, sshSpec(h, o))
		}
	}
	if len(specs) == 0 {
		specs = append(specs, targetSpec{name: "local", open: func(context.Context) (target.Target, error) { return target.NewLocal(), nil }})
	}
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.name] {
			return nil, fmt.Errorf("target %s is given twice", s.name)
		}
		seen[s.name] = true
	}
	return specs, nil
}

// parseTargetURL reads one --target: "local", or ssh://[user@]host[:port].
func parseTargetURL(arg string, o scanOptions) (targetSpec, error) {
	if arg == "local" {
		return targetSpec{name: "local", open: func(context.Context) (target.Target, error) { return target.NewLocal(), nil }}, nil
	}
	u, err := url.Parse(arg)
	if err != nil || u.Scheme != "ssh" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return targetSpec{}, fmt.Errorf("--target %q: want ssh://[user@]host[:port] or local", arg)
	}
	if _, set := u.User.Password(); set {
		return targetSpec{}, fmt.Errorf("--target %q: a password in the URL would end up in shell history and process lists; use --password-env or an inventory", arg)
	}
	h := inventory.Host{Address: u.Hostname(), Port: 22, User: u.User.Username()}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return targetSpec{}, fmt.Errorf("--target %q: bad port %q", arg, p)
		}
		h.Port = n
	}
	h.Name = h.Address
	if h.Port != 22 {
		h.Name = net.JoinHostPort(h.Address, strconv.Itoa(h.Port))
	}
	return sshSpec(h, o), nil
}

// hostResult is one host's scan.
type hostResult struct {
	host result.Host
	err  error // only a cancelled or timed-out scan as a whole
}

// scanAll scans every target, at most o.concurrency at once. One host
// failing never stops the others: it becomes a Host with Error set and
// every control Error with the reason.
func scanAll(ctx context.Context, specs []targetSpec, runs []engine.Run, sr *scap.Profile, o scanOptions, stderr io.Writer) ([]result.Host, error) {
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	prog := newProgress(stderr, !o.noProgress && isTerminal(stderr), len(specs))
	defer prog.done()

	n := o.concurrency
	if n < 1 {
		n = 1
	}
	out := make([]hostResult, len(specs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, spec := range specs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = scanHost(ctx, spec, runs, sr, o, log, prog)
			prog.hostDone()
		}()
	}
	wg.Wait()
	hosts := make([]result.Host, len(out))
	for i, r := range out {
		if r.err != nil {
			return nil, r.err
		}
		hosts[i] = r.host
	}
	return hosts, nil
}

// scanHost connects to one target and evaluates everything on it.
func scanHost(ctx context.Context, spec targetSpec, runs []engine.Run, sr *scap.Profile, o scanOptions, log *slog.Logger, prog *progress) hostResult {
	start := time.Now()
	t, err := spec.open(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return hostResult{err: ctx.Err()}
		}
		log.Warn("cannot scan", "target", spec.name, "err", err)
		t = target.Failed(spec.name, err)
	}
	defer t.Close()
	eng := &engine.Engine{Concurrency: o.objectConcurrency, Logger: log, Progress: prog.update}
	host, err := eng.Scan(ctx, t, runs)
	if err != nil {
		return hostResult{err: err}
	}
	// Reports name the host as the user did (an inventory name), not as
	// the connection does.
	host.Target = spec.name
	if sr != nil {
		if host.Error != "" {
			host.Policies = append(host.Policies, sr.Unscanned(host.Reason, host.Error))
		} else if err := scanSCAP(ctx, sr, t, &host, o.objectConcurrency, log); err != nil {
			return hostResult{err: err}
		}
	}
	addTransportStats(t, &host.Stats)
	host.Stats.Seconds = time.Since(start).Seconds()
	return hostResult{host: host}
}

// hostExitError decides the exit code contribution of failed hosts:
// unreachable, timed out or untrusted hosts always make the scan exit 3;
// an authentication failure does with --fail-on-auth-failure.
func hostExitError(hosts []result.Host, failOnAuth bool) error {
	var bad []string
	for _, h := range hosts {
		if h.Error == "" || (h.Reason == result.ReasonAuthFailed && !failOnAuth) {
			continue
		}
		bad = append(bad, h.Target+": "+h.Error)
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", errUnreachable, strings.Join(bad, "; "))
}
