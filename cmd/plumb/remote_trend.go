package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// scoreCells are the columns every score table shares.
func scoreCells(s result.Summary) string {
	return fmt.Sprintf("%.1f%%\t%.1f%%\t%.1f%%\t%d\t%d\t%d\t%d", s.Score, s.Weighted, s.Coverage,
		s.Counts[result.Pass], s.Counts[result.Fail], s.Excepted, s.Counts[result.Error])
}

const scoreHeader = "SCORE\tWEIGHTED\tCOVERAGE\tPASS\tFAIL\tEXCEPTED\tERROR"

func newScoreCommand() *cobra.Command {
	var (
		o  remoteOptions
		rf resultFlags
		by string
	)
	cmd := &cobra.Command{
		Use:   "score [--by group|asset|policy|technology|criticality|mandate] [filters] --server URL",
		Short: "Compliance scores broken down by group, asset, policy, technology, criticality or mandate, lowest first",
		Long: `Score = Pass / (Pass + Fail + Error) x 100 over the current posture, leaving out Fails an
approved, unexpired exception covers (counted as EXCEPTED); N/A and Not checked never count.
WEIGHTED weighs each result by its criticality (1..5); COVERAGE is the share of scored results
that are not Error.`,
		Example: `  plumb score --by group
  plumb score --by asset --group web --policy plumb-linux-l1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				f, err := rf.filter(ctx, c)
				if err != nil {
					return err
				}
				l, err := c.Scores(ctx, by, f)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), l.Items, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "NAME\t"+scoreHeader)
					for _, r := range l.Items {
						fmt.Fprintf(tw, "%s\t%s\n", r.Name, scoreCells(r.Summary))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	rf.addFlags(cmd)
	cmd.Flags().StringVar(&by, "by", "group", "break down by group, asset, policy, technology, criticality or mandate (cis, stig, ...)")
	return cmd
}

func newTrendCommand() *cobra.Command {
	var (
		o                                   remoteOptions
		f                                   store.TrendFilter
		group, policyID, technology, fr, to string
	)
	cmd := &cobra.Command{
		Use:   "trend [--group G | --policy P | --technology T] [--granularity day|week|month|quarter] [--from DATE] [--to DATE]",
		Short: "The compliance score over time of the fleet, a group, a policy or a technology",
		Long: `Show how a score moved: one row per day, week (from Monday), month or quarter, each the last
score snapshot taken in that period. The server takes snapshots after scans finish and at least
daily. Without --from: the year before --to (default today).`,
		Example: `  plumb trend --group web --granularity week
  plumb trend --policy plumb-linux-l1 --granularity quarter --from 2027-01-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, v := range []string{group, policyID, technology} {
				if v != "" {
					n++
				}
			}
			if n > 1 {
				return errors.New("give one of --group, --policy and --technology (none: the whole fleet)")
			}
			if err := setTrendDates(&f, fr, to); err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				switch {
				case group != "":
					id, err := resolveGroup(ctx, c, group)
					if err != nil {
						return err
					}
					f.Scope, f.Key = store.ScopeGroup, strconv.FormatInt(id, 10)
				case policyID != "":
					f.Scope, f.Key = store.ScopePolicy, policyID
				case technology != "":
					f.Scope, f.Key = store.ScopeTechnology, technology
				default:
					f.Scope = store.ScopeAll
				}
				l, err := c.Trend(ctx, f)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), l.Items, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "PERIOD\t"+scoreHeader)
					for _, p := range l.Items {
						fmt.Fprintf(tw, "%s\t%s\n", p.Period.Format(time.DateOnly), scoreCells(p.Summary))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&group, "group", "", "the group `ID or NAME`")
	fl.StringVar(&policyID, "policy", "", "the policy `ID`")
	fl.StringVar(&technology, "technology", "", "the `TECHNOLOGY` (e.g. debian-12)")
	fl.StringVar(&f.Granularity, "granularity", "day", "day, week, month or quarter")
	fl.StringVar(&fr, "from", "", "first `DATE` (2027-01-01)")
	fl.StringVar(&to, "to", "", "last `DATE` (default today)")
	return cmd
}

func newChangesCommand() *cobra.Command {
	var (
		o      remoteOptions
		rf     resultFlags
		fr, to string
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "changes --from DATE [--to DATE] [filters]",
		Short: "What changed between two dates: controls that went Pass -> Fail or Fail -> Pass, per asset",
		Example: `  plumb changes --from 2027-03-01 --group web
  plumb changes --from 2027-03-01 --to 2027-03-31 --policy plumb-linux-l1 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fr == "" {
				return errors.New("--from is required")
			}
			from, err := parseDate("from", fr)
			if err != nil {
				return err
			}
			var until time.Time
			if to != "" {
				if until, err = parseDate("to", to); err != nil {
					return err
				}
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				f, err := rf.filter(ctx, c)
				if err != nil {
					return err
				}
				f.Limit = limit
				l, err := c.Changes(ctx, from, until, f)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), l.Items, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ASSET\tPOLICY\tCID\tFROM\tTO\tAT\tTITLE")
					for _, ch := range l.Items {
						fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ch.Asset, ch.Policy, ch.CID, ch.From.Label(), ch.To.Label(),
							ch.At.Format(time.DateTime), oneLine(ch.Title))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	rf.addFlags(cmd)
	cmd.Flags().StringVar(&fr, "from", "", "the earlier `DATE` (2027-03-01) or RFC 3339 time")
	cmd.Flags().StringVar(&to, "to", "", "the later `DATE` (default now)")
	cmd.Flags().IntVar(&limit, "limit", 1000, "at most `N` changes")
	return cmd
}

// setTrendDates parses --from and --to into f (empty: unset).
func setTrendDates(f *store.TrendFilter, from, to string) error {
	var err error
	if from != "" {
		if f.From, err = parseDate("from", from); err != nil {
			return err
		}
	}
	if to != "" {
		if f.To, err = parseDate("to", to); err != nil {
			return err
		}
	}
	return nil
}
