package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/store"
)

// defaultServer is the server remote commands talk to without --server
// or PLUMB_SERVER.
const defaultServer = "http://127.0.0.1:8080"

// remoteOptions are the flags every command that talks to a Plumb server
// takes.
type remoteOptions struct {
	server    string
	token     string
	tokenFile string
	timeout   time.Duration
	json      bool
	csv       bool
}

// addFlags adds --server, --token, --token-file, --timeout, --json and
// --csv.
func (o *remoteOptions) addFlags(cmd *cobra.Command) {
	o.addConnFlags(cmd)
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.csv, "csv", false, "print the table as CSV (RFC 4180, header first), for spreadsheets and imports")
	cmd.MarkFlagsMutuallyExclusive("json", "csv")
}

// addConnFlags adds the connection flags alone, for commands that have
// their own --json.
func (o *remoteOptions) addConnFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "Plumb server `URL` (default $PLUMB_SERVER, else "+defaultServer+")")
	f.StringVar(&o.token, "token", "", "API `TOKEN` (default $PLUMB_TOKEN)")
	f.StringVar(&o.tokenFile, "token-file", "", "read the API token from `FILE`")
	f.DurationVar(&o.timeout, "timeout", client.DefaultTimeout, "give up on each request after this long")
}

// serverURL is --server, else $PLUMB_SERVER, else defaultServer.
func (o *remoteOptions) serverURL() string {
	if o.server != "" {
		return o.server
	}
	if s := os.Getenv("PLUMB_SERVER"); s != "" {
		return s
	}
	return defaultServer
}

// maxTokenFile bounds a --token-file: tokens are short.
const maxTokenFile = 4096

// apiToken is --token, else --token-file's first line, else $PLUMB_TOKEN.
func (o *remoteOptions) apiToken() (string, error) {
	if o.token != "" && o.tokenFile != "" {
		return "", errors.New("--token and --token-file: give one of them")
	}
	if o.token != "" {
		return o.token, nil
	}
	if o.tokenFile != "" {
		f, err := os.Open(o.tokenFile)
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
		if err != nil {
			return "", fmt.Errorf("--token-file: %w", err)
		}
		if len(data) > maxTokenFile {
			return "", fmt.Errorf("--token-file %s: larger than %d bytes, not a token", o.tokenFile, maxTokenFile)
		}
		tok, _, _ := strings.Cut(string(data), "\n")
		if tok = strings.TrimSpace(tok); tok == "" {
			return "", fmt.Errorf("--token-file %s: the file is empty", o.tokenFile)
		}
		return tok, nil
	}
	if t := strings.TrimSpace(os.Getenv("PLUMB_TOKEN")); t != "" {
		return t, nil
	}
	return "", errors.New("no API token: pass --token-file FILE or set PLUMB_TOKEN (plumb server prints the first admin token when it creates its database)")
}

// client is the API client the flags describe.
func (o *remoteOptions) client() (*client.Client, error) {
	tok, err := o.apiToken()
	if err != nil {
		return nil, err
	}
	if o.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %s: want a positive duration", o.timeout)
	}
	return client.New(o.serverURL(), tok, client.WithTimeout(o.timeout), client.WithUserAgent("plumb/"+version)), nil
}

// remoteError rewords a client error for people: a problem document
// becomes the server's reason with the offending field; an unreachable
// server says which address was tried.
func remoteError(err error, server string) error {
	if err == nil {
		return nil
	}
	var p *api.Problem
	if errors.As(err, &p) {
		msg := p.Title
		if p.Field != "" {
			msg += ": field " + p.Field
		}
		if p.Detail != "" {
			msg += ": " + p.Detail
		}
		msg = fmt.Sprintf("the server refused the request (%d): %s", p.Status, msg)
		switch p.Status {
		case http.StatusUnauthorized:
			msg += " (check --token, --token-file or PLUMB_TOKEN)"
		case http.StatusForbidden:
			msg += " (the token's role does not allow this; see plumb token list)"
		}
		return &remoteErr{msg: msg, err: err}
	}
	var h *client.HTTPError
	if errors.As(err, &h) {
		return err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return &remoteErr{msg: fmt.Sprintf("cannot reach the Plumb server at %s (is plumb server running? set --server or PLUMB_SERVER): %v", server, err), err: err}
	}
	return err
}

// remoteErr keeps the client error under a friendlier message.
type remoteErr struct {
	msg string
	err error
}

func (e *remoteErr) Error() string { return e.msg }
func (e *remoteErr) Unwrap() error { return e.err }

// call runs fn with the client the flags describe and rewords its error.
func (o *remoteOptions) call(ctx context.Context, fn func(context.Context, *client.Client) error) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	return remoteError(fn(ctx, c), c.BaseURL)
}

// listOptions are the paging flags of list commands.
type listOptions struct {
	limit int
	after int64
}

func (o *listOptions) addFlags(cmd *cobra.Command, defaultLimit int) {
	what := "print at most `N` items (0: all)"
	cmd.Flags().IntVar(&o.limit, "limit", defaultLimit, what)
	cmd.Flags().Int64Var(&o.after, "after", 0, "start after the item with this `ID` (to continue a listing)")
}

// fetch collects the listing's items as the flags ask, and says on
// stderr how to continue it when --limit cut it short.
func fetch[T any](ctx context.Context, o listOptions, stderr io.Writer, list func(context.Context, store.Page) (api.List[T], error)) ([]T, error) {
	if o.limit < 0 {
		return nil, fmt.Errorf("--limit %d: want 0 (all) or more", o.limit)
	}
	page := store.Page{After: o.after}
	if o.limit == 0 || o.limit > 1000 {
		page.Limit = 1000
	}
	items, more, err := client.All(ctx, page, o.limit, list)
	if err != nil {
		return nil, err
	}
	if more != 0 {
		fmt.Fprintf(stderr, "(more: --after %d)\n", more)
	}
	return items, nil
}

// parseID reads an object id argument.
func parseID(what, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s id %q: want a positive number", what, s)
	}
	return n, nil
}

// nonEmpty drops empty strings, so that --tag= clears a list on update.
func nonEmpty(ss []string) []string {
	out := []string{}
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// tableWriter takes tab-separated cells and newline-ended rows.
type tableWriter interface {
	io.Writer
	Flush() error
}

// table writes aligned columns, or CSV records when w is a CSV table.
func table(w io.Writer) tableWriter {
	if c, ok := w.(*csvTable); ok {
		return c
	}
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// csvTable turns the rows a table is given into CSV records: each
// complete line one record, split at tabs. Lines outside a table (a
// total, a note) become one-field records.
type csvTable struct {
	buf []byte
	w   *csv.Writer
}

func newCSVTable(w io.Writer) *csvTable { return &csvTable{w: csv.NewWriter(w)} }

func (c *csvTable) Write(p []byte) (int, error) {
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Flush writes the complete lines written so far.
func (c *csvTable) Flush() error {
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimRight(string(c.buf[:i]), "\t")
		c.buf = c.buf[i+1:]
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		for j, f := range fields {
			fields[j] = strings.TrimSpace(f)
		}
		if err := c.w.Write(fields); err != nil {
			return err
		}
	}
	c.w.Flush()
	return c.w.Error()
}

// details writes "Key: value" lines, aligned, skipping empty values (as
// two-field records in CSV).
func details(w io.Writer, kv ...string) error {
	if c, ok := w.(*csvTable); ok {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				fmt.Fprintf(c, "%s\t%s\n", kv[i], kv[i+1])
			}
		}
		return c.Flush()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], kv[i+1])
	}
	return tw.Flush()
}

// cell prints a value for a table, "-" when empty.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinCell(ss []string) string { return cell(strings.Join(ss, ",")) }

func idsCell(ids []int64) string {
	var ss []string
	for _, n := range ids {
		ss = append(ss, strconv.FormatInt(n, 10))
	}
	return joinCell(ss)
}

func timeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}

func tcell(t time.Time) string { return timeCell(&t) }

func idCell(n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

// print prints v as JSON with --json, text's table as CSV with --csv,
// else text.
func (o *remoteOptions) print(w io.Writer, v any, text func(io.Writer) error) error {
	switch {
	case o.json:
		return writeJSON(w, v)
	case o.csv:
		c := newCSVTable(w)
		if err := text(c); err != nil {
			return err
		}
		c.buf = append(c.buf, '\n')
		return c.Flush()
	}
	return text(w)
}

// noun commands group the remote subcommands of one object type.
func nounCommand(use, short string, sub ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	cmd.AddCommand(sub...)
	return cmd
}

// idActionCommand is a command that does one thing to the object with
// the id it is given (cancel a scan, revoke a token) and says so.
func idActionCommand(use, what, done, short, example string, do func(*client.Client, context.Context, int64) error) *cobra.Command {
	var o remoteOptions
	cmd := &cobra.Command{
		Use:     use + " ID",
		Short:   short,
		Example: "  " + example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(what, args[0])
			if err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				if err := do(c, ctx, id); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %d\n", done, what, id)
				return nil
			})
		},
	}
	o.addConnFlags(cmd)
	return cmd
}
