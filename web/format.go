package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// funcs are the template functions. None of them returns template.HTML:
// everything a template prints is escaped by html/template.
var funcs = template.FuncMap{
	"pct":         func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"when":        when,
	"whenp":       func(t *time.Time) string { return whenPtr(t) },
	"date":        func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"isop":        func(t *time.Time) string { return isoPtr(t) },
	"crit":        critLabel,
	"critClass":   func(c policy.Criticality) string { return "crit-" + strconv.Itoa(int(c)) },
	"status":      statusLabel,
	"statusClass": statusClass,
	"scoreClass":  scoreClass,
	"count":       func(s result.Summary, st string) int { return s.Counts[result.Status(st)] },
	"link":        link,
	"join":        strings.Join,
	"ids":         joinIDs,
	"add":         func(a, b int) int { return a + b },
	"sub":         func(a, b int) int { return a - b },
	"half":        func(a int) int { return a / 2 },
	"plural":      plural,
	"until":       until,
	"label":       label,
	"stateClass":  func(s string) string { return "state-" + s },
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func whenPtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return when(*t)
}

func isoPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// critLabel is "Serious" for 3; the number is kept for unknown values.
func critLabel(c policy.Criticality) string {
	if c < policy.Minimal || c > policy.Urgent {
		return strconv.Itoa(int(c))
	}
	s := c.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// statusLabel is how a posture item's status reads: "Fail (excepted)"
// when an exception covers the Fail.
func statusLabel(r store.Result) string {
	if r.Status == result.Fail && r.Excepted != nil {
		return "Fail (excepted)"
	}
	return r.Status.Label()
}

func statusClass(r store.Result) string {
	if r.Status == result.Fail && r.Excepted != nil {
		return "st-excepted"
	}
	return "st-" + string(r.Status)
}

// scoreClass bands a score for its colour; the number is always shown
// too.
func scoreClass(f float64) string {
	switch {
	case f >= 90:
		return "score-good"
	case f >= 70:
		return "score-fair"
	}
	return "score-poor"
}

// link builds a dashboard URL from a path and key, value pairs; empty
// values and zero numbers are left out, and every value is query-escaped.
func link(path string, kv ...any) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		k := fmt.Sprint(kv[i])
		switch v := kv[i+1].(type) {
		case string:
			if v != "" {
				q.Set(k, v)
			}
		case int:
			if v != 0 {
				q.Set(k, strconv.Itoa(v))
			}
		case int64:
			if v != 0 {
				q.Set(k, strconv.FormatInt(v, 10))
			}
		case policy.Criticality:
			if v != 0 {
				q.Set(k, strconv.Itoa(int(v)))
			}
		default:
			if s := fmt.Sprint(v); s != "" {
				q.Set(k, s)
			}
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// pathOf is a path under /ui/ with each segment path-escaped.
func pathOf(segments ...string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(Prefix, "/"))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// until says how far ahead t is from now, in days or hours.
func until(t, now time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "expired"
	case d < 48*time.Hour:
		return "in " + plural(int(d.Hours()), "hour", "hours")
	}
	return "in " + plural(int(d.Hours()/24), "day", "days")
}

// label turns an identifier such as risk_acceptance into words.
func label(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
