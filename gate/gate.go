// Package gate decides whether a scan should stop a CI build. Criteria
// combine result states and criticalities, like the Qualys Policy
// Compliance CI connector: "fail the build on Fail or Error results of
// serious or higher criticality".
package gate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// Exit codes of plumb scan and plumb gate, documented in --help and README.
const (
	ExitOK          = 0 // the criteria were not met (or none were given)
	ExitInternal    = 1 // usage or internal error
	ExitCriteriaMet = 2 // at least one result met the --fail-on criteria
	ExitUnreachable = 3 // a target was unreachable or authentication failed
)

// Criteria select the results that fail a build. A result meets them when
// its status is in States AND (Criticalities is empty OR its criticality is
// in Criticalities) AND its CID is not excluded.
type Criteria struct {
	States        []result.Status
	Criticalities []policy.Criticality
	Exclude       []int
}

// Empty reports whether no state was asked for: such criteria never match.
func (c Criteria) Empty() bool { return len(c.States) == 0 }

// Parse reads --fail-on tokens (comma-separated, any order): states fail
// and error, criticalities minimal..urgent (or 1..5), and "NAME+" for that
// criticality and above. Criticalities alone imply state fail.
func Parse(tokens []string) (Criteria, error) {
	var c Criteria
	for _, raw := range tokens {
		for _, tok := range strings.Split(raw, ",") {
			tok = strings.ToLower(strings.TrimSpace(tok))
			switch tok {
			case "":
				continue
			case "fail":
				c.States = appendUnique(c.States, result.Fail)
				continue
			case "error":
				c.States = appendUnique(c.States, result.Error)
				continue
			}
			name, above := strings.CutSuffix(tok, "+")
			crit, err := policy.ParseCriticality(name)
			if err != nil {
				return Criteria{}, fmt.Errorf("--fail-on: %q is neither a state (fail, error) nor a criticality (minimal, medium, serious, critical, urgent, optionally with + for \"and above\")", tok)
			}
			hi := crit
			if above {
				hi = policy.Urgent
			}
			for x := crit; x <= hi; x++ {
				c.Criticalities = appendUnique(c.Criticalities, x)
			}
		}
	}
	if len(c.States) == 0 && len(c.Criticalities) > 0 {
		c.States = []result.Status{result.Fail}
	}
	return c, nil
}

// ParseCIDs reads --exclude-cid values: comma-separated integers.
func ParseCIDs(vals []string) ([]int, error) {
	var out []int
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("--exclude-cid: %q is not a control id (a positive integer)", s)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

func appendUnique[T comparable](s []T, v T) []T {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// Matches reports whether one result meets the criteria.
func (c Criteria) Matches(r result.Result) bool {
	if slices.Contains(c.Exclude, r.CID) || !slices.Contains(c.States, r.Status) {
		return false
	}
	return len(c.Criticalities) == 0 || slices.Contains(c.Criticalities, r.Criticality)
}

// Hit is one result that met the criteria.
type Hit struct {
	Host   string
	Policy string
	Result result.Result
}

// Evaluate returns every result of rep that meets the criteria.
func (c Criteria) Evaluate(rep *result.Report) []Hit {
	var hits []Hit
	for _, h := range rep.Hosts {
		for _, p := range h.Policies {
			for _, r := range p.Results {
				if c.Matches(r) {
					hits = append(hits, Hit{Host: h.Target, Policy: p.ID, Result: r})
				}
			}
		}
	}
	return hits
}

// String describes the criteria for logs and summaries.
func (c Criteria) String() string {
	if c.Empty() {
		return "none"
	}
	var st []string
	for _, s := range c.States {
		st = append(st, string(s))
	}
	out := strings.Join(st, " or ")
	if len(c.Criticalities) > 0 {
		var cr []string
		for _, x := range c.Criticalities {
			cr = append(cr, x.String())
		}
		out += " with criticality " + strings.Join(cr, ", ")
	}
	if len(c.Exclude) > 0 {
		out += fmt.Sprintf(" (excluding %d controls)", len(c.Exclude))
	}
	return out
}
