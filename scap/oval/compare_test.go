package oval

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// results reads a compact list of results: T F E U N (not evaluated) A
// (not applicable).
func results(s string) []Result {
	m := map[rune]Result{'T': True, 'F': False, 'E': Error, 'U': Unknown, 'N': NotEvaluated, 'A': NotApplicable}
	var rs []Result
	for _, c := range s {
		rs = append(rs, m[c])
	}
	return rs
}

// TestCombine checks the operator and check truth tables of OVAL 5.11
// section 5.3.3 (which oscap implements the same way).
func TestCombine(t *testing.T) {
	cases := []struct {
		op, in string
		want   Result
	}{
		{"AND", "TT", True}, {"AND", "TF", False}, {"AND", "TE", Error}, {"AND", "FE", False},
		{"AND", "TU", Unknown}, {"AND", "EU", Error}, {"AND", "TN", NotEvaluated}, {"AND", "UN", Unknown},
		{"AND", "A", NotApplicable}, {"AND", "AA", NotApplicable}, {"AND", "TA", True}, {"AND", "FA", False},
		{"AND", "", Error}, {"", "TT", True},
		{"OR", "FF", False}, {"OR", "FT", True}, {"OR", "FE", Error}, {"OR", "TE", True}, {"OR", "FU", Unknown},
		{"OR", "EU", Error}, {"OR", "FN", NotEvaluated}, {"OR", "AF", False}, {"OR", "AA", NotApplicable},
		{"ONE", "TF", True}, {"ONE", "TT", False}, {"ONE", "FF", False}, {"ONE", "TE", Error}, {"ONE", "TTE", False},
		{"ONE", "FE", Error}, {"ONE", "TU", Unknown}, {"ONE", "FU", Unknown}, {"ONE", "TN", NotEvaluated},
		{"ONE", "TA", True}, {"ONE", "A", NotApplicable},
		{"XOR", "TT", False}, {"XOR", "TTT", True}, {"XOR", "TF", True}, {"XOR", "FF", False}, {"XOR", "TE", Error},
		{"XOR", "TU", Unknown}, {"XOR", "TN", NotEvaluated}, {"XOR", "TA", True}, {"XOR", "EU", Error},
		{"all", "TT", True}, {"all", "TF", False}, {"all", "TEU", Error},
		{"at least one", "FT", True}, {"at least one", "FFU", Unknown},
		{"only one", "FTF", True}, {"only one", "TFT", False},
		{"none satisfy", "FF", True}, {"none satisfy", "TF", False}, {"none satisfy", "FE", Error},
		{"none satisfy", "TE", False}, {"none satisfy", "FU", Unknown}, {"none satisfy", "EN", Error},
		{"none satisfy", "FN", NotEvaluated}, {"none satisfy", "AF", True},
		{"none exist", "FF", True}, {"none exist", "TF", False},
		{"NAND", "TT", Error}, {"some", "T", Error},
	}
	for _, c := range cases {
		if got := Combine(c.op, results(c.in)); got != c.want {
			t.Errorf("Combine(%q, %s) = %s, want %s", c.op, c.in, got, c.want)
		}
	}
	if combine("AND", nil) != Unknown {
		t.Error("combine of nothing is not unknown")
	}
}

func TestNegate(t *testing.T) {
	for in, want := range map[Result]Result{True: False, False: True, Error: Error, Unknown: Unknown,
		NotEvaluated: NotEvaluated, NotApplicable: NotApplicable} {
		if got := in.Negate(); got != want {
			t.Errorf("%s.Negate() = %s", in, got)
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		op, dt, actual, want string
		ok                   bool
		err                  bool
	}{
		{"", "", "a", "a", true, false},
		{"equals", "string", "a", "A", false, false},
		{"not equal", "string", "a", "b", true, false},
		{"case insensitive equals", "string", "Yes", "yES", true, false},
		{"case insensitive not equal", "string", "Yes", "yES", false, false},
		{"pattern match", "string", "PermitRootLogin no", `^PermitRootLogin\s+no$`, true, false},
		{"pattern match", "string", "xab", `(?<=a)b`, true, false}, // backtracking engine
		{"pattern match", "string", "xcb", `(?<=a)b`, false, false},
		{"pattern match", "string", "a", `(unclosed`, false, true},
		{"greater than", "string", "b", "a", false, true},
		{"equals", "int", "010", "10", true, false},
		{"greater than", "int", "11", "10", true, false},
		{"greater than or equal", "int", " 10", "10", true, false},
		{"less than", "int", "-5", "3", true, false},
		{"less than or equal", "int", "18446744073709551617", "18446744073709551616", false, false},
		{"not equal", "int", "1", "2", true, false},
		{"bitwise and", "int", "7", "5", true, false},
		{"bitwise and", "int", "2", "5", false, false},
		{"bitwise or", "int", "5", "7", true, false},
		{"bitwise or", "int", "8", "7", false, false},
		{"equals", "int", "x", "1", false, true},
		{"equals", "int", "1", "", false, true},
		{"pattern match", "int", "1", "1", false, true},
		{"less than", "float", "1.5", "2", true, false},
		{"equals", "float", "2.0", "2", true, false},
		{"equals", "float", "two", "2", false, true},
		{"equals", "boolean", "true", "1", true, false},
		{"not equal", "boolean", "false", "true", true, false},
		{"equals", "boolean", "yes", "true", false, true},
		{"greater than", "boolean", "true", "false", false, true},
		{"greater than", "version", "1.2.10", "1.2.9", true, false},
		{"equals", "version", "1.0", "1", true, false},
		{"less than", "evr_string", "0:1.2-3", "0:1.2-10", true, false},
		{"greater than or equal", "evr_string", "1:1.0-1", "0:2.0-1", true, false},
		{"greater than", "debian_evr_string", "1:1.0-1", "1.0-2", true, false},
		{"less than", "debian_evr_string", "1.0~rc1", "1.0", true, false},
		{"equals", "ipv4_address", "1.2.3.4", "1.2.3.4", false, true},
	}
	p := &Patterns{}
	for _, c := range cases {
		ok, err := Compare(p, c.op, c.dt, c.actual, c.want)
		if ok != c.ok || (err != nil) != c.err {
			t.Errorf("Compare(%q, %q, %q, %q) = %v, %v; want %v, error %v", c.op, c.dt, c.actual, c.want, ok, err, c.ok, c.err)
		}
	}
	// A nil *Patterns works (Compare makes a throwaway one).
	if ok, err := Compare(nil, "pattern match", "string", "abc", "b"); !ok || err != nil {
		t.Errorf("nil Patterns: %v %v", ok, err)
	}
}

func TestObjectEntityMatch(t *testing.T) {
	p := &Patterns{}
	cases := []struct {
		e     ObjectEntity
		value string
		ok    bool
		err   bool
	}{
		{ObjectEntity{Nil: true}, "anything", true, false},
		{ObjectEntity{Operation: "equals", Values: []string{"a"}, VarCheck: "all"}, "a", true, false},
		{ObjectEntity{Operation: "equals", Values: []string{"a", "b"}, VarCheck: "all"}, "a", false, false},
		{ObjectEntity{Operation: "equals", Values: []string{"a", "b"}, VarCheck: "at least one"}, "b", true, false},
		{ObjectEntity{Operation: "pattern match", Values: []string{"^/etc", "^/usr"}, VarCheck: "only one"}, "/etc/x", true, false},
		{ObjectEntity{Operation: "equals", Values: []string{"a"}, VarCheck: "none satisfy"}, "b", true, false},
		{ObjectEntity{Operation: "equals", VarCheck: "all"}, "a", false, false},
		{ObjectEntity{Operation: "equals", Values: []string{"a"}, VarCheck: "most"}, "a", false, true},
		{ObjectEntity{Operation: "equals", Datatype: "int", Values: []string{"x"}, VarCheck: "all"}, "1", false, true},
	}
	for _, c := range cases {
		ok, err := c.e.Match(p, c.value)
		if ok != c.ok || (err != nil) != c.err {
			t.Errorf("%+v.Match(%q) = %v, %v", c.e, c.value, ok, err)
		}
	}
}

func TestPatterns(t *testing.T) {
	p := &Patterns{Timeout: 50 * time.Millisecond}
	for _, expr := range []string{`^(\w+)=(\d+)?`, `^(\w+)=(?=\d)(\d+)?`} { // Go regexp, then backtracking
		re, err := p.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := re.FindAll("a=1", -1)
		if err != nil || len(ms) != 1 || ms[0].Groups[0] != "a" || ms[0].Groups[1] != "1" || ms[0].Start != 0 || ms[0].End != 3 {
			t.Errorf("%s: %+v %v", expr, ms, err)
		}
		if again, _ := p.Compile(expr); again != re {
			t.Errorf("%s compiled twice", expr)
		}
		if re.String() != expr {
			t.Errorf("String() = %q", re.String())
		}
		if goSyntax := !strings.Contains(expr, "(?="); (re.Regexp() != nil) != goSyntax {
			t.Errorf("%s: Regexp() = %v", expr, re.Regexp())
		}
	}
	if _, err := p.Compile(`(`); err == nil {
		t.Error("bad pattern compiled")
	}
	// Catastrophic backtracking ends with ErrRegexTimeout, not a hang.
	re, err := p.Compile(`^(a+)+(?=b)$`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := re.MatchString(strings.Repeat("a", 40) + "c"); !errors.Is(err, ErrRegexTimeout) {
		t.Errorf("err = %v, want ErrRegexTimeout", err)
	}
	// The match-everything patterns answer without the regexp, as it
	// would.
	for _, expr := range []string{".*", "^.*", ".*$", "^.*$"} {
		re, err := p.Compile(expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"", "name", "a\nb", "\n", "end\n", "é\x00"} {
			got, err := re.MatchString(s)
			if want := regexp.MustCompile(expr).MatchString(s); got != want || err != nil {
				t.Errorf("%q on %q: %v %v, want %v", expr, s, got, err, want)
			}
		}
	}
}

// TestPatternsConcurrent compiles patterns from many goroutines: each
// pattern is compiled once and every caller gets it.
func TestPatternsConcurrent(t *testing.T) {
	p := &Patterns{}
	exprs := []string{`^a+$`, `b(?=c)`, `[0-9]+`, `(`}
	got := make([][]*Pattern, 8)
	var wg sync.WaitGroup
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range exprs {
				re, _ := p.Compile(e)
				got[g] = append(got[g], re)
			}
		}()
	}
	wg.Wait()
	for g := range got {
		if !slices.Equal(got[g], got[0]) {
			t.Errorf("goroutine %d got other compiled patterns", g)
		}
	}
	if got[0][3] != nil || got[0][0] == nil {
		t.Errorf("compiled %v", got[0])
	}
}
