package report

import (
	"strconv"

	"github.com/plumbhq/plumb/result"
)

// controlCols are the control table's columns, on landscape pages:
// titles and widths (mm, 273 in all: A4 landscape less the margins). The
// asset is not a column: each asset has its section, whose heading is
// repeated at the top of every page it continues on, and a column of
// host names (long, so often two lines) would take room from the title
// and make rows taller.
func controlCols() [7]col {
	return [7]col{
		{"CID", 12, false},
		{"Title", 72, false},
		{"Criticality", 16, false},
		{"Result", 21, false},
		{"Expected", 45, false},
		{"Actual evidence", 60, false},
		{"Exception", 47, false},
	}
}

// Control table text and caps. A cell holds at most about 14 lines, so a
// row always fits on one page (14 lines are 45 mm of the 180 a page has).
const (
	bodyPt   = 7.5
	padX     = 1.2
	padY     = 1.0
	headH    = 6.0 // column titles
	sectionH = 8.5 // asset heading
)

// controls writes the control table, a row at a time.
type controls struct {
	d     *doc
	asset string // asset of the open section
	open  bool   // a section has been started
	n     int    // rows in the section, for the zebra
	y     float64
	rows  int
	cols  [7]col
	cells [7][]line // the current row's lines, reused
}

func newControls(d *doc) *controls {
	t := &controls{d: d, cols: controlCols()}
	d.page(true)
	d.bookmark("Controls", 0, top)
	t.y = d.heading(margin, top+1, "Controls")
	return t
}

// row adds r to the table: a section heading first if r is on another
// asset than the row before, a new page first (with the heading and the
// column titles again) if r does not fit on this one.
func (t *controls) row(r *Row) {
	d := t.d
	h := t.layout(r)
	switch {
	case !t.open || r.Asset != t.asset:
		if t.open {
			t.y += 3
		}
		if t.y+sectionH+headH+h > d.limit() {
			d.page(true)
			t.y = top
		}
		t.asset, t.open = r.Asset, true
		t.section(false)
	case t.y+h > d.limit():
		d.page(true)
		t.y = top
		t.section(true)
	}
	t.draw(h)
	t.rows++
}

// section draws the asset heading and the column titles.
func (t *controls) section(continued bool) {
	d := t.d
	w, _ := d.size()
	d.fill(band)
	d.g().Rect(margin, t.y, w-2*margin, sectionH-1.5, "F")
	d.font(bold, 10)
	d.color(black)
	name := d.enc(t.asset, maxField)
	if !continued {
		d.bookmark(t.asset, 1, t.y)
	}
	label := "Asset: "
	suffix := ""
	if continued {
		suffix = " (continued)"
	}
	name = d.fit(name, w-2*margin-6-d.width(label+suffix))
	d.text(margin+2, t.y+4.7, label+name+suffix)
	t.y += sectionH
	// Column titles.
	d.fill(headFill)
	d.g().Rect(margin, t.y, w-2*margin, headH, "F")
	d.font(bold, bodyPt)
	d.color(white)
	x := margin
	for _, c := range t.cols {
		d.text(x+padX, t.y+headH/2+bodyPt*ptMM*0.35, c.title)
		x += c.w
	}
	t.y += headH
	t.n = 0
}

// layout fills t.cells with r's lines and returns the row's height.
func (t *controls) layout(r *Row) float64 {
	d := t.d
	d.scratch = d.scratch[:0]
	for i := range t.cells {
		t.cells[i] = t.cells[i][:0]
	}
	w := func(i int) float64 { return t.cols[i].w - 2*padX }
	c := &t.cells

	body := face{regular, bodyPt, black}
	note := face{italic, bodyPt, grey}
	c[0] = d.lines(c[0], body, strconv.Itoa(r.CID), false, w(0), 2, 30)
	c[1] = d.lines(c[1], body, r.Title, false, w(1), 6, 600)
	if r.Rule != "" {
		c[1] = d.lines(c[1], face{regular, bodyPt, grey}, r.Rule, false, w(1), 3, 300)
	}
	c[2] = d.lines(c[2], body, r.Criticality.String(), false, w(2), 2, 40)

	excepted := r.Status == result.Fail && r.Excepted != nil
	label := r.Status.Label()
	if excepted {
		label = exceptedLabel()
	}
	// Fails and Errors in bold; the rest (most rows: Passes) in the body
	// font, which also spares a change of font a row.
	lf := face{regular, bodyPt, statusColor(r.Status, excepted)}
	if r.Status == result.Fail || r.Status == result.Error {
		lf.st = bold
	}
	c[3] = d.lines(c[3], lf, label, false, w(3), 3, 60)

	c[4] = d.lines(c[4], body, r.Expected, true, w(4), 12, 1500)

	// Evidence: why an Error, the result's message, the values found.
	actual := 12
	if r.Status == result.Error && r.Reason != "" {
		c[5] = d.lines(c[5], face{bold, bodyPt, black}, "Reason: "+r.Reason, false, w(5), 2, 200)
		actual -= 2
	}
	if r.Message != "" {
		c[5] = d.lines(c[5], face{italic, bodyPt, black}, r.Message, true, w(5), 4, 600)
		actual -= 2
	}
	if len(r.Actual) > 0 {
		c[5] = d.linesOf(c[5], body, r.Actual, true, w(5), actual, 1500)
	} else if r.Status == result.Pass || r.Status == result.Fail {
		c[5] = d.lines(c[5], note, "(no value)", false, w(5), 1, 20)
	}

	if e := r.Excepted; e != nil {
		head := "Exception #" + strconv.FormatInt(e.ID, 10)
		if e.Type != "" {
			head += ": " + e.Type
		}
		c[6] = d.lines(c[6], face{bold, bodyPt, black}, head, false, w(6), 2, 200)
		c[6] = d.lines(c[6], body, e.Justification, true, w(6), 8, 1000)
		exp := "no expiry"
		if !e.Expires.IsZero() {
			exp = e.Expires.UTC().Format("2006-01-02")
		}
		c[6] = d.lines(c[6], face{regular, bodyPt, grey}, "Owner: "+e.Owner, false, w(6), 2, 200)
		c[6] = d.lines(c[6], face{regular, bodyPt, grey}, "Expires: "+exp, false, w(6), 1, 40)
	}

	h := lineH(bodyPt)
	for _, ls := range c {
		h = max(h, height(ls))
	}
	return h + 2*padY
}

// draw prints the laid-out row at t.y.
func (t *controls) draw(h float64) {
	d := t.d
	w, _ := d.size()
	if t.n%2 == 1 {
		d.fill(zebra)
		d.g().Rect(margin, t.y+0.05, w-2*margin, h-0.05, "F")
	}
	t.n++
	x := margin
	for i, c := range t.cols {
		d.place(x+padX, t.y+padY, t.cells[i])
		x += c.w
	}
	d.printPlaced()
	d.draw(rule, 0.1)
	d.g().Line(margin, t.y+h, w-margin, t.y+h)
	t.y += h
}

// end closes the table, saying so if it had no rows.
func (t *controls) end() {
	if t.rows > 0 {
		return
	}
	d := t.d
	d.font(italic, 10)
	d.color(grey)
	d.text(margin, t.y+4, "No results.")
}
