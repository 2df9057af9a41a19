package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/store"
)

func newExceptionCommand() *cobra.Command {
	return nounCommand("exception", "Request, decide and list dated exceptions (waivers) of failing controls",
		newExceptionRequestCommand(),
		newExceptionDecideCommand("approve", "Approve a pending exception (approver role; not your own request)"),
		newExceptionDecideCommand("reject", "Reject a pending exception (approver role; not your own request)"),
		newExceptionDecideCommand("revoke", "Revoke an exception: the control is a plain Fail again at once"),
		newExceptionRenewCommand(),
		newExceptionListCommand(),
		newExceptionExpiringCommand(),
		newExceptionShowCommand(),
		newExceptionVerifyCommand())
}

// parseDate reads an expiry: a date (the end of that day is not implied:
// 2027-03-31 means 2027-03-31T00:00 UTC) or an RFC 3339 time.
func parseDate(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want a date (2027-03-31) or an RFC 3339 time", flag, s)
}

// parseWindow reads a --flag window as the API does.
func parseWindow(flag, s string) (time.Duration, error) {
	d, err := api.ParseWindow(s)
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", flag, err)
	}
	return d, nil
}

func exceptionTable(w io.Writer, xs []store.Exception) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tSTATUS\tTYPE\tPOLICY\tCID\tSCOPE\tEXPIRES\tOWNER\tREQUESTED BY\tDECIDED BY\tJUSTIFICATION")
	for _, x := range xs {
		scope := "assets " + idsCell(x.Assets)
		if x.Group != 0 {
			scope = fmt.Sprintf("group %d", x.Group)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Status, x.Type, x.Policy, x.CID, scope,
			x.Expires.Format(time.DateOnly), cell(oneLine(x.Owner)), x.RequestedBy, cell(x.ApprovedBy), cell(oneLine(x.Justification)))
	}
	return tw.Flush()
}

func exceptionDetails(w io.Writer, x store.Exception, hist []store.ExceptionEvent) error {
	scope := "assets " + idsCell(x.Assets)
	if x.Group != 0 {
		scope = fmt.Sprintf("group %d", x.Group)
	}
	reopen := ""
	if x.ReopenOnEvidenceChange {
		reopen = "yes"
	}
	if err := details(w, "ID", fmt.Sprint(x.ID), "Status", x.Status, "Type", x.Type, "Policy", x.Policy,
		"Control", fmt.Sprint(x.CID), "Scope", scope, "Owner", x.Owner, "Justification", x.Justification,
		"Expires", x.Expires.Format(time.RFC3339), "Requested by", x.RequestedBy, "Decided by", x.ApprovedBy,
		"Reopen on evidence change", reopen); err != nil {
		return err
	}
	if len(hist) > 0 {
		fmt.Fprintln(w, "\nHistory:")
		tw := table(w)
		for _, ev := range hist {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ev.Time.Format(time.RFC3339), ev.Action, ev.Actor, ev.Hash[:min(12, len(ev.Hash))])
		}
		return tw.Flush()
	}
	return nil
}

func newExceptionRequestCommand() *cobra.Command {
	var (
		o                     remoteOptions
		in                    api.ExceptionInput
		assets                []string
		group, expires, jfile string
	)
	cmd := &cobra.Command{
		Use:   "request --policy P --cid N (--asset A... | --group G) --type T --owner O --justification TEXT --expires DATE",
		Short: "Request an exception for a failing control; an approver (someone else) decides it",
		Example: `  plumb exception request --policy plumb-linux-l1 --cid 1204 --group web --type risk_acceptance \
    --owner "web team" --justification "Health checks of the legacy balancer need it until the Q2 migration" \
    --expires 2027-06-30`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if jfile != "" {
				b, err := os.ReadFile(jfile)
				if err != nil {
					return fmt.Errorf("--justification-file: %w", err)
				}
				in.Justification = string(b)
			}
			if expires == "" {
				return errors.New("--expires is required: every exception ends")
			}
			var err error
			if in.Expires, err = parseDate("expires", expires); err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if in.Assets, err = resolveAll(ctx, c, assets, resolveAsset); err != nil {
					return err
				}
				if group != "" {
					if in.Group, err = resolveGroup(ctx, c, group); err != nil {
						return err
					}
				}
				x, err := c.RequestException(ctx, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), x, func(w io.Writer) error {
					fmt.Fprintf(w, "requested exception %d (pending: an approver must approve it)\n", x.ID)
					return nil
				})
			})
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&in.Policy, "policy", "", "the policy `ID` the control fails under")
	f.IntVar(&in.CID, "cid", 0, "the failing control's `CID`")
	f.StringSliceVar(&assets, "asset", nil, "an asset `ID or NAME` the exception covers (repeatable)")
	f.StringVar(&group, "group", "", "or every member of this group (`ID or NAME`)")
	f.StringVar(&in.Type, "type", "", "mitigating_control, risk_acceptance or false_positive")
	f.StringVar(&in.Owner, "owner", "", "who owns the risk")
	f.StringVar(&in.Justification, "justification", "", "why the control may fail (required)")
	f.StringVar(&jfile, "justification-file", "", "read the justification from `FILE`")
	f.StringVar(&expires, "expires", "", "expiry `DATE` (2027-06-30) or RFC 3339 time (required)")
	f.BoolVar(&in.ReopenOnEvidenceChange, "reopen-on-evidence-change", false, "stop applying to a host whose evidence changes after approval")
	return cmd
}

func newExceptionDecideCommand(action, short string) *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     action + " ID",
		Short:   short,
		Example: "  plumb exception " + action + " 12",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("exception", args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				x, err := c.DecideException(ctx, id, action)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), x, func(w io.Writer) error {
					fmt.Fprintf(w, "exception %d is %s\n", x.ID, x.Status)
					return nil
				})
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newExceptionRenewCommand() *cobra.Command {
	var (
		o       remoteOptions
		expires string
	)
	cmd := &cobra.Command{
		Use:     "renew ID --expires DATE",
		Short:   "Ask for a new expiry: the exception is pending again until an approver approves it",
		Example: "  plumb exception renew 12 --expires 2027-12-31",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("exception", args[0])
			if err != nil {
				return err
			}
			if expires == "" {
				return errors.New("--expires is required")
			}
			t, err := parseDate("expires", expires)
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				x, err := c.RenewException(ctx, id, t)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), x, func(w io.Writer) error {
					fmt.Fprintf(w, "exception %d is %s until approved, new expiry %s\n", x.ID, x.Status, x.Expires.Format(time.DateOnly))
					return nil
				})
			})
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&expires, "expires", "", "new expiry `DATE` or RFC 3339 time")
	return cmd
}

func newExceptionListCommand() *cobra.Command {
	var (
		o               remoteOptions
		lo              listOptions
		f               store.ExceptionFilter
		asset, expiring string
	)
	cmd := &cobra.Command{
		Use:     "list [--status S] [--policy P] [--cid N] [--asset A] [--expiring 14d]",
		Short:   "List exceptions with their status, scope, expiry, owner and justification",
		Example: "  plumb exception list --status approved\n  plumb exception list --asset web1 --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expiring != "" {
				var err error
				if f.ExpiringWithin, err = parseWindow("expiring", expiring); err != nil {
					return err
				}
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if asset != "" {
					var err error
					if f.Asset, err = resolveAsset(ctx, c, asset); err != nil {
						return err
					}
				}
				xs, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Exception], error) {
					f.Page = p
					return c.ListExceptions(ctx, f)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), xs, func(w io.Writer) error { return exceptionTable(w, xs) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	fl := cmd.Flags()
	fl.StringVar(&f.Status, "status", "", "pending, approved, rejected, revoked or expired")
	fl.StringVar(&f.Policy, "policy", "", "only exceptions under policy `ID`")
	fl.IntVar(&f.CID, "cid", 0, "only exceptions of control `CID`")
	fl.StringVar(&asset, "asset", "", "only exceptions covering asset `ID or NAME`")
	fl.StringVar(&expiring, "expiring", "", "only approved exceptions expiring within `WINDOW` (14d, 72h)")
	return cmd
}

func newExceptionExpiringCommand() *cobra.Command {
	var (
		o      remoteOptions
		lo     listOptions
		within string
	)
	cmd := &cobra.Command{
		Use:     "expiring [--within 14d]",
		Short:   "List approved exceptions that expire soon, to renew or escalate them before an audit",
		Example: "  plumb exception expiring --within 30d",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := parseWindow("within", within)
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				xs, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Exception], error) {
					return c.ExpiringExceptions(ctx, d, p)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), xs, func(w io.Writer) error { return exceptionTable(w, xs) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	cmd.Flags().StringVar(&within, "within", "14d", "the `WINDOW` ahead (14d, 72h)")
	return cmd
}

func newExceptionShowCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "show ID",
		Short:   "Show an exception and its history",
		Example: "  plumb exception show 12",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID("exception", args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				x, err := c.GetException(ctx, id)
				if err != nil {
					return err
				}
				h, err := c.ExceptionHistory(ctx, id)
				if err != nil {
					return err
				}
				v := struct {
					store.Exception
					History []store.ExceptionEvent `json:"history"`
				}{x, h.Items}
				return o.print(cmd.OutOrStdout(), v, func(w io.Writer) error { return exceptionDetails(w, x, h.Items) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

// errLogTampered makes verify-log exit non-zero.
var errLogTampered = errors.New("the exception history does not verify")

func newExceptionVerifyCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:   "verify-log",
		Short: "Check the hash chain of every exception's history: any edit of a past entry is found",
		Long: `Recompute the hash chain of the exception history on the server. Each entry's hash
covers the previous entry's hash and its own content, so an edit of any past entry (in the
database, behind the API) breaks the chain from there on. Exits 1 when it does not verify.`,
		Example: "  plumb exception verify-log",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				chk, err := c.VerifyExceptionLog(ctx)
				if err != nil {
					return err
				}
				if err := o.print(cmd.OutOrStdout(), chk, func(w io.Writer) error {
					if chk.OK {
						fmt.Fprintf(w, "exception history intact: %d entries verified\n", chk.Checked)
						return nil
					}
					fmt.Fprintf(w, "exception history BROKEN at entry %d (exception %d, %s by %s at %s), after %d entries\n",
						chk.Bad.ID, chk.Bad.ExceptionID, chk.Bad.Action, chk.Bad.Actor, chk.Bad.Time.Format(time.RFC3339), chk.Checked)
					return nil
				}); err != nil {
					return err
				}
				if !chk.OK {
					return errLogTampered
				}
				return nil
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}
