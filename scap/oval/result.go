package oval

// Result is an OVAL result value of a definition, criterion or test.
type Result string

const (
	True          Result = "true"
	False         Result = "false"
	Error         Result = "error"
	Unknown       Result = "unknown"
	NotEvaluated  Result = "not evaluated"
	NotApplicable Result = "not applicable"
)

// Negate swaps true and false and leaves the other results alone.
func (r Result) Negate() Result {
	switch r {
	case True:
		return False
	case False:
		return True
	}
	return r
}

// Combine applies an OVAL operator (AND, OR, ONE, XOR) or check
// ("all", "at least one", "only one", "none satisfy", and "none exist"
// read as "none satisfy") to results, following the truth tables of OVAL
// 5.11 section 5.3.3: not applicable results are ignored unless all are.
// An empty list or an unknown operator is Error.
func Combine(op string, rs []Result) Result {
	var t, f, e, u, ne, na int
	for _, r := range rs {
		switch r {
		case True:
			t++
		case False:
			f++
		case Error:
			e++
		case Unknown:
			u++
		case NotEvaluated:
			ne++
		case NotApplicable:
			na++
		}
	}
	if len(rs) == 0 {
		return Error
	}
	if na == len(rs) {
		return NotApplicable
	}
	rest := func() Result {
		switch {
		case e > 0:
			return Error
		case u > 0:
			return Unknown
		case ne > 0:
			return NotEvaluated
		}
		return Error // not reached: some counter is set
	}
	undecided := e + u + ne
	switch op {
	case "AND", "all", "":
		if f > 0 {
			return False
		}
		if undecided == 0 {
			return True
		}
		return rest()
	case "OR", "at least one":
		if t > 0 {
			return True
		}
		if undecided == 0 {
			return False
		}
		return rest()
	case "ONE", "only one":
		if t >= 2 {
			return False
		}
		if undecided == 0 {
			if t == 1 {
				return True
			}
			return False
		}
		return rest()
	case "XOR":
		if undecided == 0 {
			if t%2 == 1 {
				return True
			}
			return False
		}
		return rest()
	case "none satisfy", "none exist":
		if t > 0 {
			return False
		}
		if undecided == 0 {
			return True
		}
		return rest()
	}
	return Error
}
