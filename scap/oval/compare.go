package oval

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/parse"
)

// Compare applies an OVAL entity operation to an actual value (from an
// item) and a wanted value (from an object or a state), both interpreted
// as datatype. Empty op means "equals", empty datatype "string". A value
// that is not valid for the datatype, or an operation the datatype does
// not define, is an error, as OVAL 5.11 section 5.3.6 says.
func Compare(p *Patterns, op, datatype, actual, want string) (bool, error) {
	if op == "" {
		op = "equals"
	}
	if datatype == "" {
		datatype = "string"
	}
	switch datatype {
	case "string":
		switch op {
		case "equals":
			return actual == want, nil
		case "not equal":
			return actual != want, nil
		case "case insensitive equals":
			return strings.EqualFold(actual, want), nil
		case "case insensitive not equal":
			return !strings.EqualFold(actual, want), nil
		case "pattern match":
			if p == nil {
				p = &Patterns{}
			}
			re, err := p.Compile(want)
			if err != nil {
				return false, err
			}
			return re.MatchString(actual)
		}
	case "int":
		a, err := parseInt(actual)
		if err != nil {
			return false, err
		}
		w, err := parseInt(want)
		if err != nil {
			return false, err
		}
		switch op {
		case "bitwise and":
			and := new(big.Int).And(a, w)
			return and.Cmp(w) == 0, nil
		case "bitwise or":
			or := new(big.Int).Or(a, w)
			return or.Cmp(w) == 0, nil
		}
		if ok, known := ordered(op, a.Cmp(w)); known {
			return ok, nil
		}
	case "float":
		a, err := strconv.ParseFloat(strings.TrimSpace(actual), 64)
		if err != nil {
			return false, fmt.Errorf("float %q: %w", actual, err)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(want), 64)
		if err != nil {
			return false, fmt.Errorf("float %q: %w", want, err)
		}
		c := 0
		if a < w {
			c = -1
		} else if a > w {
			c = 1
		}
		if ok, known := ordered(op, c); known {
			return ok, nil
		}
	case "boolean":
		a, err := parseBool(actual)
		if err != nil {
			return false, err
		}
		w, err := parseBool(want)
		if err != nil {
			return false, err
		}
		switch op {
		case "equals":
			return a == w, nil
		case "not equal":
			return a != w, nil
		}
	case "version":
		if ok, known := ordered(op, compareVersion(actual, want)); known {
			return ok, nil
		}
	case "evr_string":
		if ok, known := ordered(op, parse.CompareRPMVersion(actual, want)); known {
			return ok, nil
		}
	case "debian_evr_string":
		if ok, known := ordered(op, parse.CompareDebVersion(actual, want)); known {
			return ok, nil
		}
	default:
		return false, fmt.Errorf("unsupported datatype %q", datatype)
	}
	return false, fmt.Errorf("operation %q is not defined for datatype %s", op, datatype)
}

// ordered answers the ordering operations from a comparison result.
func ordered(op string, c int) (ok, known bool) {
	switch op {
	case "equals":
		return c == 0, true
	case "not equal":
		return c != 0, true
	case "greater than":
		return c > 0, true
	case "greater than or equal":
		return c >= 0, true
	case "less than":
		return c < 0, true
	case "less than or equal":
		return c <= 0, true
	}
	return false, false
}

// parseInt reads an OVAL int: decimal, optionally signed, of any size
// (file sizes and inode numbers overflow nothing here).
func parseInt(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
	if !ok {
		return nil, fmt.Errorf("not an integer: %q", s)
	}
	return n, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

// compareVersion compares dotted versions ("1.2.10" > "1.2.9") component
// by component, numerically where both components are numbers; a missing
// component counts as 0.
func compareVersion(a, b string) int {
	sep := func(r rune) bool { return r == '.' || r == '-' || r == '_' || r == ':' }
	as, bs := strings.FieldsFunc(a, sep), strings.FieldsFunc(b, sep)
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := "0", "0"
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		xi, errx := strconv.ParseUint(x, 10, 64)
		yi, erry := strconv.ParseUint(y, 10, 64)
		switch {
		case errx == nil && erry == nil:
			if xi != yi {
				if xi < yi {
					return -1
				}
				return 1
			}
		default:
			if c := strings.Compare(x, y); c != 0 {
				return c
			}
		}
	}
	return 0
}
