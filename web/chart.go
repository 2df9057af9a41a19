package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/store"
)

// chart is a trend drawn as SVG on the server: the score and the weighted
// score of each period on a 0-100 axis. The template draws it from these
// numbers alone; the points also go into a table, the chart's text
// alternative.
type chart struct {
	ID          string // prefix of the element ids
	Title       string
	Desc        string
	Width       int
	Height      int
	Left, Right int // plot area, x
	Top, Bottom int // plot area, y
	Grid        []gridLine
	XLabels     []axisLabel
	Score       string // polyline points
	Weighted    string
	Points      []chartPoint
	Granularity string
}

type gridLine struct {
	Y     int
	Label string
}

type axisLabel struct {
	X     int
	Label string
}

type chartPoint struct {
	X, YScore, YWeighted int
	Label                string // the period
	store.TrendPoint
}

// periodLabel names the period a trend point stands for.
func periodLabel(t time.Time, granularity string) string {
	t = t.UTC()
	switch granularity {
	case store.Week:
		return "week of " + t.Format("2 Jan 2006")
	case store.Month:
		return t.Format("Jan 2006")
	case store.Quarter:
		return fmt.Sprintf("Q%d %d", (int(t.Month())-1)/3+1, t.Year())
	}
	return t.Format("2 Jan 2006")
}

// shortLabel is the axis label of a period.
func shortLabel(t time.Time, granularity string) string {
	t = t.UTC()
	switch granularity {
	case store.Month:
		return t.Format("Jan 06")
	case store.Quarter:
		return fmt.Sprintf("Q%d %d", (int(t.Month())-1)/3+1, t.Year())
	}
	return t.Format("2 Jan")
}

// newChart lays out pts (oldest first). Periods are placed by time, so a
// gap without snapshots shows as a gap.
func newChart(id, title, granularity string, pts []store.TrendPoint) chart {
	c := chart{ID: id, Title: title, Width: 760, Height: 260, Left: 44, Right: 744, Top: 14, Bottom: 222, Granularity: granularity}
	y := func(score float64) int {
		return c.Bottom - int(score/100*float64(c.Bottom-c.Top)+0.5)
	}
	for v := 0; v <= 100; v += 20 {
		c.Grid = append(c.Grid, gridLine{Y: y(float64(v)), Label: strconv.Itoa(v)})
	}
	if len(pts) == 0 {
		c.Desc = "No score snapshots in this period yet. The server takes them after scans finish and at least daily."
		return c
	}
	first, last := pts[0].Period, pts[len(pts)-1].Period
	span := last.Sub(first)
	x := func(t time.Time) int {
		if span <= 0 {
			return (c.Left + c.Right) / 2
		}
		return c.Left + 12 + int(float64(t.Sub(first))/float64(span)*float64(c.Right-c.Left-24)+0.5)
	}
	var score, weighted []string
	for _, p := range pts {
		cp := chartPoint{X: x(p.Period), YScore: y(p.Score), YWeighted: y(p.Weighted), Label: periodLabel(p.Period, granularity), TrendPoint: p}
		c.Points = append(c.Points, cp)
		score = append(score, fmt.Sprintf("%d,%d", cp.X, cp.YScore))
		weighted = append(weighted, fmt.Sprintf("%d,%d", cp.X, cp.YWeighted))
	}
	c.Score, c.Weighted = strings.Join(score, " "), strings.Join(weighted, " ")
	// Axis labels at least 72 pixels apart, the last period always
	// labelled.
	const gap = 72
	for _, p := range c.Points {
		if n := len(c.XLabels); n == 0 || p.X-c.XLabels[n-1].X >= gap {
			c.XLabels = append(c.XLabels, axisLabel{X: p.X, Label: shortLabel(p.Period, granularity)})
		}
	}
	if end := c.Points[len(c.Points)-1]; c.XLabels[len(c.XLabels)-1].X != end.X {
		if n := len(c.XLabels); n > 1 && end.X-c.XLabels[n-1].X < gap {
			c.XLabels = c.XLabels[:n-1]
		}
		c.XLabels = append(c.XLabels, axisLabel{X: end.X, Label: shortLabel(end.Period, granularity)})
	}
	a, b := pts[0], pts[len(pts)-1]
	if len(pts) == 1 {
		c.Desc = fmt.Sprintf("One point: %s, score %.1f%%, weighted score %.1f%%.", periodLabel(a.Period, granularity), a.Score, a.Weighted)
	} else {
		c.Desc = fmt.Sprintf("%d points by %s from %s to %s. Score went from %.1f%% to %.1f%%; weighted score from %.1f%% to %.1f%%.",
			len(pts), granularity, periodLabel(a.Period, granularity), periodLabel(b.Period, granularity), a.Score, b.Score, a.Weighted, b.Weighted)
	}
	return c
}
