package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/store"
)

// Object references: an argument or flag naming an asset, group or
// credential is its id, or its exact name.

func resolveAsset(ctx context.Context, c *client.Client, ref string) (int64, error) {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	if ref == "" {
		return 0, fmt.Errorf("asset: want an id or a name")
	}
	l, err := c.ListAssets(ctx, store.AssetFilter{Name: ref})
	if err != nil {
		return 0, err
	}
	return byName("asset", ref, l.Items, func(a store.Asset) (int64, string) { return a.ID, a.Name })
}

func resolveGroup(ctx context.Context, c *client.Client, ref string) (int64, error) {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	gs, _, err := client.All(ctx, store.Page{Limit: 1000}, 0, c.ListGroups)
	if err != nil {
		return 0, err
	}
	return byName("group", ref, gs, func(g store.Group) (int64, string) { return g.ID, g.Name })
}

func resolveCredential(ctx context.Context, c *client.Client, ref string) (int64, error) {
	if n, err := strconv.ParseInt(ref, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	cs, _, err := client.All(ctx, store.Page{Limit: 1000}, 0, c.ListCredentials)
	if err != nil {
		return 0, err
	}
	return byName("credential", ref, cs, func(c store.Credential) (int64, string) { return c.ID, c.Name })
}

// byName finds the one item named ref: exactly, else ignoring case.
func byName[T any](what, ref string, items []T, key func(T) (int64, string)) (int64, error) {
	var fold []int64
	for _, it := range items {
		id, name := key(it)
		if name == ref {
			return id, nil
		}
		if strings.EqualFold(name, ref) {
			fold = append(fold, id)
		}
	}
	if len(fold) == 1 {
		return fold[0], nil
	}
	return 0, fmt.Errorf("no %s is named %q (give its id or name; see plumb %s list)", what, ref, what)
}

func resolveAll(ctx context.Context, c *client.Client, refs []string, resolve func(context.Context, *client.Client, string) (int64, error)) ([]int64, error) {
	var out []int64
	for _, r := range refs {
		n, err := resolve(ctx, c, r)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func newAssetCommand() *cobra.Command {
	return nounCommand("asset", "Manage the assets (hosts) of a Plumb server",
		newAssetListCommand(), newAssetAddCommand(), newAssetShowCommand(),
		newAssetUpdateCommand(), removeCommand("asset", "Remove an asset (its stored results stay)", "web1", resolveAsset, (*client.Client).DeleteAsset))
}

func newAssetListCommand() *cobra.Command {
	var (
		o     remoteOptions
		lo    listOptions
		f     store.AssetFilter
		group string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List assets, optionally only those matching every filter",
		Example: `  plumb asset list
  plumb asset list --tag prod --technology debian-12`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if group != "" {
					var err error
					if f.Group, err = resolveGroup(ctx, c, group); err != nil {
						return err
					}
				}
				assets, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Asset], error) {
					f.Page = p
					return c.ListAssets(ctx, f)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), assets, func(w io.Writer) error { return assetTable(w, assets) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	fl := cmd.Flags()
	fl.StringVar(&f.Name, "name", "", "only the asset named `NAME`")
	fl.StringVar(&f.Tag, "tag", "", "only assets tagged `TAG` (case-insensitive)")
	fl.StringVar(&f.Technology, "technology", "", "only assets whose last scan detected `TECHNOLOGY` (e.g. debian-12)")
	fl.StringVar(&f.Partition, "partition", "", "only assets in network `PARTITION`")
	fl.StringVar(&f.Address, "address", "", "only assets with IP address `IP`")
	fl.StringVar(&group, "group", "", "only members of the group `ID or NAME`")
	return cmd
}

func assetTable(w io.Writer, assets []store.Asset) error {
	tw := table(w)
	fmt.Fprintln(tw, "ID\tNAME\tADDRESSES\tHOSTNAMES\tPARTITION\tPORT\tTECHNOLOGY\tTAGS\tLAST SEEN")
	for _, a := range assets {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Name, joinCell(a.Addresses), joinCell(a.Hostnames),
			cell(a.Partition), portCell(a.Port), cell(a.Technology), joinCell(a.Tags), timeCell(a.LastSeen))
	}
	return tw.Flush()
}

func portCell(p int) string {
	if p == 0 {
		return "22"
	}
	return strconv.Itoa(p)
}

func assetDetails(w io.Writer, a store.Asset) error {
	return details(w,
		"ID", strconv.FormatInt(a.ID, 10),
		"Name", a.Name,
		"Addresses", strings.Join(a.Addresses, ", "),
		"Hostnames", strings.Join(a.Hostnames, ", "),
		"Partition", a.Partition,
		"Port", portCell(a.Port),
		"Credential", idCell(a.CredentialID),
		"Technology", a.Technology,
		"Tags", strings.Join(a.Tags, ", "),
		"Source", a.Source,
		"First seen", timeCell(a.FirstSeen),
		"Last seen", timeCell(a.LastSeen),
		"Created", tcell(a.Created),
	)
}

// assetFlags are the fields of asset add and update.
type assetFlags struct {
	name       string
	addresses  []string
	hostnames  []string
	partition  string
	port       int
	credential string
	tags       []string
}

func (f *assetFlags) addFlags(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	if update {
		fl.StringVar(&f.name, "name", "", "rename the asset to `NAME`")
	}
	fl.StringArrayVar(&f.addresses, "address", nil, "IP `ADDRESS` of the asset (repeatable)")
	fl.StringArrayVar(&f.hostnames, "hostname", nil, "DNS `NAME` of the asset (repeatable); the scanner connects to the first one, else the first address")
	fl.StringVar(&f.partition, "partition", "", "network `PARTITION`: the same address may exist once per partition")
	fl.IntVar(&f.port, "port", 0, "SSH `PORT` (default 22)")
	fl.StringVar(&f.credential, "credential", "", "credential `ID or NAME` the scanner logs in with (\"\" or 0: none)")
	fl.StringArrayVar(&f.tags, "tag", nil, "`TAG` of the asset (repeatable)")
	if update {
		cmd.Flags().Lookup("address").Usage += "; replaces the list, --address= empties it"
		cmd.Flags().Lookup("hostname").Usage += "; replaces the list"
		cmd.Flags().Lookup("tag").Usage += "; replaces the list, --tag= empties it"
	}
}

// apply sets the fields whose flags were given on in.
func (f *assetFlags) apply(ctx context.Context, c *client.Client, cmd *cobra.Command, in *api.AssetInput) error {
	ch := cmd.Flags().Changed
	if ch("name") {
		in.Name = f.name
	}
	if ch("address") {
		in.Addresses = nonEmpty(f.addresses)
	}
	if ch("hostname") {
		in.Hostnames = nonEmpty(f.hostnames)
	}
	if ch("partition") {
		in.Partition = f.partition
	}
	if ch("port") {
		in.Port = f.port
	}
	if ch("tag") {
		in.Tags = nonEmpty(f.tags)
	}
	if ch("credential") {
		in.CredentialID = 0
		if f.credential != "" && f.credential != "0" {
			id, err := resolveCredential(ctx, c, f.credential)
			if err != nil {
				return err
			}
			in.CredentialID = id
		}
	}
	return nil
}

func newAssetAddCommand() *cobra.Command {
	var (
		o remoteOptions
		f assetFlags
	)
	cmd := &cobra.Command{
		Use:     "add NAME",
		Short:   "Add an asset",
		Example: `  plumb asset add web1 --address 10.0.0.5 --hostname web1.example.com --tag prod --credential 1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				in := api.AssetInput{Name: args[0]}
				if err := f.apply(ctx, c, cmd, &in); err != nil {
					return err
				}
				a, err := c.CreateAsset(ctx, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), a, func(w io.Writer) error { return assetDetails(w, a) })
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd, false)
	return cmd
}

func newAssetShowCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "show ID-or-NAME",
		Short:   "Show an asset",
		Example: `  plumb asset show web1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveAsset(ctx, c, args[0])
				if err != nil {
					return err
				}
				a, err := c.GetAsset(ctx, id)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), a, func(w io.Writer) error { return assetDetails(w, a) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newAssetUpdateCommand() *cobra.Command {
	var (
		o remoteOptions
		f assetFlags
	)
	cmd := &cobra.Command{
		Use:   "update ID-or-NAME",
		Short: "Change an asset: the fields whose flags are given; the others keep their values",
		Example: `  plumb asset update web1 --tag prod --tag pci
  plumb asset update 12 --port 2222 --credential 0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveAsset(ctx, c, args[0])
				if err != nil {
					return err
				}
				cur, err := c.GetAsset(ctx, id)
				if err != nil {
					return err
				}
				in := api.AssetInput{
					Name: cur.Name, Hostnames: cur.Hostnames, Addresses: cur.Addresses, Partition: cur.Partition,
					Port: cur.Port, CredentialID: cur.CredentialID, Tags: cur.Tags,
				}
				if err := f.apply(ctx, c, cmd, &in); err != nil {
					return err
				}
				a, err := c.UpdateAsset(ctx, id, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), a, func(w io.Writer) error { return assetDetails(w, a) })
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd, true)
	return cmd
}

// Groups.

func newGroupCommand() *cobra.Command {
	return nounCommand("group", "Manage asset groups: static members, tag rules and assigned policies",
		newGroupListCommand(), newGroupAddCommand(), newGroupShowCommand(),
		newGroupUpdateCommand(), removeCommand("group", "Remove a group (its assets stay)", "web", resolveGroup, (*client.Client).DeleteGroup), newGroupAssetsCommand())
}

func newGroupListCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List groups",
		Example: `  plumb group list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				gs, err := fetch(ctx, lo, cmd.ErrOrStderr(), c.ListGroups)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), gs, func(w io.Writer) error {
					tw := table(w)
					fmt.Fprintln(tw, "ID\tNAME\tMEMBERS\tMATCH TAGS\tPOLICIES\tDESCRIPTION")
					for _, g := range gs {
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Name, idsCell(g.Members), joinCell(g.MatchTags), joinCell(g.Policies), cell(g.Description))
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

func groupDetails(w io.Writer, g store.Group) error {
	return details(w,
		"ID", strconv.FormatInt(g.ID, 10),
		"Name", g.Name,
		"Description", g.Description,
		"Members", strings.Trim(idsCell(g.Members), "-"),
		"Match tags", strings.Join(g.MatchTags, ", "),
		"Policies", strings.Join(g.Policies, ", "),
		"Created", tcell(g.Created),
	)
}

// groupFlags are the fields of group add and update.
type groupFlags struct {
	name        string
	description string
	members     []string
	matchTags   []string
	policies    []string
}

func (f *groupFlags) addFlags(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	if update {
		fl.StringVar(&f.name, "name", "", "rename the group to `NAME`")
	}
	fl.StringVar(&f.description, "description", "", "what the group is for")
	fl.StringArrayVar(&f.members, "member", nil, "asset `ID or NAME` that belongs to the group (repeatable)")
	fl.StringArrayVar(&f.matchTags, "match-tag", nil, "every asset carrying all the match tags belongs to the group (repeatable `TAG`)")
	fl.StringArrayVar(&f.policies, "policy", nil, "policy `ID` a scan of the group evaluates by default (repeatable)")
	if update {
		for _, n := range []string{"member", "match-tag", "policy"} {
			fl.Lookup(n).Usage += "; replaces the list, --" + n + "= empties it"
		}
	}
}

func (f *groupFlags) apply(ctx context.Context, c *client.Client, cmd *cobra.Command, in *api.GroupInput) error {
	ch := cmd.Flags().Changed
	if ch("name") {
		in.Name = f.name
	}
	if ch("description") {
		in.Description = f.description
	}
	if ch("member") {
		ids, err := resolveAll(ctx, c, nonEmpty(f.members), resolveAsset)
		if err != nil {
			return err
		}
		in.Members = append([]int64{}, ids...)
	}
	if ch("match-tag") {
		in.MatchTags = nonEmpty(f.matchTags)
	}
	if ch("policy") {
		in.Policies = nonEmpty(f.policies)
	}
	return nil
}

func newGroupAddCommand() *cobra.Command {
	var (
		o remoteOptions
		f groupFlags
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a group",
		Example: `  plumb group add web --member web1 --member 12 --policy plumb-linux-l1
  plumb group add prod --match-tag prod --description "every production host"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				in := api.GroupInput{Name: args[0]}
				if err := f.apply(ctx, c, cmd, &in); err != nil {
					return err
				}
				g, err := c.CreateGroup(ctx, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), g, func(w io.Writer) error { return groupDetails(w, g) })
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd, false)
	return cmd
}

func newGroupShowCommand() *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "show ID-or-NAME",
		Short:   "Show a group",
		Example: `  plumb group show web`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveGroup(ctx, c, args[0])
				if err != nil {
					return err
				}
				g, err := c.GetGroup(ctx, id)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), g, func(w io.Writer) error { return groupDetails(w, g) })
			})
		},
	}
	o.addFlags(cmd)
	return cmd
}

func newGroupUpdateCommand() *cobra.Command {
	var (
		o remoteOptions
		f groupFlags
	)
	cmd := &cobra.Command{
		Use:     "update ID-or-NAME",
		Short:   "Change a group: the fields whose flags are given; the others keep their values",
		Example: `  plumb group update web --policy plumb-linux-l2 --member web1 --member web2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveGroup(ctx, c, args[0])
				if err != nil {
					return err
				}
				cur, err := c.GetGroup(ctx, id)
				if err != nil {
					return err
				}
				in := api.GroupInput{Name: cur.Name, Description: cur.Description, Members: cur.Members, MatchTags: cur.MatchTags, Policies: cur.Policies}
				if err := f.apply(ctx, c, cmd, &in); err != nil {
					return err
				}
				g, err := c.UpdateGroup(ctx, id, in)
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), g, func(w io.Writer) error { return groupDetails(w, g) })
			})
		},
	}
	o.addFlags(cmd)
	f.addFlags(cmd, true)
	return cmd
}

func newGroupAssetsCommand() *cobra.Command {
	var (
		o  remoteOptions
		lo listOptions
	)
	cmd := &cobra.Command{
		Use:     "assets ID-or-NAME",
		Short:   "List a group's assets: its members and the assets its match tags select",
		Example: `  plumb group assets web`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolveGroup(ctx, c, args[0])
				if err != nil {
					return err
				}
				assets, err := fetch(ctx, lo, cmd.ErrOrStderr(), func(ctx context.Context, p store.Page) (api.List[store.Asset], error) {
					return c.GroupAssets(ctx, id, p)
				})
				if err != nil {
					return err
				}
				return o.print(cmd.OutOrStdout(), assets, func(w io.Writer) error { return assetTable(w, assets) })
			})
		},
	}
	o.addFlags(cmd)
	lo.addFlags(cmd, 0)
	return cmd
}

// removeCommand is `plumb NOUN rm ID-or-NAME`.
func removeCommand(noun, short, example string, resolve func(context.Context, *client.Client, string) (int64, error),
	del func(*client.Client, context.Context, int64) error) *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     "rm ID-or-NAME",
		Aliases: []string{"remove", "delete"},
		Short:   short,
		Example: "  plumb " + noun + " rm " + example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				id, err := resolve(ctx, c, args[0])
				if err != nil {
					return err
				}
				if err := del(c, ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "removed %s %d\n", noun, id)
				return nil
			})
		},
	}
	o.addConnFlags(cmd)
	return cmd
}
