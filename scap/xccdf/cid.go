package xccdf

import (
	"hash/fnv"
	"sort"

	"github.com/plumbhq/plumb/policy"
)

// CID ranges: XCCDF rules get CIDs in [CIDBase, CIDBase+CIDSpan), far from
// Plumb's built-in library (1000..99999) and within the range the policy
// format leaves to other content (100000 .. 2147483647).
const (
	CIDBase = 100_000
	CIDSpan = 900_000_000
)

// CID returns the Plumb control id of an XCCDF rule: CIDBase plus the
// 32-bit FNV-1a hash of the full rule id modulo CIDSpan. It depends on
// nothing but the id, so a rule keeps its CID across content versions,
// products and machines, and results of different scans line up.
//
// Two ids can hash to the same CID. There is no collision among the rules
// of the SSG data streams this package is tested with (the test checks
// every installed one); should a benchmark contain a colliding pair, the
// benchmark's CIDs (SelectedRule.CID, Benchmark.CID) resolve it: the
// lexically smallest rule id keeps CID(id) and each other one takes the
// next free value, wrapping within the span.
func CID(ruleID string) int {
	h := fnv.New32a()
	h.Write([]byte(ruleID))
	return CIDBase + int(h.Sum32()%CIDSpan)
}

// CID returns the CID of the benchmark rule id: CID(id), unless that
// collides with another rule of the benchmark (see the package CID).
// ok is false when the benchmark has no such rule.
func (b *Benchmark) CID(ruleID string) (cid int, ok bool) {
	cid, ok = b.cids[ruleID]
	return cid, ok
}

// assignCIDs gives every rule of the benchmark its CID, resolving
// collisions deterministically.
func (b *Benchmark) assignCIDs() {
	ids := make([]string, 0, len(b.rules))
	for id := range b.rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	b.cids = make(map[string]int, len(ids))
	used := make(map[int]bool, len(ids))
	for _, id := range ids {
		c := CID(id)
		for used[c] {
			c++
			if c >= CIDBase+CIDSpan {
				c = CIDBase
			}
		}
		used[c] = true
		b.cids[id] = c
	}
}

// Criticality maps an XCCDF severity to Plumb's scale: unknown and info
// are minimal (1), low is medium (2), medium is serious (3) and high is
// critical (4). XCCDF has nothing above high, so SSG content never
// produces urgent (5); a policy can still raise a rule with an override.
func Criticality(severity string) policy.Criticality {
	switch severity {
	case "low":
		return policy.Medium
	case "medium":
		return policy.Serious
	case "high":
		return policy.Critical
	}
	return policy.Minimal
}
