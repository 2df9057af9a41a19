package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Granularities of a trend report, as the store and the API name them.
const (
	Day     = "day"
	Week    = "week"
	Month   = "month"
	Quarter = "quarter"
)

// periodLabel returns how periods of granularity g are labelled.
func periodLabel(g string) (func(time.Time) string, error) {
	switch g {
	case Day, "":
		return func(t time.Time) string { return t.UTC().Format(time.DateOnly) }, nil
	case Week:
		return func(t time.Time) string {
			y, w := t.UTC().ISOWeek()
			return fmt.Sprintf("%04d-W%02d", y, w)
		}, nil
	case Month:
		return func(t time.Time) string { return t.UTC().Format("2006-01") }, nil
	case Quarter:
		return func(t time.Time) string {
			t = t.UTC()
			return fmt.Sprintf("%04d-Q%d", t.Year(), (int(t.Month())+2)/3)
		}, nil
	}
	return nil, fmt.Errorf("report: unknown granularity %q (want %s, %s, %s or %s)", g, Day, Week, Month, Quarter)
}

// sorted returns the indexes of pts in period order, pts unchanged.
func sorted(pts []Point) []int {
	ix := make([]int, len(pts))
	for i := range ix {
		ix[i] = i
	}
	slices.SortStableFunc(ix, func(a, b int) int { return pts[a].Period.Compare(pts[b].Period) })
	return ix
}

// num formats a percentage for a table, a dash if it is not a number.
func num(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "\x97"
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// trendCover finishes the cover of a trend report from y: the
// granularity, the period covered and each series' latest figures.
func (d *doc) trendCover(y float64, granularity string, series []Series, label func(time.Time) string) {
	x := 20.0
	w, _ := d.size()
	var first, last time.Time
	for _, s := range series {
		for _, p := range s.Points {
			if first.IsZero() || p.Period.Before(first) {
				first = p.Period
			}
			if last.IsZero() || p.Period.After(last) {
				last = p.Period
			}
		}
	}
	d.font(regular, 9.5)
	d.color(black)
	line := strconv.Itoa(len(series)) + " series by " + granularity
	if !first.IsZero() {
		line += ", from " + label(first) + " to " + label(last)
	}
	y = d.para(x, y, w-40, line+".", 2, 200) + 6
	if len(series) == 0 {
		d.font(italic, 10)
		d.color(grey)
		d.text(x, y+4, "No series.")
		return
	}
	y = d.heading(x, y, "Latest figures")
	t := &table{d: d, x: x, cols: []col{
		{"Series", 62, false}, {"Latest", 24, false}, {"Score", 20, true},
		{"Weighted", 20, true}, {"Coverage", 20, true}, {"Excepted", 24, true},
	}}
	y = t.header(y)
	for _, s := range series {
		cells := []string{d.enc(s.Name, maxField), "\x97", "\x97", "\x97", "\x97", "\x97"}
		if len(s.Points) > 0 {
			ix := sorted(s.Points)
			p := s.Points[ix[len(ix)-1]]
			cells = []string{cells[0], label(p.Period), num(p.Score), num(p.Weighted), num(p.Coverage), group(p.Excepted)}
		}
		if y+6 > d.limit() {
			d.page(false)
			y = t.header(top)
		}
		y = t.row(y, 6, cells...)
	}
	if y+30 > d.limit() {
		d.page(false)
		y = top
	}
	d.font(regular, 8)
	d.color(grey)
	d.para(x, y+3, w-40, "Score, weighted score and coverage in %, computed as in the policy report: "+
		"Score = Pass / (Pass + Fail + Error) \u00d7 100 over the results no exception covers; the weighted score weighs each "+
		"result by its criticality; Coverage = (Pass + Fail) / (Pass + Fail + Error) \u00d7 100. "+
		"Excepted is the number of "+exceptedLabel()+" results.", 6, 600)
}

// series draws one series: its name, a chart and a table of its points.
func (d *doc) series(s *Series, label func(time.Time) string) {
	d.page(false)
	d.bookmark(s.Name, 0, top)
	w, _ := d.size()
	x := 20.0
	d.font(bold, 14)
	d.color(black)
	y := d.para(x, top+2, w-40, s.Name, 2, 200) + 3
	ix := sorted(s.Points)
	y = d.chart(x+12, y+2, w-40-14, 80, s.Points, ix, label) + 4

	// Legend.
	d.font(regular, 8)
	d.color(black)
	lx := x + 12
	d.draw(blue, 0.6)
	d.g().Line(lx, y, lx+10, y)
	d.text(lx+12, y+1, "Score")
	lx += 12 + d.width("Score") + 8
	d.draw(orange, 0.5)
	d.g().SetDashPattern([]float64{1.6, 1}, 0)
	d.g().Line(lx, y, lx+10, y)
	d.g().SetDashPattern(nil, 0)
	d.text(lx+12, y+1, "Weighted score")
	y += 8

	t := &table{d: d, x: x, cols: []col{
		{"Period", 40, false}, {"Score %", 30, true}, {"Weighted %", 30, true},
		{"Coverage %", 30, true}, {exceptedLabel(), 30, true},
	}}
	if len(ix) == 0 {
		return
	}
	y = t.header(y)
	for _, i := range ix {
		p := s.Points[i]
		if y+5.5 > d.limit() {
			d.page(false)
			y = t.header(top)
		}
		y = t.row(y, 5.5, label(p.Period), num(p.Score), num(p.Weighted), num(p.Coverage), group(p.Excepted))
	}
}

// chart draws the score and weighted score of pts (in the order ix) in
// the box (x, y, w, h): gridlines every 20 %, period labels under the
// axis as many as fit. It returns the y below the labels.
func (d *doc) chart(x, y, w, h float64, pts []Point, ix []int, label func(time.Time) string) float64 {
	// Grid and y axis labels.
	d.font(regular, 6.5)
	d.color(grey)
	for v := 0; v <= 100; v += 20 {
		gy := y + h - h*float64(v)/100
		if v == 0 {
			d.draw(grey, 0.3)
		} else {
			d.draw(rule, 0.15)
		}
		d.g().Line(x, gy, x+w, gy)
		s := strconv.Itoa(v) + " %"
		d.text(x-1.5-d.width(s), gy+0.8, s)
	}
	d.draw(grey, 0.3)
	d.g().Line(x, y, x, y+h)
	if len(ix) == 0 {
		d.font(italic, 9)
		d.text(x+w/2-d.width("No data.")/2, y+h/2, "No data.")
		return y + h + 6
	}

	// x of each point: by time, so that missing periods show as gaps;
	// evenly if all periods are the same.
	pad := 4.0
	t0, t1 := pts[ix[0]].Period, pts[ix[len(ix)-1]].Period
	span := t1.Sub(t0).Seconds()
	px := func(k int) float64 {
		switch {
		case len(ix) == 1:
			return x + w/2
		case span <= 0:
			return x + pad + (w-2*pad)*float64(k)/float64(len(ix)-1)
		}
		return x + pad + (w-2*pad)*pts[ix[k]].Period.Sub(t0).Seconds()/span
	}
	py := func(v float64) float64 { return y + h - h*min(max(v, 0), 100)/100 }

	// Period labels, left to right, each where it does not touch the last.
	right := math.Inf(-1)
	for k := range ix {
		s := label(pts[ix[k]].Period)
		lw := d.width(s)
		cx := px(k)
		lx := min(max(cx-lw/2, x-6), x+w+6-lw)
		if lx < right+2.5 {
			continue
		}
		right = lx + lw
		d.draw(grey, 0.2)
		d.g().Line(cx, y+h, cx, y+h+1.2)
		d.text(lx, y+h+4, s)
	}

	// The lines: score solid, weighted dashed, broken where a value is
	// not a number.
	for _, ln := range []struct {
		c    rgb
		w    float64
		dash []float64
		v    func(Point) float64
	}{
		{blue, 0.6, nil, func(p Point) float64 { return p.Score }},
		{orange, 0.5, []float64{1.6, 1}, func(p Point) float64 { return p.Weighted }},
	} {
		d.draw(ln.c, ln.w)
		d.g().SetDashPattern(ln.dash, 0)
		path := false
		for k, i := range ix {
			v := ln.v(pts[i])
			switch {
			case math.IsNaN(v) || math.IsInf(v, 0):
				if path {
					d.g().DrawPath("D")
					path = false
				}
			case path:
				d.g().LineTo(px(k), py(v))
			default:
				d.g().MoveTo(px(k), py(v))
				path = true
			}
		}
		if path {
			d.g().DrawPath("D")
		}
		d.g().SetDashPattern(nil, 0)
		if len(ix) <= 60 {
			d.fill(ln.c)
			for k, i := range ix {
				if v := ln.v(pts[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
					if ln.dash == nil {
						d.g().Circle(px(k), py(v), 0.7, "F")
					} else {
						d.g().Rect(px(k)-0.55, py(v)-0.55, 1.1, 1.1, "F")
					}
				}
			}
		}
	}
	return y + h + 6
}
