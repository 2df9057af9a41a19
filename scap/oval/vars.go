package oval

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// varValue is a computed variable: its values and flag, as in OVAL system
// characteristics. Only complete and incomplete variables have values to
// use.
type varValue struct {
	values []string
	flag   Flag
	msg    string
	// blocked: the value needs an object the Prober could not answer
	// (see collection.blocked).
	blocked error
}

// varValues computes a variable once. A local_variable whose expression
// yields no values is error, as in oscap (a variable whose object does
// not exist stays does not exist).
func (e *Evaluator) varValues(ctx context.Context, id string) (*varValue, error) {
	return e.varMemo.do(ctx, id, func() (*varValue, error) {
		v := e.defs.Variables[id]
		switch {
		case v == nil:
			return &varValue{flag: FlagError, msg: fmt.Sprintf("no such variable %q", id)}, nil
		case e.graph.cyclic[kVar+id]:
			return &varValue{flag: FlagError, msg: fmt.Sprintf("variable %s is part of a reference cycle", id)}, nil
		}
		switch v.Kind {
		case "constant_variable":
			return &varValue{values: v.Values, flag: FlagComplete}, nil
		case "external_variable":
			vals := e.external[id]
			if len(vals) == 0 {
				return &varValue{flag: FlagError, msg: fmt.Sprintf("external variable %s has no value", id)}, nil
			}
			return &varValue{values: vals, flag: FlagComplete}, nil
		}
		r, err := e.component(ctx, v.Component)
		if err != nil {
			return nil, err
		}
		switch {
		case r.flag == "":
			r.flag, r.msg = FlagError, fmt.Sprintf("variable %s: nothing to evaluate", id)
		case hasValues(r.flag) && len(r.values) == 0:
			r.flag = FlagError
			if r.msg == "" {
				r.msg = fmt.Sprintf("variable %s has no values", id)
			}
		}
		return &varValue{values: r.values, flag: r.flag, msg: r.msg, blocked: r.blocked}, nil
	})
}

// compResult is the value of a component or function.
type compResult struct {
	values  []string
	flag    Flag
	msg     string
	blocked error
}

func compErr(format string, args ...any) compResult {
	return compResult{flag: FlagError, msg: fmt.Sprintf(format, args...)}
}

// flagRank orders flags for aggregation: the worst flag of the components
// is the flag of a function (oscap's _flag_agg_map).
func flagRank(f Flag) int {
	switch f {
	case FlagComplete:
		return 1
	case FlagIncomplete:
		return 2
	case FlagDoesNotExist:
		return 3
	case FlagNotCollected:
		return 4
	case FlagNotApplicable:
		return 5
	case FlagError:
		return 6
	}
	return 0
}

func aggFlag(a, b Flag) Flag {
	if flagRank(b) > flagRank(a) {
		return b
	}
	return a
}

// component evaluates a component or function. The semantics are oscap's
// where OVAL leaves them open: a function's flag is the worst of its
// components'; concat skips components without values; count always
// yields a count; regex_capture yields the first group's text, or an empty
// string when the pattern does not match; substring of a value shorter
// than the start is an error.
func (e *Evaluator) component(ctx context.Context, c *Component) (compResult, error) {
	switch c.Kind {
	case "literal_component":
		return compResult{values: []string{c.Value}, flag: FlagComplete}, nil
	case "variable_component":
		v, err := e.varValues(ctx, c.VarRef)
		if err != nil {
			return compResult{}, err
		}
		r := compResult{flag: v.flag, msg: v.msg, blocked: v.blocked}
		if hasValues(v.flag) {
			r.values = v.values
		}
		return r, nil
	case "object_component":
		return e.objectComponent(ctx, c)
	case "concat", "count", "unique", "arithmetic", "time_difference":
		subs := make([]compResult, len(c.Args))
		var flag Flag
		var msgs []string
		var blocked error
		for i, a := range c.Args {
			r, err := e.component(ctx, a)
			if err != nil {
				return compResult{}, err
			}
			subs[i] = r
			flag = aggFlag(flag, r.flag)
			blocked = blockedBy(blocked, r.blocked)
			if r.msg != "" {
				msgs = append(msgs, r.msg)
			}
		}
		if len(subs) == 0 {
			return compErr("%s without components", c.Kind), nil
		}
		r := e.multiArg(c, subs, flag)
		if r.msg == "" {
			r.msg = strings.Join(msgs, "; ")
		}
		r.blocked = blocked
		return r, nil
	case "split", "substring", "escape_regex", "regex_capture", "glob_to_regex", "begin", "end":
		if len(c.Args) == 0 {
			return compErr("%s without a component", c.Kind), nil
		}
		sub, err := e.component(ctx, c.Args[0]) // only the first counts, as in oscap
		if err != nil {
			return compResult{}, err
		}
		r := e.singleArg(c, sub)
		r.blocked = sub.blocked
		return r, nil
	}
	return compErr("unsupported function %s", c.Kind), nil
}

// objectComponent takes the item_field entities of an object's items. An
// item without the field is an error, as is a record_field (no Item holds
// records).
func (e *Evaluator) objectComponent(ctx context.Context, c *Component) (compResult, error) {
	col, err := e.collect(ctx, c.ObjectRef)
	if err != nil {
		return compResult{}, err
	}
	if c.RecordField != "" {
		return compErr("object_component %s: record_field is not supported", c.ObjectRef), nil
	}
	r := compResult{flag: col.flag, msg: col.msg, blocked: col.blocked}
	for _, it := range col.items {
		found := false
		for _, en := range it.Entities {
			if en.Name == c.ItemField {
				found = true
				r.values = append(r.values, en.Value)
			}
		}
		if !found {
			return compErr("entity %s not found in an item of object %s", c.ItemField, c.ObjectRef), nil
		}
	}
	return r, nil
}

func (e *Evaluator) multiArg(c *Component, subs []compResult, flag Flag) compResult {
	r := compResult{flag: flag}
	switch c.Kind {
	case "count":
		n := 0
		if hasValues(flag) {
			for _, s := range subs {
				n += len(s.values)
			}
		}
		r.values = []string{strconv.Itoa(n)}
		return r
	}
	if !hasValues(flag) {
		return r
	}
	switch c.Kind {
	case "concat":
		var lists [][]string
		for _, s := range subs {
			if len(s.values) > 0 {
				lists = append(lists, s.values)
			}
		}
		if len(lists) > 0 {
			product(lists, func(parts []string) { r.values = append(r.values, strings.Join(parts, "")) })
		}
	case "unique":
		seen := map[string]bool{}
		for _, s := range subs {
			for _, v := range s.values {
				if !seen[v] {
					seen[v] = true
					r.values = append(r.values, v)
				}
			}
		}
	case "arithmetic":
		if c.ArithmeticOp != "add" && c.ArithmeticOp != "multiply" {
			return compErr("unsupported arithmetic_operation %q", c.ArithmeticOp)
		}
		lists := make([][]string, len(subs))
		for i, s := range subs {
			if len(s.values) == 0 {
				return r // an operand without values: no result
			}
			lists[i] = s.values
		}
		product(lists, func(parts []string) { r.values = append(r.values, arithmetic(c.ArithmeticOp, parts)) })
	case "time_difference":
		return e.timeDifference(c, subs, flag)
	}
	return r
}

// product calls f with every combination of one value from each list,
// the first list varying slowest.
func product(lists [][]string, f func([]string)) {
	parts := make([]string, len(lists))
	var rec func(int)
	rec = func(i int) {
		if i == len(lists) {
			f(parts)
			return
		}
		for _, v := range lists[i] {
			parts[i] = v
			rec(i + 1)
		}
	}
	rec(0)
}

// numberPrefix is the longest prefix strtod would read (decimal only).
var numberPrefix = regexp.MustCompile(`^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`)

// arithmetic adds or multiplies values, exactly when all are integers and
// in float64 otherwise. Values are read as leniently as oscap reads them
// (strtod: the numeric prefix, 0 if none).
func arithmetic(op string, vals []string) string {
	ints := make([]*big.Int, 0, len(vals))
	floats := make([]float64, 0, len(vals))
	allInt := true
	for _, v := range vals {
		p := strings.TrimSpace(numberPrefix.FindString(v))
		if p == "" {
			p = "0"
		}
		if n, ok := new(big.Int).SetString(strings.TrimPrefix(p, "+"), 10); ok && allInt {
			ints = append(ints, n)
		} else {
			allInt = false
		}
		f, _ := strconv.ParseFloat(p, 64)
		floats = append(floats, f)
	}
	if allInt {
		acc := new(big.Int)
		if op == "multiply" {
			acc.SetInt64(1)
		}
		for _, n := range ints {
			if op == "add" {
				acc.Add(acc, n)
			} else {
				acc.Mul(acc, n)
			}
		}
		return acc.String()
	}
	acc := 0.0
	if op == "multiply" {
		acc = 1
	}
	for _, f := range floats {
		if op == "add" {
			acc += f
		} else {
			acc *= f
		}
	}
	return strconv.FormatFloat(acc, 'f', -1, 64)
}

func (e *Evaluator) singleArg(c *Component, sub compResult) compResult {
	r := compResult{flag: sub.flag, msg: sub.msg}
	switch c.Kind {
	case "split":
		for _, v := range sub.values {
			if c.Delimiter == "" {
				for _, ch := range v {
					r.values = append(r.values, string(ch))
				}
				continue
			}
			r.values = append(r.values, strings.Split(v, c.Delimiter)...)
		}
	case "substring":
		start := c.Start - 1
		if start < 0 {
			start = 0
		}
		for _, v := range sub.values {
			if start >= len(v) {
				r.flag, r.msg = FlagError, fmt.Sprintf("substring start %d is past the end of %q", c.Start, v)
				continue
			}
			end := len(v)
			if c.Length >= 0 && start+c.Length < end {
				end = start + c.Length
			}
			r.values = append(r.values, v[start:end])
		}
	case "escape_regex":
		for _, v := range sub.values {
			r.values = append(r.values, escapeRegex(v))
		}
	case "regex_capture":
		re, err := e.patterns().Compile(c.Pattern)
		if err != nil {
			return compErr("regex_capture: %v", err)
		}
		for _, v := range sub.values {
			ms, err := re.FindAll(v, 1)
			if err != nil {
				return compErr("regex_capture: %v", err)
			}
			got := ""
			if len(ms) > 0 && len(ms[0].Groups) > 0 {
				got = ms[0].Groups[0]
			}
			r.values = append(r.values, got)
			r.flag = FlagComplete
		}
	case "glob_to_regex":
		for _, v := range sub.values {
			re, err := globToRegex(v, c.GlobNoEscape)
			if err != nil {
				r.flag, r.msg = FlagError, err.Error()
				break
			}
			r.values = append(r.values, re)
		}
	case "begin":
		for _, v := range sub.values {
			if !strings.HasPrefix(v, c.Character) {
				v = c.Character + v
			}
			r.values = append(r.values, v)
		}
	case "end":
		for _, v := range sub.values {
			if !strings.HasSuffix(v, c.Character) {
				v += c.Character
			}
			r.values = append(r.values, v)
		}
	}
	return r
}

// escapeRegex escapes the characters a regular expression gives meaning
// to (the set oscap escapes).
func escapeRegex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`^$\.[](){}*+?|`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// globToRegex translates a shell glob into an anchored regular
// expression with the rules of glob(7) for path names, as oscap does: '*'
// and '?' never match '/', nor a leading '.' of a path component; '[...]'
// is a class ('[!...]' negated); a backslash escapes '?', '*', '[' and ']'
// and is a literal backslash before anything else (always, with
// noescape).
func globToRegex(glob string, noescape bool) (string, error) {
	var b strings.Builder
	b.WriteByte('^')
	componentStart := true
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch {
		case c == '/':
			b.WriteByte('/')
			componentStart = true
			continue
		case c == '?':
			if componentStart {
				b.WriteString("[^./]")
			} else {
				b.WriteString("[^/]")
			}
		case c == '*':
			if componentStart {
				b.WriteString("(?=[^.])[^/]*")
			} else {
				b.WriteString("[^/]*")
			}
		case strings.IndexByte(".|^(){}+$", c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '[':
			j := i + 1
			if j >= len(glob) {
				return "", fmt.Errorf("glob %q: unterminated [", glob)
			}
			b.WriteByte('[')
			if glob[j] == '!' {
				b.WriteByte('^')
			} else {
				b.WriteByte(glob[j])
			}
			for j++; j < len(glob) && glob[j] != ']'; j++ {
				if glob[j] == '\\' && noescape {
					b.WriteByte('\\')
				}
				b.WriteByte(glob[j])
			}
			if j >= len(glob) {
				return "", fmt.Errorf("glob %q: unterminated [", glob)
			}
			b.WriteByte(']')
			i = j
		case c == '\\':
			if noescape {
				b.WriteString(`\\`)
				break
			}
			if i+1 >= len(glob) {
				b.WriteString(`\\`)
				break
			}
			i++
			if n := glob[i]; n == '?' || n == '*' || n == '[' || n == ']' {
				b.WriteByte('\\')
				b.WriteByte(n)
			} else {
				b.WriteString(`\\`)
				b.WriteByte(n)
			}
		default:
			b.WriteByte(c)
		}
		componentStart = false
	}
	b.WriteByte('$')
	return b.String(), nil
}

// timeDifference computes time_difference: with one component, the
// seconds from each of its values to now; with two, from each value of
// the first to each value of the second (OVAL 5.11: the first is
// subtracted from the second).
func (e *Evaluator) timeDifference(c *Component, subs []compResult, flag Flag) compResult {
	if len(subs) > 2 {
		return compErr("time_difference takes one or two components")
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	r := compResult{flag: flag}
	var firsts []time.Time
	var seconds []string
	var format2 string
	if len(subs) == 1 {
		firsts = []time.Time{now()}
		seconds, format2 = subs[0].values, c.Format1
	} else {
		for _, v := range subs[0].values {
			t, err := parseDateTime(c.Format1, v)
			if err != nil {
				return compErr("time_difference: %v", err)
			}
			firsts = append(firsts, t)
		}
		seconds, format2 = subs[1].values, c.Format2
	}
	for _, t1 := range firsts {
		for _, v := range seconds {
			t2, err := parseDateTime(format2, v)
			if err != nil {
				return compErr("time_difference: %v", err)
			}
			d := t2.Unix() - t1.Unix()
			if len(subs) == 1 {
				d = -d // now minus the value
			}
			r.values = append(r.values, strconv.FormatInt(d, 10))
		}
	}
	return r
}

// dateLayouts returns the layouts of an OVAL DateTimeFormat.
func dateLayouts(format string) []string {
	switch format {
	case "year_month_day":
		return []string{"20060102", "2006/01/02", "2006-01-02", "20060102T150405",
			"2006/01/02 15:04:05", "2006-01-02 15:04:05"}
	case "month_day_year":
		return []string{"01/02/2006", "01-02-2006", "January, 02 2006", "Jan, 02 2006",
			"01/02/2006 15:04:05", "01-02-2006 15:04:05", "January, 02 2006 15:04:05", "Jan, 02 2006 15:04:05"}
	case "day_month_year":
		return []string{"02/01/2006", "02-01-2006", "02/01/2006 15:04:05", "02-01-2006 15:04:05"}
	}
	return nil
}

var errDateTime = errors.New("unrecognized date-time")

// parseDateTime reads a date-time in one of OVAL's DateTimeFormat
// formats, in UTC.
func parseDateTime(format, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch format {
	case "seconds_since_epoch":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w %q", errDateTime, s)
		}
		return time.Unix(n, 0).UTC(), nil
	case "win_filetime":
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			n, err = strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 64)
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("%w %q", errDateTime, s)
		}
		// 100 ns intervals since 1601-01-01
		const epochDiff = 11644473600
		return time.Unix(int64(n/10000000)-epochDiff, 0).UTC(), nil
	case "cim_datetime":
		if len(s) >= 14 {
			if t, err := time.Parse("20060102150405", s[:14]); err == nil {
				return t, nil
			}
		}
		for _, l := range []string{"2006-01-02 15:04:05", "01-02-2006 15:04:05"} {
			if len(s) >= len(l) {
				if t, err := time.Parse(l, s[:len(l)]); err == nil {
					return t, nil
				}
			}
		}
		return time.Time{}, fmt.Errorf("%w %q", errDateTime, s)
	}
	layouts := dateLayouts(format)
	if layouts == nil {
		return time.Time{}, fmt.Errorf("unsupported date-time format %q", format)
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w %q (%s)", errDateTime, s, format)
}
