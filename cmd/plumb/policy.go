package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/policy"
)

func newPolicyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Browse built-in policies and validate policy files",
	}
	var jsonOut bool
	var listRemote remoteOptions
	list := &cobra.Command{
		Use:   "list",
		Short: "List the built-in policies (with --server, the policies stored on a server)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("server") {
				listRemote.json = jsonOut
				return runRemotePolicyList(cmd, &listRemote)
			}
			lib, _, err := loadLibrary()
			if err != nil {
				return err
			}
			if jsonOut {
				return writeJSON(cmd.OutOrStdout(), lib.Policies())
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tVERSION\tMANDATE\tCONTROLS\tTITLE")
			for _, p := range lib.Policies() {
				rules, _ := p.Rules(lib)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", p.ID, p.Version, p.Mandate, len(rules), p.Title)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	listRemote.addConnFlags(list)

	var showJSON bool
	var showRemote remoteOptions
	var showVersion int
	show := &cobra.Command{
		Use:   "show ID-or-FILE",
		Short: "Show a policy and the controls it selects, with overrides applied (with --server, a stored version)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("server") {
				showRemote.json = showJSON
				return runRemotePolicyShow(cmd, &showRemote, args[0], showVersion)
			}
			if showVersion != 0 {
				return errors.New("--version selects a version stored on a server: add --server URL")
			}
			lib, pols, err := resolvePolicies(args)
			if err != nil {
				return err
			}
			p := pols[0]
			rules, err := p.Rules(lib)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if showJSON {
				type rule struct {
					CID         int                `json:"cid"`
					Title       string             `json:"title"`
					Criticality policy.Criticality `json:"criticality"`
					Check       policy.Check       `json:"check"`
				}
				out := struct {
					*policy.Policy
					Rules []rule `json:"rules"`
				}{Policy: p}
				for _, r := range rules {
					out.Rules = append(out.Rules, rule{r.CID, r.Title, r.Criticality, r.Check})
				}
				return writeJSON(w, out)
			}
			fmt.Fprintf(w, "%s %s: %s\n", p.ID, p.Version, p.Title)
			if p.Mandate != "" {
				fmt.Fprintf(w, "Mandate: %s\n", p.Mandate)
			}
			if len(p.Extends) > 0 {
				fmt.Fprintf(w, "Extends: %s\n", strings.Join(p.Extends, ", "))
			}
			if p.Description != "" {
				fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(p.Description))
			}
			fmt.Fprintf(w, "\n%d controls:\n", len(rules))
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CID\tCRITICALITY\tCATEGORY\tTITLE")
			for _, r := range rules {
				crit := r.Criticality.String()
				if r.Criticality != r.Control.Criticality {
					crit += " (was " + r.Control.Criticality.String() + ")"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.CID, crit, r.Category, r.Title)
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	showRemote.addConnFlags(show)
	show.Flags().IntVar(&showVersion, "version", 0, "with --server: the stored version `N` (default the latest)")

	validate := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check policy files: schema, references and patterns; errors name the file, line and field",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lib, _, err := loadLibrary()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				data, err := os.ReadFile(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				f, err := policy.Parse(name, data)
				if err == nil {
					err = lib.AddFile(f)
				}
				if err == nil {
					err = lib.Check()
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d controls, %d policies)\n", name, len(f.Controls), len(f.Policies))
			}
			if len(errs) > 0 {
				return fmt.Errorf("invalid policy content:\n%w", errors.Join(errs...))
			}
			return nil
		},
	}
	schema := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of policy files (for editors and CI linting)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(policy.Schema)
			return err
		},
	}
	cmd.AddCommand(list, show, validate, schema)
	cmd.AddCommand(newRemotePolicyCommands()...)
	return cmd
}

func newControlCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "control",
		Short: "Browse the controls of the built-in library",
	}
	var tech, category string
	list := &cobra.Command{
		Use:   "list",
		Short: "List controls",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lib, _, err := loadLibrary()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CID\tCRITICALITY\tCATEGORY\tTITLE")
			for _, c := range lib.Controls() {
				if tech != "" && !c.Supports(tech) {
					continue
				}
				if category != "" && !strings.EqualFold(c.Category, category) {
					continue
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.CID, c.Criticality, c.Category, c.Title)
			}
			return tw.Flush()
		},
	}
	list.Flags().StringVar(&tech, "technology", "", "only controls for this `TECHNOLOGY` (e.g. debian-12)")
	list.Flags().StringVar(&category, "category", "", "only controls in this `CATEGORY`")

	var jsonOut bool
	show := &cobra.Command{
		Use:   "show CID",
		Short: "Show a control: check, rationale, remediation and references",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cid, err := strconv.Atoi(args[0])
			if err != nil {
				return fmt.Errorf("control id %q is not a number", args[0])
			}
			lib, _, err := loadLibrary()
			if err != nil {
				return err
			}
			c := lib.Control(cid)
			if c == nil {
				return fmt.Errorf("no control with cid %d (see plumb control list)", cid)
			}
			w := cmd.OutOrStdout()
			if jsonOut {
				return writeJSON(w, c)
			}
			fmt.Fprintf(w, "CID %d: %s\n", c.CID, c.Title)
			fmt.Fprintf(w, "Category:     %s\nCriticality:  %s (%d)\nTechnologies: %s\n", c.Category, c.Criticality, int(c.Criticality), strings.Join(c.Technologies, ", "))
			if c.Applicable != nil {
				fmt.Fprintf(w, "Applies when: %s\n", compactJSON(c.Applicable))
			}
			fmt.Fprintf(w, "Check:        %s\n", compactJSON(c.Check))
			fmt.Fprintf(w, "\nRationale:\n  %s\n\nRemediation:\n  %s\n", wrapText(c.Rationale), wrapText(c.Remediation))
			if len(c.References) > 0 {
				fmt.Fprintln(w, "\nReferences:")
				var keys []string
				for k := range c.References {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(w, "  %-12s %s\n", k, strings.Join(c.References[k], ", "))
				}
			}
			var in []string
			for _, p := range lib.Policies() {
				rules, _ := p.Rules(lib)
				for _, r := range rules {
					if r.CID == c.CID {
						in = append(in, p.ID)
					}
				}
			}
			if len(in) > 0 {
				fmt.Fprintf(w, "\nIn policies: %s\n", strings.Join(in, ", "))
			}
			return nil
		},
	}
	show.Flags().BoolVar(&jsonOut, "json", false, "print JSON")
	cmd.AddCommand(list, show)
	return cmd
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func wrapText(s string) string {
	words := strings.Fields(s)
	var b strings.Builder
	n := 0
	for _, wd := range words {
		if n > 0 && n+len(wd) > 86 {
			b.WriteString("\n  ")
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(wd)
		n += len(wd)
	}
	return b.String()
}
