package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/report"
	"github.com/plumbhq/plumb/store"
)

// signingKeyAD binds the sealed signing key to its purpose.
var signingKeyAD = []byte("plumb report signing key")

// signer is the report signing key: the operator's (Config.Signer), else
// the one in the store, made by the first replica that needed one.
func (s *Server) signer(ctx context.Context) (*pdfsign.Signer, error) {
	s.signMu.Lock()
	defer s.signMu.Unlock()
	if s.sign != nil {
		return s.sign, nil
	}
	k, err := s.st.SigningKey(ctx)
	if errors.Is(err, store.ErrNotFound) {
		certPEM, keyPEM, err := pdfsign.NewSelfSigned("Plumb report signing", s.now(), 10)
		if err != nil {
			return nil, fmt.Errorf("make a signing key: %w", err)
		}
		k, err = s.st.InitSigningKey(ctx, store.SigningKey{Cert: certPEM, SealedKey: s.box.Seal(keyPEM, signingKeyAD)}, "server")
		if err != nil {
			return nil, err
		}
		s.log.Info("report signing certificate created (GET /v1/reports/certificate)")
	} else if err != nil {
		return nil, err
	}
	keyPEM, err := s.box.Open(k.SealedKey, signingKeyAD)
	if err != nil {
		return nil, fmt.Errorf("open the stored signing key (is this the secret key it was sealed with?): %w", err)
	}
	sg, err := pdfsign.Load(k.Cert, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("stored signing key: %w", err)
	}
	s.sign = sg
	return sg, nil
}

// signTo signs the PDF in pdf and writes it to w.
func (s *Server) signTo(ctx context.Context, w io.Writer, pdf []byte, reason string) error {
	sg, err := s.signer(ctx)
	if err != nil {
		return err
	}
	signed, err := sg.Sign(pdf, s.now(), pdfsign.Info{Reason: reason, Location: s.name})
	if err != nil {
		return fmt.Errorf("sign the report: %w", err)
	}
	_, err = w.Write(signed)
	return err
}

// reportScope resolves a report's assets: a group's members, or every
// asset; sorted by name.
func (s *Server) reportScope(ctx context.Context, group int64) (string, []store.Asset, error) {
	scope := "all assets"
	if group != 0 {
		g, err := s.st.GetGroup(ctx, group)
		if err != nil {
			return "", nil, err
		}
		scope = "group " + g.Name
	}
	var assets []store.Asset
	f := store.AssetFilter{Group: group, Page: store.Page{Limit: 1000}}
	for {
		page, err := s.st.ListAssets(ctx, f)
		if err != nil {
			return "", nil, err
		}
		assets = append(assets, page...)
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	slices.SortFunc(assets, func(a, b store.Asset) int { return strings.Compare(a.Name, b.Name) })
	return fmt.Sprintf("%s (%d assets)", scope, len(assets)), assets, nil
}

// policyReport writes a signed policy report PDF for policy, narrowed to
// group when it is not 0: the posture of every asset in scope, asset by
// asset (by name), control by control. Nothing is written to w unless
// the whole report was made.
func (s *Server) policyReport(ctx context.Context, w io.Writer, policy string, group int64, actor string) error {
	p, err := s.st.GetPolicy(ctx, policy, 0)
	if err != nil {
		return err
	}
	scope, assets, err := s.reportScope(ctx, group)
	if err != nil {
		return err
	}
	sum, err := s.st.PostureSummary(ctx, store.ResultFilter{Policy: policy, Group: group})
	if err != nil {
		return err
	}
	cover := report.Cover{Title: "Policy compliance report", Scope: scope, Policy: p.ID, PolicyTitle: p.Title,
		PolicyVersion: p.Version, Generated: s.now().UTC(), GeneratedBy: actor, Server: s.name}
	var buf bytes.Buffer
	if err := report.Policy(&buf, cover, sum, s.reportRows(ctx, policy, assets)); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return s.signTo(ctx, w, buf.Bytes(), "Plumb policy report: "+p.ID)
}

// reportBatch is how many assets' posture a report reads at once.
const reportBatch = 100

// reportRows yields the posture of policy on each asset (assets in the
// order given, controls by CID), reading reportBatch assets at a time:
// memory holds one batch, whatever the scope.
func (s *Server) reportRows(ctx context.Context, policy string, assets []store.Asset) iter.Seq2[report.Row, error] {
	return func(yield func(report.Row, error) bool) {
		for lo := 0; lo < len(assets); lo += reportBatch {
			batch := assets[lo:min(lo+reportBatch, len(assets))]
			ids := make([]int64, len(batch))
			for i, a := range batch {
				ids[i] = a.ID
			}
			rows, err := s.st.PostureOf(ctx, policy, ids)
			if err != nil {
				yield(report.Row{}, err)
				return
			}
			byAsset := map[int64][]store.Result{}
			for _, r := range rows {
				byAsset[r.AssetID] = append(byAsset[r.AssetID], r)
			}
			for _, a := range batch {
				for _, r := range byAsset[a.ID] {
					row := report.Row{Asset: a.Name, Result: r.Result}
					if x := r.Excepted; x != nil {
						row.Excepted = &report.Exception{ID: x.ID, Type: x.Type, Owner: x.Owner, Justification: x.Justification, Expires: x.Expires}
					}
					if !yield(row, nil) {
						return
					}
				}
			}
		}
	}
}

// reportPolicy answers GET /v1/reports/policy?policy=P[&group=G] with a
// signed PDF.
func (s *Server) reportPolicy(w http.ResponseWriter, r *http.Request) error {
	q := &query{r: r}
	policy := q.str("policy")
	group := q.int64("group")
	if q.err != nil {
		return q.err
	}
	if policy == "" {
		return invalid("policy", "the policy to report on is required")
	}
	if _, err := s.st.GetPolicy(r.Context(), policy, 0); errors.Is(err, store.ErrNotFound) {
		return invalid("policy", "no policy %q on this server", policy)
	}
	var buf bytes.Buffer
	if err := s.policyReport(r.Context(), &buf, policy, group, caller(r.Context()).Name); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("group", "no group %d", group)
		}
		return err
	}
	return writePDF(w, fmt.Sprintf("plumb-policy-%s-%s.pdf", policy, s.now().UTC().Format("20060102")), buf.Bytes())
}

// reportTrend answers GET /v1/reports/trend with a signed PDF of the
// score over time: one chart per key (key may repeat), with the trend's
// scope, granularity, from and to.
func (s *Server) reportTrend(w http.ResponseWriter, r *http.Request) error {
	keys := r.URL.Query()["key"]
	if len(keys) == 0 {
		keys = []string{""}
	}
	if len(keys) > 50 {
		return invalid("key", "at most 50 keys in one report, not %d", len(keys))
	}
	var series []report.Series
	var f store.TrendFilter
	for _, k := range keys {
		var err error
		if f, err = trendFilter(r, k); err != nil {
			return err
		}
		pts, err := s.st.Trend(r.Context(), f)
		if err != nil {
			return err
		}
		name, err := s.seriesName(r.Context(), f)
		if err != nil {
			return err
		}
		sr := report.Series{Name: name}
		for _, p := range pts {
			sr.Points = append(sr.Points, report.Point{Period: p.Period, Score: p.Score, Weighted: p.Weighted, Coverage: p.Coverage, Excepted: p.Excepted})
		}
		series = append(series, sr)
	}
	cover := report.Cover{Title: "Compliance trend report", Scope: fmt.Sprintf("%d %s series by %s", len(series), f.Scope, f.Granularity),
		Generated: s.now().UTC(), GeneratedBy: caller(r.Context()).Name, Server: s.name}
	var pdf, signed bytes.Buffer
	if err := report.Trend(&pdf, cover, f.Granularity, series); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := s.signTo(r.Context(), &signed, pdf.Bytes(), "Plumb trend report"); err != nil {
		return err
	}
	return writePDF(w, fmt.Sprintf("plumb-trend-%s.pdf", s.now().UTC().Format("20060102")), signed.Bytes())
}

// seriesName names a trend's scope and key for people.
func (s *Server) seriesName(ctx context.Context, f store.TrendFilter) (string, error) {
	switch f.Scope {
	case store.ScopeAll:
		return "all assets", nil
	case store.ScopeGroup:
		id, _ := strconv.ParseInt(f.Key, 10, 64)
		g, err := s.st.GetGroup(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "", invalid("key", "no group %s", f.Key)
		}
		if err != nil {
			return "", err
		}
		return "group " + g.Name, nil
	}
	return f.Scope + " " + f.Key, nil
}

// reportCertificate answers the report signing certificate (PEM), for
// auditors to verify reports with.
func (s *Server) reportCertificate(w http.ResponseWriter, r *http.Request) error {
	sg, err := s.signer(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	for _, c := range append([]*x509.Certificate{sg.Cert}, sg.Chain...) {
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
	}
	return nil
}

// writePDF answers a PDF as a download.
func writePDF(w http.ResponseWriter, name string, pdf []byte) error {
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	_, err := w.Write(pdf)
	return err
}
