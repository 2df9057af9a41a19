package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/store"
)

// newRemotePolicyCommands are the subcommands of plumb policy that talk
// to a server.
func newRemotePolicyCommands() []*cobra.Command {
	return []*cobra.Command{newPolicyImportCommand(), newPolicyPushCommand(), newPolicyVersionsCommand()}
}

func storedPolicyTable(w io.Writer, ps []store.Policy) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tVERSION\tSOURCE\tCREATED\tCREATED BY\tTITLE")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", p.ID, p.Version, cell(p.Source), tcell(p.Created), cell(p.CreatedBy), p.Title)
	}
	return tw.Flush()
}

func policyDocTable(w io.Writer, docs []api.PolicyDoc) error {
	ps := make([]store.Policy, len(docs))
	for i, d := range docs {
		ps[i] = d.Policy
	}
	return storedPolicyTable(w, ps)
}

// runRemotePolicyList is plumb policy list --server: the latest version
// of each policy stored on the server.
func runRemotePolicyList(cmd *cobra.Command, o *remoteOptions) error {
	return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
		ps, _, err := client.All(ctx, store.Page{Limit: 1000}, 0, c.ListPolicies)
		if err != nil {
			return err
		}
		return o.print(cmd.OutOrStdout(), ps, func(w io.Writer) error { return storedPolicyTable(w, ps) })
	})
}

// runRemotePolicyShow is plumb policy show ID --server: one stored
// version with its document.
func runRemotePolicyShow(cmd *cobra.Command, o *remoteOptions, id string, version int) error {
	return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
		d, err := c.GetPolicy(ctx, id, version)
		if err != nil {
			return err
		}
		return o.print(cmd.OutOrStdout(), d, func(w io.Writer) error { return policyDocDetails(w, d) })
	})
}

func policyDocDetails(w io.Writer, d api.PolicyDoc) error {
	var p policy.Policy
	if err := json.Unmarshal(d.Document, &p); err != nil {
		return fmt.Errorf("policy %s version %d: the server's document does not decode: %w", d.ID, d.Version, err)
	}
	err := details(w,
		"ID", d.ID,
		"Version", strconv.Itoa(d.Version)+docVersion(p.Version),
		"Title", d.Title,
		"Mandate", p.Mandate,
		"Extends", strings.Join(p.Extends, ", "),
		"Source", d.Source,
		"Created", tcell(d.Created),
		"Created by", d.CreatedBy,
	)
	if err != nil {
		return err
	}
	if p.Description != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(p.Description))
	}
	// Control titles come from the built-in library when it has them;
	// the server's copy is authoritative for everything else.
	lib, _ := library.Load()
	fmt.Fprintf(w, "\n%d selected controls:\n", len(p.Controls))
	tw := table(w)
	fmt.Fprintln(tw, "CID\tCRITICALITY\tVALUE\tTITLE")
	for _, s := range p.Controls {
		crit, title := "-", "-"
		if lib != nil {
			if c := lib.Control(s.CID); c != nil {
				crit, title = c.Criticality.String(), c.Title
			}
		}
		if s.Criticality != nil {
			crit = s.Criticality.String() + " (override)"
		}
		val := "-"
		if s.Value != nil {
			val = strconv.Quote(*s.Value)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", s.CID, crit, val, title)
	}
	return tw.Flush()
}

// docVersion shows the document's own version string beside the stored
// version number.
func docVersion(v string) string {
	if v == "" {
		return ""
	}
	return " (document version " + v + ")"
}

func newPolicyImportCommand() *cobra.Command {
	var (
		o   remoteOptions
		all bool
		sc  api.SCAPImport
	)
	cmd := &cobra.Command{
		Use:   "import [--all | ID... | --datastream FILE --profile P] --server URL",
		Short: "Import built-in policies, or a profile of SCAP content, into a server (a new version only where the policy changed)",
		Long: `Import built-in policies by id (or --all), or one profile of SCAP content installed on
the server: --datastream names the data stream by file name (as plumb content list shows it,
e.g. ssg-debian11-ds.xml) and --profile the profile (its id or a unique suffix such as
standard or cis_level1_server). Scanner workers evaluate SCAP policies from their own
installed copy of the same file, which must be identical (same SHA-256).`,
		Example: `  plumb policy import --all --server https://plumb.example.com
  plumb policy import plumb-linux-l1 plumb-pci-dss-4 --server https://plumb.example.com
  plumb policy import --datastream ssg-debian11-ds.xml --profile standard --server https://plumb.example.com`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if sc.DataStream != "" || sc.Profile != "" {
				if all || len(args) > 0 {
					return errors.New("--datastream imports one SCAP profile: give no policy IDs and no --all with it")
				}
				if sc.DataStream == "" || sc.Profile == "" {
					return errors.New("--datastream and --profile go together")
				}
				return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
					d, err := c.ImportSCAP(ctx, sc)
					if err != nil {
						return err
					}
					items := []api.PolicyDoc{d}
					return o.print(cmd.OutOrStdout(), d, func(w io.Writer) error { return policyDocTable(w, items) })
				})
			}
			if sc.ID != "" {
				return errors.New("--id names an imported SCAP profile; it needs --datastream and --profile")
			}
			if all == (len(args) > 0) {
				return errors.New("give policy IDs or --all (see plumb policy list), or --datastream and --profile")
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				l, err := c.ImportPolicies(ctx, api.PolicyImport{IDs: args, All: all})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), l.Items, func(w io.Writer) error { return policyDocTable(w, l.Items) })
			})
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "import every built-in policy")
	f.StringVar(&sc.DataStream, "datastream", "", "SCAP data stream `FILE` name installed on the server (e.g. ssg-debian11-ds.xml)")
	f.StringVar(&sc.Profile, "profile", "", "the data stream's profile `ID` (or a unique suffix; \"(all)\" for every rule)")
	f.StringVar(&sc.ID, "id", "", "policy `ID` for the SCAP profile (default DATASTREAM-PROFILE, e.g. ssg-debian11-standard)")
	return cmd
}

func newPolicyPushCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:   "push FILE.yaml --server URL",
		Short: "Store the policies of a policy file on a server (a new version only where the policy changed)",
		Long: `Parse a policy file (the format of docs/policy-format.md) and store each of its
policies on the server. The policies select controls of the built-in library; files that
define controls of their own cannot be pushed, as the server evaluates library controls only.`,
		Example: `  plumb policy push ./our-baseline.yaml --server https://plumb.example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := policy.ReadFile(args[0])
			if err != nil {
				return err
			}
			f, err := policy.Parse(args[0], data)
			if err != nil {
				return err
			}
			if len(f.Controls) > 0 {
				return fmt.Errorf("%s defines %d controls of its own; the server evaluates built-in library controls only: push a file whose policies select library controls", args[0], len(f.Controls))
			}
			if len(f.Policies) == 0 {
				return fmt.Errorf("%s defines no policy (add a policies: section)", args[0])
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				var docs []api.PolicyDoc
				for _, p := range f.Policies {
					d, err := c.PushPolicy(ctx, p)
					if err != nil {
						return fmt.Errorf("policy %s: %w", p.ID, err)
					}
					docs = append(docs, d)
				}
				return o.print(cmd.OutOrStdout(), docs, func(w io.Writer) error { return policyDocTable(w, docs) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newPolicyVersionsCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "versions ID --server URL",
		Short:   "List the stored versions of a policy on a server",
		Example: `  plumb policy versions plumb-linux-l1 --server https://plumb.example.com`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				ps, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Policy], error) {
					return c.PolicyVersions(ctx, args[0], p)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), ps, func(w io.Writer) error { return storedPolicyTable(w, ps) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	return cmd
}
