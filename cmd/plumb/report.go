package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbhq/plumb/client"
	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/store"
)

func newReportCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Signed PDF reports from the server, and their verification",
		Long: `Audit reports made by a Plumb server, as PDF documents carrying a digital signature (CMS,
adbe.pkcs7.detached) with a signing time, made with the server's report signing certificate.
Any PDF tool that checks signatures (poppler's pdfsig, Adobe Reader) checks them, and so does
plumb report verify, offline.`,
	}
	cmd.AddCommand(newReportPolicyCommand(), newReportTrendCommand(), newReportVerifyCommand(), newReportCertificateCommand())
	return cmd
}

// maxReportFile bounds the PDF report verify reads.
const maxReportFile = 1 << 30

func newReportPolicyCommand() *cobra.Command {
	var (
		o             remoteOptions
		policy, group string
		out           string
	)
	cmd := &cobra.Command{
		Use:   "policy --policy P [--group G] --out FILE",
		Short: "A signed PDF report of a policy's posture, on a group or on every asset",
		Long: `Write the policy report: a cover (scope, policy and version, date, who asked), the summary
score with counts per status and criticality, and every control of every asset in scope with its
result, expected value, actual evidence and any exception (type, justification, owner, expiry).
The server signs it; the signature is checked here before the file is kept.`,
		Example: `  plumb report policy --policy plumb-linux-l1 --group web --out web-l1.pdf
  plumb report verify web-l1.pdf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if policy == "" {
				return errors.New("--policy: the policy to report on is required")
			}
			if out == "" {
				return errors.New("--out: the file to write the PDF to is required")
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				var gid int64
				if group != "" {
					var err error
					if gid, err = resolveGroup(ctx, c, group); err != nil {
						return err
					}
				}
				pdf, err := c.PolicyReport(ctx, policy, gid)
				if err != nil {
					return err
				}
				return keepReport(cmd.ErrOrStderr(), out, pdf)
			})
		},
	}
	o.addConnFlags(cmd)
	cmd.Flags().StringVar(&policy, "policy", "", "the policy `ID` to report on")
	cmd.Flags().StringVar(&group, "group", "", "only the assets of this group (`NAME` or id)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the PDF to `FILE`")
	return cmd
}

func newReportTrendCommand() *cobra.Command {
	var (
		o                       remoteOptions
		f                       store.TrendFilter
		groups, policies, techs []string
		from, to, out           string
	)
	cmd := &cobra.Command{
		Use:   "trend [--group G]... | [--policy P]... | [--technology T]... --out FILE",
		Short: "A signed PDF of the score over time: one chart per group, policy or technology",
		Long: `Write the trend report: for each group, policy or technology named (none: the whole fleet), a
chart of the score and the criticality-weighted score per day, week, month or quarter, and the
figures beside it. Without --from: the year before --to (default today).`,
		Example: `  plumb report trend --group web --group db --granularity month --out trend.pdf
  plumb report trend --policy plumb-linux-l1 --granularity quarter --from 2027-01-01 --out q.pdf`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out: the file to write the PDF to is required")
			}
			kinds := 0
			for _, l := range [][]string{groups, policies, techs} {
				if len(l) > 0 {
					kinds++
				}
			}
			if kinds > 1 {
				return errors.New("give groups, policies or technologies, not a mix (none: the whole fleet)")
			}
			if err := setTrendDates(&f, from, to); err != nil {
				return err
			}
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				var keys []string
				switch {
				case len(groups) > 0:
					f.Scope = store.ScopeGroup
					for _, g := range groups {
						id, err := resolveGroup(ctx, c, g)
						if err != nil {
							return err
						}
						keys = append(keys, strconv.FormatInt(id, 10))
					}
				case len(policies) > 0:
					f.Scope, keys = store.ScopePolicy, policies
				case len(techs) > 0:
					f.Scope, keys = store.ScopeTechnology, techs
				default:
					f.Scope = store.ScopeAll
				}
				pdf, err := c.TrendReport(ctx, f, keys)
				if err != nil {
					return err
				}
				return keepReport(cmd.ErrOrStderr(), out, pdf)
			})
		},
	}
	o.addConnFlags(cmd)
	cmd.Flags().StringArrayVar(&groups, "group", nil, "a chart for this group (`NAME` or id; repeat for more)")
	cmd.Flags().StringArrayVar(&policies, "policy", nil, "a chart for this policy (`ID`; repeat for more)")
	cmd.Flags().StringArrayVar(&techs, "technology", nil, "a chart for this technology (`ID`; repeat for more)")
	cmd.Flags().StringVar(&f.Granularity, "granularity", "week", "one point per day, week, month or quarter")
	cmd.Flags().StringVar(&from, "from", "", "first `DATE` (2027-01-01)")
	cmd.Flags().StringVar(&to, "to", "", "last `DATE` (default today)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the PDF to `FILE`")
	return cmd
}

// keepReport checks a report's signature and writes it to path (through
// a temporary file, so a failed write leaves no half report).
func keepReport(stderr io.Writer, path string, pdf []byte) error {
	sig, err := pdfsign.Verify(pdf)
	if err != nil {
		return fmt.Errorf("the server's report does not verify, not written: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".plumb-report-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(pdf); err != nil {
		tmp.Close()
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "wrote %s (%d bytes), signed by %q at %s\n", path, len(pdf), sig.Signer, sig.SigningTime.UTC().Format(time.RFC3339))
	return nil
}

func newReportVerifyCommand() *cobra.Command {
	var certFile string
	cmd := &cobra.Command{
		Use:   "verify FILE [--cert PEM]",
		Short: "Check a report's signature: whole document, unchanged since signing",
		Long: `Check the digital signature of a Plumb PDF report, offline: that it covers the whole file (nothing
was added after signing) and that the signed bytes are unchanged. With --cert, also that it was
signed with that certificate (GET /v1/reports/certificate, or plumb report certificate, gives
the server's). Exits 1 when the report does not verify.`,
		Example: `  plumb report verify web-l1.pdf
  plumb report certificate --out plumb-reports.pem && plumb report verify web-l1.pdf --cert plumb-reports.pem`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pdf, err := readBounded(args[0], maxReportFile)
			if err != nil {
				return err
			}
			sig, err := pdfsign.Verify(pdf)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if certFile != "" {
				want, err := readCert(certFile)
				if err != nil {
					return err
				}
				if !want.Equal(sig.Cert) {
					return fmt.Errorf("%s: signed by %q (SHA-256 %s), not by the certificate in %s", args[0], sig.Signer, fingerprint(sig.Cert), certFile)
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%s: valid signature covering the whole document (%d bytes)\n", args[0], len(pdf))
			return details(w, "Signed by", sig.Signer, "Signing time", sig.SigningTime.UTC().Format(time.RFC3339),
				"Reason", sig.Reason, "Certificate SHA-256", fingerprint(sig.Cert),
				"Certificate valid", sig.Cert.NotBefore.UTC().Format(time.DateOnly)+" to "+sig.Cert.NotAfter.UTC().Format(time.DateOnly))
		},
	}
	cmd.Flags().StringVar(&certFile, "cert", "", "require the signature to be made with the certificate in `PEM` file")
	return cmd
}

func newReportCertificateCommand() *cobra.Command {
	var (
		o   remoteOptions
		out string
	)
	cmd := &cobra.Command{
		Use:   "certificate [--out FILE]",
		Short: "The server's report signing certificate (PEM)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.call(cmd.Context(), func(ctx context.Context, c *client.Client) error {
				pem, err := c.ReportCertificate(ctx)
				if err != nil {
					return err
				}
				if out == "" {
					_, err = cmd.OutOrStdout().Write(pem)
					return err
				}
				return os.WriteFile(out, pem, 0o644)
			})
		},
	}
	o.addConnFlags(cmd)
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the certificate to `FILE` (default: standard output)")
	return cmd
}

// readBounded reads a file of at most limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// readCert reads the first certificate of a PEM file.
func readCert(path string) (*x509.Certificate, error) {
	data, err := readBounded(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("--cert: %w", err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("--cert %s: no PEM CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("--cert %s: %w", path, err)
	}
	return c, nil
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}
