package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/policy"
)

// describe renders the expectation of a comparison for reports.
func describe(cmp policy.Compare) string {
	switch cmp.Op {
	case "", policy.OpEquals:
		return cmp.Value
	case policy.OpIEquals:
		return cmp.Value + " (any case)"
	case policy.OpNotEquals:
		return "not " + cmp.Value
	case policy.OpMatches:
		return "matches /" + cmp.Value + "/"
	case policy.OpNotMatches:
		return "does not match /" + cmp.Value + "/"
	case policy.OpIn:
		return "one of " + strings.Join(cmp.Values, ", ")
	case policy.OpNotIn:
		return "none of " + strings.Join(cmp.Values, ", ")
	case policy.OpLT:
		return "< " + cmp.Value
	case policy.OpLE:
		return "<= " + cmp.Value
	case policy.OpGT:
		return "> " + cmp.Value
	case policy.OpGE:
		return ">= " + cmp.Value
	case policy.OpContains:
		return "includes " + cmp.Value
	case policy.OpNotContains:
		return "excludes " + cmp.Value
	}
	return cmp.Op + " " + cmp.Value
}

// negative ops pass when the value is simply not there.
func negative(op string) bool {
	switch op {
	case policy.OpNotEquals, policy.OpNotMatches, policy.OpNotIn, policy.OpNotContains:
		return true
	}
	return false
}

// compare applies cmp to actual. set=false means the setting is absent: the
// documented default is used when there is one; otherwise a negative
// operator passes and any other fails. It returns whether it passed and the
// evidence text for the value.
func compare(cmp policy.Compare, actual string, set bool) (bool, string, error) {
	shown := actual
	if !set {
		if cmp.Default == nil {
			return negative(cmp.Op), "not set", nil
		}
		actual = *cmp.Default
		shown = actual + " (not set; default)"
	}
	ok, err := compareValue(cmp, actual)
	return ok, shown, err
}

func compareValue(cmp policy.Compare, actual string) (bool, error) {
	a := strings.TrimSpace(actual)
	switch cmp.Op {
	case "", policy.OpEquals:
		return a == cmp.Value, nil
	case policy.OpIEquals:
		return strings.EqualFold(a, cmp.Value), nil
	case policy.OpNotEquals:
		return !strings.EqualFold(a, cmp.Value), nil
	case policy.OpMatches, policy.OpNotMatches:
		re, err := regexp.Compile(cmp.Value)
		if err != nil {
			return false, fmt.Errorf("invalid pattern %q: %w", cmp.Value, err)
		}
		return re.MatchString(a) == (cmp.Op == policy.OpMatches), nil
	case policy.OpIn, policy.OpNotIn:
		in := slices.ContainsFunc(cmp.Values, func(v string) bool { return strings.EqualFold(v, a) })
		return in == (cmp.Op == policy.OpIn), nil
	case policy.OpLT, policy.OpLE, policy.OpGT, policy.OpGE:
		want, err := strconv.ParseInt(strings.TrimSpace(cmp.Value), 10, 64)
		if err != nil {
			return false, fmt.Errorf("expected value %q is not an integer", cmp.Value)
		}
		got, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return false, nil // a non-numeric setting is a wrong setting
		}
		switch cmp.Op {
		case policy.OpLT:
			return got < want, nil
		case policy.OpLE:
			return got <= want, nil
		case policy.OpGT:
			return got > want, nil
		}
		return got >= want, nil
	case policy.OpContains, policy.OpNotContains:
		has := slices.ContainsFunc(splitList(a), func(v string) bool { return strings.EqualFold(v, cmp.Value) })
		return has == (cmp.Op == policy.OpContains), nil
	}
	return false, fmt.Errorf("unknown operator %q", cmp.Op)
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
