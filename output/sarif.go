package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// sarifWriter renders SARIF 2.1.0: one run whose tool.driver.rules are the
// distinct controls of the report (ordered by CID, id "PLUMB-<cid>") and
// whose results are every result of every host and policy, each located by
// a logical location "host/policy-id". Statuses map to result.kind and
// result.level as follows (SARIF requires level "none" whenever kind is
// not "fail"):
//
//	Pass        -> kind "pass",          level "none"
//	Fail        -> kind "fail",          level by criticality: urgent, critical -> "error";
//	                                     serious, medium -> "warning"; minimal -> "note"
//	Error       -> kind "open",          level "none", properties.plumbStatus "error"
//	               and properties.reason (SARIF has no "could not evaluate" kind; an
//	               Error is never reported as a fail)
//	N/A         -> kind "notApplicable", level "none"
//	Not checked -> kind "review",        level "none"
//
// Hosts that could not be scanned are toolExecutionNotifications of level
// "error" in the run's invocation, whose executionSuccessful is then false.
type sarifWriter struct{}

const (
	sarifSchema    = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion   = "2.1.0"
	informationURI = "https://github.com/plumbhq/plumb"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
	Results     []sarifResult     `json:"results"`
	Properties  map[string]any    `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifMessage   `json:"shortDescription"`
	Help                 *sarifMessage  `json:"help,omitempty"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	StartTimeUTC        string              `json:"startTimeUtc,omitempty"`
	EndTimeUTC          string              `json:"endTimeUtc,omitempty"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level      string          `json:"level"`
	Message    sarifMessage    `json:"message"`
	Locations  []sarifLocation `json:"locations,omitempty"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Kind                string            `json:"kind"`
	Level               string            `json:"level"`
	Message             sarifMessage      `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
}

type sarifLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
}

func sarifRuleID(cid int) string { return "PLUMB-" + strconv.Itoa(cid) }

// sarifLevel maps a criticality to the level of a failing result.
func sarifLevel(c policy.Criticality) string {
	switch c {
	case policy.Urgent, policy.Critical:
		return "error"
	case policy.Serious, policy.Medium:
		return "warning"
	case policy.Minimal:
		return "note"
	}
	return "warning"
}

// sarifKind maps a status to result.kind.
func sarifKind(s result.Status) string {
	switch s {
	case result.Pass:
		return "pass"
	case result.Fail:
		return "fail"
	case result.NA:
		return "notApplicable"
	case result.Error:
		return "open" // SARIF: the tool could not determine whether the problem is present
	}
	return "review" // Not checked and any unknown status need a human
}

// ruleName turns a title into a PascalCase identifier:
// "Ensure permissions on /etc/shadow" -> "EnsurePermissionsOnEtcShadow".
func ruleName(cid int, title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		rs := []rune(w)
		b.WriteRune(unicode.ToUpper(rs[0]))
		b.WriteString(string(rs[1:]))
	}
	if b.Len() == 0 {
		return "Control" + strconv.Itoa(cid)
	}
	return b.String()
}

func (sarifWriter) write(buf *bytes.Buffer, r *result.Report, _ Options) error {
	driver := sarifDriver{Name: "plumb", InformationURI: informationURI, Rules: []sarifRule{}}
	if v, ok := strings.CutPrefix(r.Tool, "plumb "); ok && v != "" {
		driver.Version = v
	}

	// Rules: the distinct controls, by CID. A control's title, category,
	// remediation and references are the same everywhere; its criticality
	// may be overridden per policy, and the rule carries the highest.
	index := map[int]int{}
	var cids []int
	first := map[int]*result.Result{}
	crit := map[int]policy.Criticality{}
	for _, h := range r.Hosts {
		for _, pr := range h.Policies {
			for i := range pr.Results {
				res := &pr.Results[i]
				if _, ok := first[res.CID]; !ok {
					first[res.CID] = res
					cids = append(cids, res.CID)
				}
				crit[res.CID] = max(crit[res.CID], res.Criticality)
			}
		}
	}
	slices.Sort(cids)
	for i, cid := range cids {
		index[cid] = i
		res := first[cid]
		mandates := sortedKeys(res.References)
		props := map[string]any{
			"criticality": crit[cid].String(),
			"tags":        append([]string{}, mandates...),
		}
		if res.Category != "" {
			props["category"] = res.Category
		}
		if len(res.References) > 0 {
			props["references"] = res.References
		}
		rule := sarifRule{
			ID:                   sarifRuleID(cid),
			Name:                 ruleName(cid, res.Title),
			ShortDescription:     sarifMessage{Text: res.Title},
			DefaultConfiguration: sarifConfig{Level: sarifLevel(crit[cid])},
			Properties:           props,
		}
		if rule.ShortDescription.Text == "" {
			rule.ShortDescription.Text = "Control " + strconv.Itoa(cid)
		}
		if res.Remediation != "" {
			rule.Help = &sarifMessage{Text: res.Remediation}
		}
		driver.Rules = append(driver.Rules, rule)
	}

	inv := sarifInvocation{ExecutionSuccessful: true}
	if !r.Started.IsZero() {
		inv.StartTimeUTC = r.Started.UTC().Format(time.RFC3339Nano)
	}
	if !r.Finished.IsZero() {
		inv.EndTimeUTC = r.Finished.UTC().Format(time.RFC3339Nano)
	}
	results := []sarifResult{}
	for _, h := range r.Hosts {
		if h.Error != "" {
			inv.ExecutionSuccessful = false
			inv.Notifications = append(inv.Notifications, sarifNotification{
				Level:     "error",
				Message:   sarifMessage{Text: fmt.Sprintf("Host %s could not be scanned (%s): %s", escapeLine(h.Target), escapeLine(h.Reason), escapeLine(h.Error))},
				Locations: []sarifLocation{{LogicalLocations: []sarifLogicalLocation{{Name: h.Target, FullyQualifiedName: h.Target}}}},
				Properties: map[string]any{
					"host":   h.Target,
					"reason": h.Reason,
					"error":  h.Error,
				},
			})
		}
		for j := range h.Policies {
			pr := &h.Policies[j]
			for k := range pr.Results {
				results = append(results, sarifResultOf(&h, pr, &pr.Results[k], index[pr.Results[k].CID]))
			}
		}
	}

	log := sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: driver},
			Invocations: []sarifInvocation{inv},
			Results:     results,
			Properties:  map[string]any{"schema": result.SchemaVersion},
		}},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return err
	}
	buf.Write(jsonSafe(b.Bytes()))
	return nil
}

func sarifResultOf(h *result.Host, pr *result.PolicyRun, res *result.Result, ruleIndex int) sarifResult {
	kind := sarifKind(res.Status)
	level := "none"
	if kind == "fail" {
		level = sarifLevel(res.Criticality)
	}
	// The message is for people: every value in it is escaped like the
	// table (one line each); properties keep the exact values.
	e := escapeLine
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s: %d %s on %s (policy %s).", res.Status.Label(), res.CID, e(res.Title), e(h.Target), e(pr.ID))
	if res.Status == result.Error {
		fmt.Fprintf(&msg, " Reason: %s.", e(res.Reason))
	}
	if res.Message != "" {
		fmt.Fprintf(&msg, " %s.", e(strings.TrimSuffix(res.Message, ".")))
	}
	fmt.Fprintf(&msg, "\nExpected: %s\nActual: %s", orEmpty(e(res.Expected)), orEmpty(e(strings.Join(res.Actual, "; "))))

	ref := policyRef(h, pr)
	props := map[string]any{
		"plumbStatus":   string(res.Status),
		"status":        res.Status.Label(),
		"criticality":   res.Criticality.String(),
		"expected":      res.Expected,
		"actual":        nonNil(res.Actual),
		"host":          h.Target,
		"policy":        pr.ID,
		"policyVersion": pr.Version,
	}
	if res.Reason != "" {
		props["reason"] = res.Reason
	}
	if res.Message != "" {
		props["message"] = res.Message
	}
	if !res.Time.IsZero() {
		props["time"] = res.Time.UTC().Format(time.RFC3339Nano)
	}
	return sarifResult{
		RuleID:              sarifRuleID(res.CID),
		RuleIndex:           ruleIndex,
		Kind:                kind,
		Level:               level,
		Message:             sarifMessage{Text: msg.String()},
		Locations:           []sarifLocation{{LogicalLocations: []sarifLogicalLocation{{Name: pr.ID, FullyQualifiedName: ref}}}},
		PartialFingerprints: map[string]string{"plumbResult/v1": ref + "/" + strconv.Itoa(res.CID)},
		Properties:          props,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
