package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/store"
)

// newRemoteScanCommands are the subcommands of plumb scan that talk to a
// server; plumb scan itself keeps scanning locally.
func newRemoteScanCommands() []*cobra.Command {
	return []*cobra.Command{
		newScanLaunchCommand(), newScanListCommand(), newScanStatusCommand(), newScanJobsCommand(),
		idActionCommand("cancel", "scan", "cancelled", "Cancel a server-side scan: queued jobs never run, running ones are dropped", "plumb scan cancel 42", (*client.Client).CancelScan), newScanScheduleCommand(), newScanSchedulesCommand(), idActionCommand("unschedule", "schedule", "deleted", "Delete a scan schedule (scans it launched stay)", "plumb scan unschedule 3", (*client.Client).DeleteSchedule),
	}
}

// scanTargetFlags say what a server-side scan evaluates.
type scanTargetFlags struct {
	name       string
	policies   []string
	assets     []string
	groups     []string
	credential string
}

func (f *scanTargetFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "a `NAME` for the scan (schedules default to every-DURATION)")
	fl.StringArrayVarP(&f.policies, "policy", "p", nil, "policy `ID` to evaluate (repeatable; default: the policies assigned to the groups)")
	fl.StringArrayVar(&f.assets, "asset", nil, "scan the asset `ID or NAME` (repeatable)")
	fl.StringArrayVar(&f.groups, "group", nil, "scan every asset of the group `ID or NAME` (repeatable)")
	fl.StringVar(&f.credential, "credential", "", "log in with the credential `ID or NAME` instead of each asset's own")
}

func (f *scanTargetFlags) input(ctx context.Context, c *client.Client) (api.ScanInput, error) {
	in := api.ScanInput{Name: f.name, Policies: nonEmpty(f.policies)}
	if len(f.assets) == 0 && len(f.groups) == 0 {
		return in, errors.New("nothing to scan: give --asset or --group (repeatable)")
	}
	var err error
	if in.Assets, err = resolveAll(ctx, c, f.assets, resolveAsset); err != nil {
		return in, err
	}
	if in.Groups, err = resolveAll(ctx, c, f.groups, resolveGroup); err != nil {
		return in, err
	}
	if f.credential != "" {
		if in.CredentialID, err = resolveCredential(ctx, c, f.credential); err != nil {
			return in, err
		}
	}
	return in, nil
}

func scanTable(w io.Writer, scans []store.Scan) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tHOSTS DONE\tFAILED\tPOLICIES\tCREATED\tCREATED BY")
	for _, s := range scans {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%d\t%s\t%s\t%s\n", s.ID, cell(s.Name), s.State, s.Done, s.Jobs, s.Failures,
			joinCell(s.Policies), tcell(s.Created), cell(s.CreatedBy))
	}
	return tw.Flush()
}

func scanDetails(w io.Writer, s store.Scan) error {
	return details(w,
		"ID", strconv.FormatInt(s.ID, 10),
		"Name", s.Name,
		"State", s.State,
		"Hosts", fmt.Sprintf("%d done of %d, %d failed", s.Done, s.Jobs, s.Failures),
		"Policies", strings.Join(s.Policies, ", "),
		"Assets", strings.Trim(idsCell(s.Assets), "-"),
		"Groups", strings.Trim(idsCell(s.Groups), "-"),
		"Credential", strings.Trim(idCell(s.CredentialID), "-"),
		"Schedule", strings.Trim(idCell(s.ScheduleID), "-"),
		"Created", tcell(s.Created),
		"Created by", s.CreatedBy,
		"Started", strings.Trim(timeCell(s.Started), "-"),
		"Finished", strings.Trim(timeCell(s.Finished), "-"),
	)
}

// finished reports whether a scan's state is final.
func finished(state string) bool {
	return state == store.Finished || state == store.Failed || state == store.Cancelled
}

func newScanLaunchCommand() *cobra.Command {
	var (
		o        remoteOptions
		f        scanTargetFlags
		wait     bool
		interval time.Duration
	)
	cmd := &cobra.Command{
		Use:   "launch --server URL (--asset ID | --group ID)... [--policy P]... [--wait]",
		Short: "Launch a scan on a Plumb server",
		Long: `Launch a scan on a Plumb server: one job per asset, run by the server's scanner
workers. With --wait, follow its progress on standard error until it ends; the command
then fails when the scan failed (no host could be scanned) or was cancelled.`,
		Example: `  plumb scan launch --group web --policy plumb-linux-l1 --wait --server https://plumb.example.com
  plumb scan launch --asset web1 --asset db1 --credential deploy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 {
				return fmt.Errorf("--interval %s: want a positive duration", interval)
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				in, err := f.input(ctx, c)
				if err != nil {
					return err
				}
				s, err := c.LaunchScan(ctx, in)
				if err != nil {
					return err
				}
				if wait {
					if s, err = waitScan(ctx, c, s, interval, cmd.ErrOrStderr()); err != nil {
						return err
					}
				}
				if err := o.print(cmd.OutOrStdout(), s, func(w io.Writer) error { return scanDetails(w, s) }); err != nil {
					return err
				}
				if wait && s.State != store.Finished {
					return fmt.Errorf("scan %d %s (%d of %d hosts failed; see plumb scan jobs %d)", s.ID, s.State, s.Failures, s.Jobs, s.ID)
				}
				return nil
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the scan ends, showing per-host progress on standard error")
	cmd.Flags().DurationVar(&interval, "interval", 2*time.Second, "with --wait, ask for progress this often")
	return cmd
}

// waitScan polls the scan until it ends, drawing progress on stderr: one
// line redrawn in place on a terminal, a line per change otherwise.
func waitScan(ctx context.Context, c *client.Client, s store.Scan, interval time.Duration, stderr io.Writer) (store.Scan, error) {
	tty := isTerminal(stderr)
	last := ""
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		line := fmt.Sprintf("scan %d: %s, %d/%d hosts done, %d failed", s.ID, s.State, s.Done, s.Jobs, s.Failures)
		if line != last {
			if tty {
				fmt.Fprintf(stderr, "\r\033[K%s", line)
			} else {
				fmt.Fprintln(stderr, line)
			}
			last = line
		}
		if finished(s.State) {
			if tty {
				fmt.Fprintln(stderr)
			}
			return s, nil
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(stderr)
			}
			return s, fmt.Errorf("stopped waiting; scan %d goes on (plumb scan status %d, plumb scan cancel %d): %w", s.ID, s.ID, s.ID, ctx.Err())
		case <-t.C:
		}
		next, err := c.GetScan(ctx, s.ID)
		if err != nil {
			if ctx.Err() == nil && client.StatusCode(err) == 0 {
				// A lost connection may come back: keep the last state.
				continue
			}
			return s, err
		}
		s = next
	}
}

func newScanListCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
		f  store.ScanFilter
	)
	cmd := &cobra.Command{
		Use:     "list --server URL [--state STATE]",
		Short:   "List the scans of a Plumb server",
		Example: `  plumb scan list --state running --server https://plumb.example.com`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				scans, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Scan], error) {
					f.Page = p
					return c.ListScans(ctx, f)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), scans, func(w io.Writer) error { return scanTable(w, scans) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	cmd.Flags().StringVar(&f.State, "state", "", "only scans in `STATE`: queued, running, finished, failed or cancelled")
	return cmd
}

func newScanStatusCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "status ID --server URL",
		Short:   "Show a server-side scan and its per-host progress",
		Example: `  plumb scan status 42`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("scan", args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				s, err := c.GetScan(ctx, id)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), s, func(w io.Writer) error { return scanDetails(w, s) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newScanJobsCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "jobs ID --server URL",
		Short:   "List the jobs (one per asset) of a server-side scan",
		Example: `  plumb scan jobs 42`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("scan", args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				jobs, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Job], error) {
					return c.ScanJobs(ctx, id, p)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), jobs, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ID\tASSET\tSTATE\tATTEMPT\tWORKER\tSTARTED\tFINISHED\tERROR")
					for _, j := range jobs {
						fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%s\t%s\t%s\n", j.ID, j.AssetID, j.State, j.Attempt, cell(j.Worker),
							timeCell(j.Started), timeCell(j.Finished), cell(j.Error))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	return cmd
}

func scheduleTable(w io.Writer, ss []store.Schedule) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tNAME\tEVERY\tNEXT\tPOLICIES\tASSETS\tGROUPS\tCREATED BY")
	for _, s := range ss {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, cell(s.Name), shortDuration(s.Every), tcell(s.Next),
			joinCell(s.Policies), idsCell(s.Assets), idsCell(s.Groups), cell(s.CreatedBy))
	}
	return tw.Flush()
}

func newScanScheduleCommand() *cobra.Command {
	var (
		o     remoteOptions
		f     scanTargetFlags
		every time.Duration
		start string
	)
	cmd := &cobra.Command{
		Use:   "schedule --every DURATION --server URL (--asset ID | --group ID)... [--policy P]...",
		Short: "Launch the same server-side scan at a fixed interval",
		Example: `  plumb scan schedule --every 24h --start 2025-07-01T02:00:00Z --group web --policy plumb-linux-l1
  plumb scan schedule --every 168h --group prod --name weekly`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if every < time.Minute {
				return fmt.Errorf("--every %s: want at least 1m (e.g. 24h)", every)
			}
			in := api.ScheduleInput{Every: every.String()}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return fmt.Errorf("--start %q: want an RFC 3339 time such as 2025-07-01T02:00:00Z", start)
				}
				in.Start = &t
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				var err error
				if in.ScanInput, err = f.input(ctx, c); err != nil {
					return err
				}
				if in.Name == "" {
					in.Name = "every-" + shortDuration(every)
				}
				s, err := c.CreateSchedule(ctx, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), s, func(w io.Writer) error { return scheduleTable(w, []store.Schedule{s}) })
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd)
	cmd.Flags().DurationVar(&every, "every", 0, "launch the scan every `DURATION` (at least 1m, e.g. 24h)")
	cmd.Flags().StringVar(&start, "start", "", "first launch at `TIME` (RFC 3339; default now)")
	return cmd
}

// shortDuration spells d without zero units: 24h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func newScanSchedulesCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "schedules --server URL",
		Short:   "List the scan schedules of a Plumb server",
		Example: `  plumb scan schedules`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				ss, err := fetch(ctx, lo, cmd.ErrOrStderr(), c.ListSchedules)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), ss, func(w io.Writer) error { return scheduleTable(w, ss) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	return cmd
}
