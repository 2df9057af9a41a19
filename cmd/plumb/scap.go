package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap"
	"github.com/plumbhq/plumb/scap/xccdf"
	"github.com/plumbhq/plumb/target"
)

func newContentCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "content",
		Short: "Find and inspect SCAP content (SCAP Security Guide data streams)",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list [FILE...]",
		Short: "List the SCAP source data streams installed on this machine (or the files given)",
		Long: `List SCAP source data streams: those installed by the Debian packages ssg-debian,
ssg-debderived and ssg-nondebian (or scap-security-guide on RPM systems), or the files
given, with their benchmark, version, rule and profile counts.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files := args
			if len(files) == 0 {
				var err error
				if files, err = xccdf.Find(); err != nil {
					return err
				}
				if len(files) == 0 {
					return fmt.Errorf("no SCAP data streams found in %s (install ssg-debian, ssg-debderived or ssg-nondebian)", strings.Join(xccdf.ContentDirs(), ", "))
				}
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "FILE\tBENCHMARK\tVERSION\tRULES\tPROFILES")
			for _, f := range files {
				src, err := scap.Open(f, scap.OpenOptions{Brief: true})
				if err != nil {
					fmt.Fprintf(w, "%s\terror: %v\t\t\t\n", f, err)
					continue
				}
				b := src.Benchmark
				fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\n", f, b.ID, b.Version, len(b.Rules), len(b.Profiles))
				src.Close()
			}
			return w.Flush()
		},
	})
	var streamID, benchID string
	profiles := &cobra.Command{
		Use:   "profiles FILE",
		Short: "List the profiles of a data stream with the number of rules each selects",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := scap.Open(args[0], scap.OpenOptions{DataStream: streamID, Benchmark: benchID, Brief: true})
			if err != nil {
				return err
			}
			defer src.Close()
			sums, err := src.Benchmark.ProfilesSummary()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "PROFILE\tRULES\tTITLE\n")
			for _, s := range sums {
				fmt.Fprintf(w, "%s\t%d\t%s\n", s.ID, s.Rules, s.Title)
			}
			fmt.Fprintf(w, "%s\t%d\t%s\n", xccdf.AllProfile, len(src.Benchmark.Rules), "every rule of the benchmark")
			return w.Flush()
		},
	}
	profiles.Flags().StringVar(&streamID, "datastream-id", "", "data stream `ID` when the file holds several")
	profiles.Flags().StringVar(&benchID, "benchmark-id", "", "benchmark (or checklist component-ref) `ID` when the data stream holds several")
	cmd.AddCommand(profiles)
	return cmd
}

// scapOptions are the scan flags for SCAP content.
type scapOptions struct {
	datastream  string
	profile     string
	tailoring   string
	streamID    string
	benchmarkID string
}

func (o *scapOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.datastream, "datastream", "", "evaluate SCAP content: a source data stream or XCCDF `FILE` (see plumb content list)")
	f.StringVar(&o.profile, "profile", "", "XCCDF profile `ID` to evaluate with --datastream (see plumb content profiles FILE; \"(all)\" selects every rule); a profile id suffix such as cis_level1_server is enough")
	f.StringVar(&o.tailoring, "tailoring", "", "XCCDF 1.2 tailoring `FILE` applied to the data stream")
	f.StringVar(&o.streamID, "datastream-id", "", "data stream `ID` when the file holds several")
	f.StringVar(&o.benchmarkID, "benchmark-id", "", "benchmark `ID` when the data stream holds several")
}

// openSCAP opens the content and resolves the profile before anything is
// scanned, so that a typo in a profile id costs nothing. No --datastream:
// nil.
func openSCAP(o scapOptions, warn io.Writer) (*scap.Profile, error) {
	if o.datastream == "" {
		if o.profile != "" || o.tailoring != "" {
			return nil, fmt.Errorf("--profile and --tailoring need --datastream FILE")
		}
		return nil, nil
	}
	p, err := scap.OpenProfile(o.datastream, scap.OpenOptions{DataStream: o.streamID, Benchmark: o.benchmarkID}, o.profile, o.tailoring)
	if err != nil {
		return nil, fmt.Errorf("--datastream %s: %w", o.datastream, err)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(warn, "plumb: %s: warning: %s\n", o.datastream, w)
	}
	return p, nil
}

// scanSCAP evaluates the content on t and adds its policy run to host.
func scanSCAP(ctx context.Context, p *scap.Profile, t target.Target, host *result.Host, concurrency int, log *slog.Logger) error {
	start := time.Now()
	method, _, _ := strings.Cut(t.Name(), ":")
	run, st, err := p.Scan(ctx, t, concurrency, method)
	if err != nil {
		return err
	}
	host.Policies = append(host.Policies, run)
	host.Stats.EntriesWalked += int(st.EntriesWalked)
	host.Stats.FilesRead += int(st.FilesRead)
	host.Stats.Commands += int(st.Commands)
	log.Debug("scap content evaluated", "target", t.Name(), "rules", len(run.Results), "seconds", time.Since(start).Seconds())
	return nil
}
