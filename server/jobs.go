package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// claimJob hands the oldest waiting job (or one whose worker stopped
// renewing its lease) to the calling worker, with the asset, the
// decrypted credential and the policy documents it needs.
func (s *Server) claimJob(w http.ResponseWriter, r *http.Request) error {
	var in api.ClaimRequest
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if in.Worker == "" || len(in.Worker) > 128 {
		return invalid("worker", "name the worker (1-128 characters)")
	}
	ctx := r.Context()
	job, ok, err := s.st.ClaimJob(ctx, in.Worker, s.lease)
	if err != nil {
		return err
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	claim, err := s.claim(r, job)
	if err != nil {
		return err
	}
	s.log.Info("job claimed", "job", job.ID, "scan", job.ScanID, "asset", job.AssetID, "attempt", job.Attempt, "worker", in.Worker)
	return writeJSON(w, http.StatusOK, claim)
}

func (s *Server) claim(r *http.Request, job store.Job) (api.Claim, error) {
	ctx := r.Context()
	c := api.Claim{Job: job, LeaseSeconds: int(s.lease.Seconds())}
	sc, err := s.st.GetScan(ctx, job.ScanID)
	if err != nil {
		return c, err
	}
	if c.Asset, err = s.st.GetAsset(ctx, job.AssetID); err != nil {
		return c, err
	}
	for _, id := range sc.Policies {
		p, err := s.st.GetPolicy(ctx, id, 0)
		if err != nil {
			return c, fmt.Errorf("scan %d policy %s: %w", sc.ID, id, err)
		}
		c.Policies = append(c.Policies, policyDoc(p))
	}
	credID := sc.CredentialID
	if credID == 0 {
		credID = c.Asset.CredentialID
	}
	if credID == 0 {
		c.CredentialError = fmt.Sprintf("asset %s has no credential and scan %d names none", c.Asset.Name, sc.ID)
		return c, nil
	}
	cred, err := s.st.GetCredential(ctx, credID)
	if err != nil {
		c.CredentialError = fmt.Sprintf("credential %d: %v", credID, err)
		return c, nil
	}
	plain, err := s.box.Open(cred.Sealed, credentialAD(cred.Name))
	if err == nil {
		var sec api.Secrets
		if err = json.Unmarshal(plain, &sec); err == nil {
			c.Credential = &sec
			return c, nil
		}
	}
	s.log.Error("credential cannot be opened; was the secret key changed?", "credential", cred.Name, "err", err)
	c.CredentialError = fmt.Sprintf("credential %s cannot be decrypted on the server", cred.Name)
	return c, nil
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in api.Heartbeat
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if err := s.st.RenewLease(r.Context(), id, in.Attempt, s.lease); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// completeJob stores a job's results. The job, scan and asset of every
// result come from the job, never from the worker; a worker whose lease
// was lost is answered 409 and nothing it sent is kept.
func (s *Server) completeJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in api.Completion
	if err := decode(w, r, 64*s.max, &in); err != nil {
		return err
	}
	ctx := r.Context()
	job, err := s.st.GetJob(ctx, id)
	if err != nil {
		return err
	}
	sc, err := s.st.GetScan(ctx, job.ScanID)
	if err != nil {
		return err
	}
	if len(in.Technology) > 64 {
		return invalid("technology", "at most 64 characters")
	}
	if len(in.Error) > 4096 {
		in.Error = in.Error[:4096]
	}
	for i := range in.Results {
		res := &in.Results[i]
		field := fmt.Sprintf("results[%d]", i)
		if !slices.Contains(sc.Policies, res.Policy) {
			return invalid(field+".policy", "policy %q is not part of scan %d", res.Policy, sc.ID)
		}
		if res.CID <= 0 {
			return invalid(field+".cid", "%d is not a CID", res.CID)
		}
		if !slices.Contains(result.Statuses, res.Status) {
			return invalid(field+".status", "%q is not a status", res.Status)
		}
		if res.PolicyVersion <= 0 {
			return invalid(field+".policy_version", "the policy version the result was evaluated against is required")
		}
		res.ScanID, res.JobID, res.AssetID, res.ID = job.ScanID, job.ID, job.AssetID, 0
	}
	out := store.JobOutcome{Technology: in.Technology, Error: in.Error, Results: in.Results}
	if err := s.st.CompleteJob(ctx, id, in.Attempt, out); err != nil {
		return err
	}
	s.log.Info("job completed", "job", id, "scan", job.ScanID, "results", len(in.Results), "error", in.Error)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
