package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/gate"
	"github.com/plumbhq/plumb/output"
	"github.com/plumbhq/plumb/result"
)

// scanOptions are the flags of plumb scan.
type scanOptions struct {
	root              string
	targets           []string
	inventory         string
	policies          []string
	format            string
	outputFile        string
	reports           []string
	failOn            []string
	excludeCIDs       []string
	failOnAuth        bool
	timeout           time.Duration
	concurrency       int
	objectConcurrency int
	noColor           bool
	noProgress        bool
	verbose           bool
	scap              scapOptions
	ssh               sshOptions
}

func (o *scanOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.root, "root", "", "scan an unpacked root file system in `DIR` instead of this machine (read only; nothing in it is executed)")
	f.StringArrayVarP(&o.targets, "target", "t", nil, "scan `URL` instead of this machine: ssh://[user@]host[:port], or local (repeatable)")
	f.StringVar(&o.inventory, "targets", "", "scan every host of the inventory `FILE` (YAML: hosts, groups, per-host user, port, key, sudo; see docs/ssh.md)")
	f.StringSliceVarP(&o.policies, "policy", "p", nil, "policy `ID or FILE` to evaluate (repeatable; default: the built-in baseline plumb-linux-l1)")
	f.StringVarP(&o.format, "format", "f", "table", "output format: "+strings.Join(output.Formats, ", "))
	f.StringVarP(&o.outputFile, "output", "o", "", "write the output to `FILE` instead of standard output")
	f.StringArrayVar(&o.reports, "report", nil, "also write a report as `FORMAT=FILE` (repeatable), e.g. --report junit=plumb.xml --report sarif=plumb.sarif")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 2 when a result matches these `CRITERIA`: states fail,error and criticalities minimal..urgent (NAME+ for and above), e.g. --fail-on fail,error,serious+")
	f.StringSliceVar(&o.excludeCIDs, "exclude-cid", nil, "ignore these control `IDS` for --fail-on (comma-separated)")
	f.BoolVar(&o.failOnAuth, "fail-on-auth-failure", false, "exit 3 when a host refuses authentication (unreachable hosts always do)")
	f.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up on the whole scan after this long")
	f.IntVar(&o.concurrency, "concurrency", 10, "hosts scanned at once")
	f.IntVar(&o.objectConcurrency, "object-concurrency", 8, "objects collected at once on one host")
	f.BoolVar(&o.noColor, "no-color", false, "no colours in table output (also NO_COLOR=1)")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress on standard error")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log what the scan does on standard error")
	o.scap.addFlags(cmd)
	o.ssh.addFlags(cmd)
}

func newScanCommand() *cobra.Command {
	var o scanOptions
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Evaluate policies against this machine or an unpacked root file system",
		Long: `Evaluate one or more policies against a target and print the result of every
control: Pass, Fail, Error (with the reason), N/A or Not checked, with the expected
and the actual value. Without --policy, the built-in Level 1 baseline is used.

Examples:
  plumb scan
  plumb scan --root /srv/images/debian12 --format json -o result.json
  plumb scan --policy plumb-linux-stig --fail-on fail,error,serious+ --report junit=plumb.xml
  plumb scan --policy ./my-policy.yaml
  plumb scan --datastream /usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml --profile standard

` + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runScan(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	o.addFlags(cmd)
	cmd.AddCommand(newRemoteScanCommands()...)
	return cmd
}

func runScan(ctx context.Context, o scanOptions, stdout, stderr io.Writer) error {
	criteria, err := gate.Parse(o.failOn)
	if err != nil {
		return err
	}
	if criteria.Exclude, err = gate.ParseCIDs(o.excludeCIDs); err != nil {
		return err
	}
	if !slices.Contains(output.Formats, o.format) {
		return fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(output.Formats, ", "))
	}
	type extra struct{ format, file string }
	var extras []extra
	for _, r := range o.reports {
		f, file, ok := strings.Cut(r, "=")
		if !ok || file == "" || !slices.Contains(output.Formats, f) {
			return fmt.Errorf("--report %q: want FORMAT=FILE with FORMAT one of %s", r, strings.Join(output.Formats, ", "))
		}
		extras = append(extras, extra{f, file})
	}
	sr, err := openSCAP(o.scap, stderr)
	if err != nil {
		return err
	}
	if sr != nil {
		defer sr.Close()
	}
	var runs []engine.Run
	// SCAP content alone replaces the default baseline; with --policy too,
	// both run on the same target.
	if sr == nil || len(o.policies) > 0 {
		if runs, err = nativeRuns(o.policies); err != nil {
			return err
		}
	}

	specs, err := targetSpecs(o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	rep := &result.Report{Schema: result.SchemaVersion, Tool: "plumb " + version, Started: time.Now().UTC()}
	hosts, err := scanAll(ctx, specs, runs, sr, o, stderr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("the scan did not finish within --timeout %s", o.timeout)
		}
		return err
	}
	rep.Finished = time.Now().UTC()
	rep.Hosts = hosts

	var out io.Writer = stdout
	color := o.format == "table" && !o.noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
	if o.outputFile != "" {
		f, err := os.Create(o.outputFile)
		if err != nil {
			return err
		}
		defer f.Close()
		out, color = f, false
	}
	if err := output.Write(out, o.format, rep, output.Options{Color: color, Width: terminalWidth()}); err != nil {
		return fmt.Errorf("writing %s output: %w", o.format, err)
	}
	for _, x := range extras {
		if err := writeReportFile(x.file, x.format, rep); err != nil {
			return err
		}
	}

	if err := hostExitError(hosts, o.failOnAuth); err != nil {
		return err
	}
	if hits := criteria.Evaluate(rep); len(hits) > 0 {
		fmt.Fprintf(stderr, "plumb: %d results meet --fail-on (%s)\n", len(hits), criteria)
		return errCriteriaMet
	}
	return nil
}

// nativeRuns resolves --policy arguments into engine runs.
func nativeRuns(args []string) ([]engine.Run, error) {
	lib, pols, err := resolvePolicies(args)
	if err != nil {
		return nil, err
	}
	var runs []engine.Run
	for _, p := range pols {
		rules, err := p.Rules(lib)
		if err != nil {
			return nil, err
		}
		runs = append(runs, engine.Run{Policy: p, Rules: rules})
	}
	return runs, nil
}

func writeReportFile(name, format string, rep *result.Report) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := output.Write(f, format, rep, output.Options{}); err != nil {
		f.Close()
		return fmt.Errorf("writing %s report %s: %w", format, name, err)
	}
	return f.Close()
}

// progress draws the scan's progress on a terminal's standard error: the
// objects of the host being collected, and with several hosts how many
// are done.
type progress struct {
	mu        sync.Mutex
	w         io.Writer
	on        bool
	hosts     int
	hostsDone int
	drawn     bool
}

func newProgress(w io.Writer, on bool, hosts int) *progress {
	return &progress{w: w, on: on, hosts: hosts}
}

func (p *progress) update(s engine.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drawn = true
	prefix := ""
	if p.hosts > 1 {
		prefix = fmt.Sprintf("[%d/%d hosts done] ", p.hostsDone, p.hosts)
	}
	fmt.Fprintf(p.w, "\r\033[K%s%s: %d/%d objects collected, %d entries walked, %.0fs", prefix, s.Target, s.Done, s.Total, s.Walked, s.Elapsed.Seconds())
}

func (p *progress) hostDone() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hostsDone++
	if p.on && p.hosts > 1 {
		p.drawn = true
		fmt.Fprintf(p.w, "\r\033[K[%d/%d hosts done]", p.hostsDone, p.hosts)
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
