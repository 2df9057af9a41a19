package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plumbhq/plumb/target"
)

// An object is one piece of host data a check needs. Objects are planned
// from every selected check, de-duplicated, and collected once per scan;
// evaluation then reads them from the collector. OVAL objects map onto the
// same kinds (textfilecontent54 -> read, file -> stat, dpkginfo ->
// packages, sysctl -> sysctl, partition -> mounts, password/shadow ->
// passwd/shadow, systemdunit* -> units).
type object struct {
	kind string
	arg  string
}

func (o object) String() string {
	if o.arg == "" {
		return o.kind
	}
	return o.kind + " " + o.arg
}

// Object kinds.
const (
	kStat          = "stat"           // arg: path; target.FileInfo (symlinks followed)
	kRead          = "read"           // arg: path; []byte, a missing file is fs.ErrNotExist
	kGlob          = "glob"           // arg: pattern; []string
	kSSHD          = "sshd"           // *parse.SSHDConfig
	kSysctlRuntime = "sysctl.runtime" // arg: key; string
	kSysctlConfig  = "sysctl.config"  // sysctlConfig
	kPackages      = "packages"       // packageDB
	kUnits         = "units"          // *unitState
	kMounts        = "mounts"         // mountTable
	kModprobe      = "modprobe"       // []modprobeEntry
	kModules       = "modules.loaded" // map[string]bool
	kPasswd        = "passwd"         // []parse.User
	kShadow        = "shadow"         // []parse.Shadow
	kGroup         = "group"          // []parse.Group
	kPAM           = "pam"            // arg: file; []parse.PAMLine
	kWalk          = "walk"           // *walkResult
	kCommand       = "command"        // arg: argv joined by NUL; target.CmdResult
)

type entry struct {
	done chan struct{}
	val  any
	err  error
}

// collector collects objects from one target, each at most once, safely
// from many goroutines: the first caller collects, later callers wait.
type collector struct {
	t     target.Target
	facts target.Facts

	mu      sync.Mutex
	entries map[object]*entry

	filesRead     atomic.Int64
	entriesWalked atomic.Int64
	commands      atomic.Int64
	done          atomic.Int64 // planned objects collected
}

func newCollector(t target.Target, facts target.Facts) *collector {
	return &collector{t: t, facts: facts, entries: map[object]*entry{}}
}

// get returns the collected value of o, collecting it first if needed.
func (c *collector) get(ctx context.Context, o object) (any, error) {
	c.mu.Lock()
	e, ok := c.entries[o]
	if !ok {
		e = &entry{done: make(chan struct{})}
		c.entries[o] = e
		c.mu.Unlock()
		e.val, e.err = c.collect(ctx, o)
		close(e.done)
		return e.val, e.err
	}
	c.mu.Unlock()
	select {
	case <-e.done:
		return e.val, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// collectAll collects every planned object with at most n in flight.
func (c *collector) collectAll(ctx context.Context, objs []object, n int) {
	if n < 1 {
		n = 1
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, o := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c.get(ctx, o) //nolint:errcheck // errors are kept in the entry and reported by evaluation
			c.done.Add(1)
		}()
	}
	wg.Wait()
}

func (c *collector) collect(ctx context.Context, o object) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch o.kind {
	case kStat:
		return c.t.Stat(ctx, o.arg)
	case kRead:
		c.filesRead.Add(1)
		return c.t.ReadFile(ctx, o.arg, target.MaxFileSize)
	case kGlob:
		return target.Glob(ctx, c.t, o.arg)
	case kSSHD:
		return c.collectSSHD(ctx)
	case kSysctlRuntime:
		return c.collectSysctlRuntime(ctx, o.arg)
	case kSysctlConfig:
		return c.collectSysctlConfig(ctx)
	case kPackages:
		return c.collectPackages(ctx)
	case kUnits:
		return c.collectUnits(ctx)
	case kMounts:
		return c.collectMounts(ctx)
	case kModprobe:
		return c.collectModprobe(ctx)
	case kModules:
		return c.collectModules(ctx)
	case kPasswd:
		return c.collectPasswd(ctx)
	case kShadow:
		return c.collectShadow(ctx)
	case kGroup:
		return c.collectGroup(ctx)
	case kPAM:
		return c.collectPAM(ctx, o.arg)
	case kWalk:
		return c.collectWalk(ctx)
	case kCommand:
		return c.collectCommand(ctx, strings.Split(o.arg, "\x00"))
	}
	return nil, fmt.Errorf("unknown object kind %q", o.kind)
}

// readFile reads a file through the collector's cache.
func (c *collector) readFile(ctx context.Context, path string) ([]byte, error) {
	v, err := c.get(ctx, object{kRead, path})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// readOptional reads a file, treating a missing file as empty (found=false).
func (c *collector) readOptional(ctx context.Context, path string) (data []byte, found bool, err error) {
	data, err = c.readFile(ctx, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (c *collector) glob(ctx context.Context, pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		return []string{pattern}, nil
	}
	v, err := c.get(ctx, object{kGlob, pattern})
	if err != nil {
		return nil, err
	}
	return v.([]string), nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }
