package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/scanner"
	"github.com/plumbhq/plumb/target/sshtarget"
)

func newScannerCommand() *cobra.Command {
	var (
		serverURL, token, tokenFile, name, logLevel string
		concurrency, objectConcurrency              int
		poll, connectTimeout, commandTimeout        time.Duration
		knownHosts                                  string
		contentDirs                                 []string
		acceptNew                                   bool
	)
	cmd := &cobra.Command{
		Use:   "scanner",
		Short: "Run a scanner worker: take scan jobs from a Plumb server and scan hosts over SSH",
		Long: `Run a scanner worker. It asks the server for queued scan jobs, connects to each
host over SSH with the job's credential (nothing is installed on the host), evaluates
the job's policies and posts the results. Run as many workers as you like; a job
whose worker dies is taken over by another when its lease expires, and its results
are stored once.

The worker's token needs the scanner (or admin) role: plumb token add NAME --role scanner.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logLevel)
			if err != nil {
				return err
			}
			if serverURL == "" {
				return errors.New("--server is required (or set PLUMB_SERVER)")
			}
			if tokenFile != "" {
				b, err := os.ReadFile(tokenFile)
				if err != nil {
					return fmt.Errorf("--token-file: %w", err)
				}
				token = string(b)
			}
			if token == "" {
				return errors.New("a token is required: --token-file, or $PLUMB_TOKEN")
			}
			lib, err := library.Load()
			if err != nil {
				return fmt.Errorf("built-in library: %w", err)
			}
			if name == "" {
				h, _ := os.Hostname()
				name = fmt.Sprintf("%s-%d", h, os.Getpid())
			}
			c := client.New(serverURL, strings.TrimSpace(token))
			if _, err := c.WhoAmI(cmd.Context()); err != nil {
				return fmt.Errorf("server %s: %w", serverURL, err)
			}
			w := &scanner.Worker{
				Jobs:              jobsAPI{c},
				Name:              name,
				Library:           lib,
				Concurrency:       concurrency,
				ObjectConcurrency: objectConcurrency,
				Poll:              poll,
				SSH: sshtarget.Config{KnownHostsFile: knownHosts, AcceptNewHostKey: acceptNew,
					ConnectTimeout: connectTimeout, CommandTimeout: commandTimeout},
				Logger:      log,
				ContentDirs: contentDirs,
			}
			defer w.Close()
			log.Info("scanner started", "server", serverURL, "worker", name, "concurrency", concurrency)
			if err := w.Run(cmd.Context()); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&serverURL, "server", os.Getenv("PLUMB_SERVER"), "the Plumb server's `URL` (default $PLUMB_SERVER)")
	f.StringVar(&token, "token", os.Getenv("PLUMB_TOKEN"), "API token with the scanner role (default $PLUMB_TOKEN; prefer --token-file, argv is visible to other users)")
	f.StringVar(&tokenFile, "token-file", "", "read the API token from `FILE`")
	f.StringVar(&name, "name", "", "worker name shown in job leases (default HOSTNAME-PID)")
	f.IntVar(&concurrency, "concurrency", 4, "hosts scanned at once")
	f.IntVar(&objectConcurrency, "object-concurrency", 8, "objects collected at once on one host")
	f.DurationVar(&poll, "poll", 2*time.Second, "pause between asks when there is no job")
	f.StringVar(&knownHosts, "known-hosts", "", "known_hosts `FILE` with the accepted host keys (default ~/.ssh/known_hosts)")
	f.BoolVar(&acceptNew, "accept-new-host-keys", false, "trust and record the key of a host seen for the first time (a changed key is always refused)")
	f.DurationVar(&connectTimeout, "connect-timeout", 10*time.Second, "bound on connecting and logging in to a host")
	f.DurationVar(&commandTimeout, "command-timeout", 30*time.Second, "bound on each remote command and file operation")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringSliceVar(&contentDirs, "content-dir", nil, "`DIR` holding SCAP data streams for SCAP policies (repeatable; default the SCAP Security Guide's install directories)")
	return cmd
}

// jobsAPI adapts the API client to the worker's Jobs.
type jobsAPI struct{ c *client.Client }

func (j jobsAPI) Claim(ctx context.Context, worker string) (*api.Claim, error) {
	return j.c.ClaimJob(ctx, api.ClaimRequest{Worker: worker})
}

func (j jobsAPI) Heartbeat(ctx context.Context, job int64, attempt int) error {
	return leaseErr(j.c.Heartbeat(ctx, job, api.Heartbeat{Attempt: attempt}))
}

func (j jobsAPI) Complete(ctx context.Context, job int64, c api.Completion) error {
	return leaseErr(j.c.CompleteJob(ctx, job, c))
}

func leaseErr(err error) error {
	if client.IsConflict(err) {
		return fmt.Errorf("%w: %v", scanner.ErrLeaseLost, err)
	}
	return err
}
