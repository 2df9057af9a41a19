package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// resultFlags are the filters of plumb result list and plumb posture.
type resultFlags struct {
	scan, asset, group, criticality string
	f                               store.ResultFilter
}

func (r *resultFlags) addFlags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&r.scan, "scan", "", "only results of the scan `ID`")
	fl.StringVar(&r.asset, "asset", "", "only results of the asset `ID or NAME`")
	fl.StringVar(&r.group, "group", "", "only results of the assets of the group `ID or NAME`")
	fl.StringVar(&r.f.Policy, "policy", "", "only results of the policy `ID`")
	fl.StringVar(&r.f.Technology, "technology", "", "only results of assets running `TECHNOLOGY` (e.g. debian-12)")
	fl.StringVar(&r.f.Status, "status", "", "only results with `STATUS`: pass, fail, error, na or not_checked")
	fl.IntVar(&r.f.CID, "cid", 0, "only results of the control `CID`")
	fl.StringVar(&r.criticality, "criticality", "", "only results of at least this `CRITICALITY` (minimal, medium, serious, critical, urgent or 1..5)")
}

func (r *resultFlags) filter(ctx context.Context, c *client.Client) (store.ResultFilter, error) {
	f := r.f
	if f.Status != "" && !slices.Contains(result.Statuses, result.Status(f.Status)) {
		return f, fmt.Errorf("--status %q: want pass, fail, error, na or not_checked", f.Status)
	}
	if r.criticality != "" {
		crit, err := policy.ParseCriticality(r.criticality)
		if err != nil {
			return f, fmt.Errorf("--criticality: %w", err)
		}
		f.Criticality = int(crit)
	}
	var err error
	if r.scan != "" {
		if f.Scan, err = parseID("scan", r.scan); err != nil {
			return f, err
		}
	}
	if r.asset != "" {
		if f.Asset, err = resolveAsset(ctx, c, r.asset); err != nil {
			return f, err
		}
	}
	if r.group != "" {
		if f.Group, err = resolveGroup(ctx, c, r.group); err != nil {
			return f, err
		}
	}
	return f, nil
}

func newResultCommand() *cobra.Command {
	return nounCommand("result", "Browse the results stored on a Plumb server", newResultListCommand())
}

func newResultListCommand() *cobra.Command {
	return newResultsCommand("list", "List stored results: every result of every scan that matches the filters",
		`  plumb result list --scan 42 --status fail`,
		(*client.Client).ListResults)
}

func newPostureCommand() *cobra.Command {
	cmd := newResultsCommand("posture", "Show the current posture: the latest result of each control on each asset",
		`  plumb posture --group web --status fail --criticality serious
  plumb posture --asset web1 --json
  plumb posture summary --group web`,
		(*client.Client).Posture)
	cmd.AddCommand(newPostureSummaryCommand())
	return cmd
}

// newPostureSummaryCommand prints the score of a slice of the posture,
// computed by the server over every matching result.
func newPostureSummaryCommand() *cobra.Command {
	var (
		o  remoteOptions
		rf resultFlags
	)
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Score, coverage and counts of the current posture (per asset, group, policy, technology, ...)",
		Example: `  plumb posture summary --group web
  plumb posture summary --policy plumb-linux-l1 --technology debian-12 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				f, err := rf.filter(ctx, c)
				if err != nil {
					return err
				}
				sum, err := c.PostureSummary(ctx, f)
				if err != nil {
					return err
				}
				if o.json {
					return writeJSON(cmd.OutOrStdout(), sum)
				}
				w := cmd.OutOrStdout()
				fmt.Fprintf(w, "Score %.1f%% (criticality-weighted %.1f%%), coverage %.1f%%, %d results\n",
					sum.Score, sum.Weighted, sum.Coverage, sum.Total)
				var parts []string
				for _, st := range result.Statuses {
					parts = append(parts, fmt.Sprintf("%s %d", st.Label(), sum.Counts[st]))
				}
				fmt.Fprintln(w, strings.Join(parts, ", "))
				return nil
			})
		},
	}
	o.addFlags(cmd)
	rf.addFlags(cmd)
	return cmd
}

func newResultsCommand(use, short, example string, list func(*client.Client, context.Context, store.ResultFilter) (api.List[store.Result], error)) *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
		rf resultFlags
	)
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				f, err := rf.filter(ctx, c)
				if err != nil {
					return err
				}
				rs, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Result], error) {
					f.Page = p
					return list(c, ctx, f)
				})
				if err != nil {
					return err
				}
				var names map[int64]string
				if !o.json {
					names = assetNames(ctx, c, rs)
				}
				return o.print(cmd.OutOrStdout(), rs, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ASSET\tPOLICY\tCID\tCRITICALITY\tSTATUS\tTITLE\tREASON")
					for _, r := range rs {
						fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", names[r.AssetID], r.Policy+"@"+strconv.Itoa(r.PolicyVersion),
							r.CID, r.Criticality, r.Status.Label(), oneLine(r.Title), cell(oneLine(r.Reason)))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	rf.addFlags(cmd)
	return cmd
}

// assetNames names the assets of rs for a table; an asset the server no
// longer has (or that cannot be read) shows as its id.
func assetNames(ctx context.Context, c *client.Client, rs []store.Result) map[int64]string {
	names := map[int64]string{}
	for _, r := range rs {
		names[r.AssetID] = "#" + strconv.FormatInt(r.AssetID, 10)
	}
	if len(names) == 0 {
		return names
	}
	if len(names) <= 10 {
		for id := range names {
			if a, err := c.GetAsset(ctx, id); err == nil {
				names[id] = a.Name
			}
		}
		return names
	}
	for a, err := range client.Pages(ctx, store.Page{Limit: 1000}, func(ctx context.Context, p store.Page) (api.List[store.Asset], error) {
		return c.ListAssets(ctx, store.AssetFilter{Page: p})
	}) {
		if err != nil {
			break
		}
		if _, ok := names[a.ID]; ok {
			names[a.ID] = a.Name
		}
	}
	return names
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// Tokens and audit.

func newTokenCommand() *cobra.Command {
	return nounCommand("token", "Manage the API tokens of a Plumb server",
		newTokenListCommand(), newTokenAddCommand(), idActionCommand("revoke", "token", "revoked", "Revoke an API token: it stops working at once", "plumb token revoke 4", (*client.Client).RevokeToken), newWhoAmICommand())
}

func newTokenListCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List API tokens (never their secrets)",
		Example: `  plumb token list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				ts, err := fetch(ctx, lo, cmd.ErrOrStderr(), c.ListTokens)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), ts, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED\tREVOKED")
					for _, t := range ts {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, tcell(t.Created), timeCell(t.LastUsed), timeCell(t.Revoked))
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

func newTokenAddCommand() *cobra.Command {
	var (
		o    remoteOptions
		role string
	)
	cmd := &cobra.Command{
		Use:   "add NAME --role ROLE",
		Short: "Create an API token; its secret is printed this once",
		Long: `Create an API token. Roles: admin (everything), operator (assets, groups, policies,
credentials, scans), approver (exceptions), auditor (reads everything) and scanner (what a
scanner worker holds). The secret is printed on standard output this once: store it now.`,
		Example: `  plumb token add ci --role operator > ci.token
  plumb token add worker-1 --role scanner`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(api.Roles, role) {
				return fmt.Errorf("--role %q: want one of %s", role, strings.Join(api.Roles, ", "))
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				t, err := c.CreateToken(ctx, api.TokenInput{Name: args[0], Role: role})
				if err != nil {
					return err
				}
				if o.json {
					return writeJSON(cmd.OutOrStdout(), t)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "created token %d %q with role %s; its secret follows and is not shown again\n", t.ID, t.Name, t.Role)
				fmt.Fprintln(cmd.OutOrStdout(), t.Secret)
				return nil
			})
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&role, "role", "", "the token's `ROLE`: "+strings.Join(api.Roles, ", "))
	return cmd
}

func newWhoAmICommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "whoami",
		Short:   "Show the token these commands authenticate with",
		Example: `  plumb token whoami`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				t, err := c.WhoAmI(ctx)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), t, func(w io.Writer) error {
					return details(w, "ID", strconv.FormatInt(t.ID, 10), "Name", t.Name, "Role", t.Role,
						"Created", tcell(t.Created), "Server", c.BaseURL)
				})
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newAuditCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log of a Plumb server: who changed what, when",
		Example: `  plumb audit --limit 20
  plumb audit --after 1200 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				es, err := fetch(ctx, lo, cmd.ErrOrStderr(), c.Audit)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), es, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ID\tTIME\tACTOR\tACTION\tOBJECT\tDETAIL")
					for _, e := range es {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", e.ID, tcell(e.Time), e.Actor, e.Action, e.Object, cell(oneLine(e.Detail)))
					}
					return tw.Flush()
				})
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 100)
	return cmd
}
