package report

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf16"

	"github.com/go-pdf/fpdf"
)

// style is a font of the Helvetica family.
type style int

const (
	regular style = iota
	bold
	italic
)

func (s style) String() string { return [...]string{"", "B", "I"}[s] }

// rgb is a colour, 0xRRGGBB.
type rgb uint32

func (c rgb) parts() (int, int, int) { return int(c >> 16), int(c >> 8 & 0xFF), int(c & 0xFF) }

// Colours. Every one prints as a distinct grey too.
const (
	black    rgb = 0x000000
	grey     rgb = 0x5F5F5F
	midGrey  rgb = 0x828282
	rule     rgb = 0xBEBEBE
	zebra    rgb = 0xF3F3F3
	band     rgb = 0xE1E5EB
	headFill rgb = 0x374151
	white    rgb = 0xFFFFFF
	blue     rgb = 0x1F55A0
	orange   rgb = 0xD66E14
)

// Page geometry, in millimetres.
const (
	a4W, a4H   = 210.0, 297.0
	margin     = 12.0 // left and right
	top        = 17.0 // where the body starts, below the header line
	bottom     = 15.0 // space kept free at the bottom for the footer
	ptMM       = 25.4 / 72
	nbAlias    = "\x01nb\x01" // page count placeholder: no sanitised text has \x01
	maxField   = 300          // characters of a one-line field (cover, headers)
	ellipsis   = "\x85"       // … in Windows-1252
	generatedF = "2006-01-02 15:04:05 UTC"
)

// doc is a report being written: the fpdf document and what the page
// header and footer say.
type doc struct {
	pdf     *fpdf.Fpdf
	cw      [3][256]int // character widths of each style, in font units
	head    string      // header line, left (Windows-1252)
	headR   string      // header line, right
	foot    string      // footer line, left
	scratch []byte      // reused for each row's text

	// Graphics state, as the page's content stream has it, so that only
	// changes are written: fpdf writes every SetFont and SetFillColor.
	gs
	saved  gs       // the state before AddPage, which it restores
	h      float64  // page height, for text positions
	raw    []byte   // text operators not yet written to the page
	placed []placed // lines to print, reused
	done   []bool   // which of placed are printed, reused
	lastH  float64  // height of the last page: landscape or portrait A4
}

// gs is the graphics state that doc tracks.
type gs struct {
	st    style   // font
	pt    float64 // font size, points
	fg    rgb     // text colour
	fillC rgb     // fill colour (text is painted with it)
	drawC rgb     // line colour
	lw    float64 // line width
}

// unset is no colour: the first use of any colour writes it.
const unset rgb = 1 << 31

// newDoc starts a document with its metadata, page header and footer.
// kind names the report ("Policy report"), right is the right-hand part
// of the header line, lastH the height of the last page (mm).
func newDoc(c Cover, kind, subject, right string, lastH float64) *doc {
	pdf := fpdf.New("P", "mm", "A4", "")
	d := &doc{pdf: pdf, gs: gs{fillC: unset, drawC: unset, fg: black, lw: -1}, lastH: lastH}
	// Deterministic bytes: a fixed creation date, resources in a fixed
	// order, no document ID (fpdf writes one only when encrypting).
	when := c.Generated.UTC()
	if c.Generated.IsZero() {
		when = time.Unix(0, 0).UTC()
	}
	pdf.SetCreationDate(when)
	pdf.SetModificationDate(when)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	title := c.Title
	if title == "" {
		title = kind
	}
	pdf.SetTitle(d.meta(title), false)
	pdf.SetAuthor(d.meta("Plumb"), false)
	pdf.SetCreator(d.meta("Plumb"), false)
	pdf.SetProducer(d.meta("Plumb (go-pdf/fpdf)"), false)
	pdf.SetSubject(d.meta(subject), false)
	pdf.SetLang("en")
	pdf.SetDisplayMode("fullwidth", "continuous")
	pdf.SetMargins(margin, top, margin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AliasNbPages(nbAlias)
	for s := regular; s <= italic; s++ {
		pdf.SetFont("Helvetica", s.String(), 10)
		for b := 1; b < 256; b++ {
			d.cw[s][b] = pdf.GetStringSymbolWidth(string([]byte{byte(b)}))
		}
	}
	d.st, d.pt = italic, 10

	d.head = d.enc(title, maxField)
	if c.Scope != "" {
		d.head += " \x97 " + d.enc(c.Scope, maxField) // —
	}
	d.headR = d.enc(right, maxField)
	d.foot = "Generated " + when2(c.Generated)
	if c.GeneratedBy != "" {
		d.foot += " by " + d.enc(c.GeneratedBy, maxField)
	}
	if c.Server != "" {
		d.foot += " on " + d.enc(c.Server, maxField)
	}
	pdf.SetHeaderFuncMode(d.header, true)
	pdf.SetFooterFunc(d.footer)
	return d
}

// when2 is how a report shows a time: UTC, to the second.
func when2(t time.Time) string {
	if t.IsZero() {
		return "(time not recorded)"
	}
	return t.UTC().Format(generatedF)
}

// header draws the header line of every page but the cover.
func (d *doc) header() {
	defer d.flush()
	// The footer may have changed the state; AddPage put it back.
	d.gs = d.saved
	_, d.h = d.pdf.GetPageSize()
	if d.pdf.PageNo() == 1 {
		return
	}
	w, _ := d.size()
	d.font(regular, 7.5)
	d.color(grey)
	r := d.fit(d.headR, w/3)
	rw := d.width(r)
	d.text(w-margin-rw, 10, r)
	d.text(margin, 10, d.fit(d.head, w-2*margin-rw-6))
	d.draw(rule, 0.2)
	d.g().Line(margin, 11.8, w-margin, 11.8)
}

// footer draws the footer line of every page: who made the report, and
// "Page N of M".
func (d *doc) footer() {
	defer d.flush()
	w, h := d.size()
	d.draw(rule, 0.2)
	d.g().Line(margin, h-11, w-margin, h-11)
	d.font(regular, 7.5)
	d.color(grey)
	page := "Page " + strconv.Itoa(d.pdf.PageNo()) + " of "
	// The page count is not known until the end: it replaces nbAlias,
	// whose width is not the number's, so the label starts at a fixed
	// place rather than being aligned right.
	x := w - margin - d.width(page+"00000")
	d.text(x, h-7, page+nbAlias)
	d.text(margin, h-7, d.fit(d.foot, x-margin-6))
}

// page starts a new page, portrait or landscape.
func (d *doc) page(landscape bool) {
	o := "P"
	if landscape {
		o = "L"
	}
	d.flush()
	// AddPage runs the footer and header, then puts the font, colours and
	// line width back as they were before it: so does doc's record.
	d.saved = d.gs
	d.pdf.AddPageFormat(o, fpdf.SizeType{Wd: a4W, Ht: a4H})
	d.gs = d.saved
	_, d.h = d.pdf.GetPageSize()
}

// bookmark adds an entry for the current page, at y, to the outline.
// fpdf places every entry as if its page were as high as the document's
// last page (d.lastH), so y is moved by the difference.
func (d *doc) bookmark(name string, level int, y float64) {
	d.pdf.Bookmark(d.meta(name), level, y-(d.h-d.lastH))
}

// size returns the width and height of the current page.
func (d *doc) size() (float64, float64) { return d.pdf.GetPageSize() }

// limit is the lowest y the body may reach on the current page.
func (d *doc) limit() float64 { return d.h - bottom }

// g returns the fpdf document to draw on, after writing the text that
// is pending, so that what is drawn comes after it.
func (d *doc) g() *fpdf.Fpdf {
	d.flush()
	return d.pdf
}

// flush writes the pending text operators to the page.
func (d *doc) flush() {
	if len(d.raw) > 0 {
		d.pdf.RawWriteBuf(bytes.NewReader(d.raw))
		d.raw = d.raw[:0]
	}
}

// enc turns untrusted UTF-8 into one line of Windows-1252 of at most
// limit characters, line breaks as spaces, the rest cut with an ellipsis.
func (d *doc) enc(s string, limit int) string {
	b, more := appendText(nil, s, false, limit)
	if more > 0 {
		b = append(b, ellipsis...)
	}
	return string(b)
}

// meta is s as a PDF text string for the document information and the
// outline: cleaned as page text is (so both read the same), then UTF-16
// with a byte order mark, which every reader understands.
func (d *doc) meta(s string) string {
	b, more := appendText(nil, s, false, maxField)
	rs := make([]rune, 0, len(b)+1)
	for _, c := range b {
		rs = append(rs, decode(c))
	}
	if more > 0 {
		rs = append(rs, '…')
	}
	u := utf16.Encode(rs)
	out := make([]byte, 2, 2+2*len(u))
	out[0], out[1] = 0xFE, 0xFF
	for _, x := range u {
		out = append(out, byte(x>>8), byte(x))
	}
	return string(out)
}

// font selects a style and size (points).
func (d *doc) font(st style, pt float64) {
	if st != d.st || pt != d.pt {
		d.st, d.pt = st, pt
		d.g().SetFont("Helvetica", st.String(), pt)
	}
}

// color sets the colour of text.
func (d *doc) color(c rgb) { d.fg = c }

// fill sets the colour of filled shapes (and text: PDF paints text with
// the fill colour, text sets it back).
func (d *doc) fill(c rgb) {
	if c != d.fillC {
		d.fillC = c
		d.g().SetFillColor(c.parts())
	}
}

// draw sets the colour and width (mm) of lines.
func (d *doc) draw(c rgb, w float64) {
	if c != d.drawC {
		d.drawC = c
		d.g().SetDrawColor(c.parts())
	}
	if w != d.lw {
		d.lw = w
		d.g().SetLineWidth(w)
	}
}

// width is the width in millimetres of s (Windows-1252) in the current font.
func (d *doc) width(s string) float64 {
	n := 0
	for i := 0; i < len(s); i++ {
		n += d.cw[d.st][s[i]]
	}
	return float64(n) * d.pt * ptMM / 1000
}

// fit cuts s (Windows-1252) to w millimetres in the current font, with
// an ellipsis if it had to cut.
func (d *doc) fit(s string, w float64) string {
	if d.width(s) <= w {
		return s
	}
	limit, n := units(w, d.pt)-d.cw[d.st][ellipsis[0]], 0
	for i := 0; i < len(s); i++ {
		if n += d.cw[d.st][s[i]]; n > limit {
			return s[:i] + ellipsis
		}
	}
	return s
}

// text prints s (Windows-1252) with its baseline at y, in the current
// font and colour. The operators are written here rather than by fpdf's
// Text (a fmt.Sprintf a line and, as often as not, a colour change), and
// go to the page with the next drawing.
func (d *doc) text(x, y float64, s string) {
	if d.fg != d.fillC {
		d.fill(d.fg)
	}
	const k = 72 / 25.4
	b := append(d.raw, "BT "...)
	b = appendFixed(b, int64(math.Round(x*k*100)))
	b = append(b, ' ')
	b = appendFixed(b, int64(math.Round((d.h-y)*k*100)))
	b = append(b, " Td ("...)
	b = appendEscaped(b, s)
	d.raw = append(b, ")Tj ET\n"...)
}

// face is the current font and colour.
func (d *doc) face() face { return face{d.st, d.pt, d.fg} }

// para prints s (untrusted UTF-8) wrapped to w millimetres from (x, y),
// y the top of the first line, in the current font and colour, at most
// lines lines and limit characters, and returns the y below it.
func (d *doc) para(x, y, w float64, s string, lines, limit int) float64 {
	d.scratch = d.scratch[:0]
	ls := d.lines(nil, d.face(), s, true, w, lines, limit)
	return d.printLines(x, y, ls)
}

// printLines prints ls from (x, y), y the top of the first line, each in
// its face, and returns the y below them.
func (d *doc) printLines(x, y float64, ls []line) float64 {
	d.placed = d.placed[:0]
	y = d.place(x, y, ls)
	d.printPlaced()
	return y
}

// placed is a line of text and where its baseline starts.
type placed struct {
	x, y float64
	l    *line
}

// place adds ls, from (x, y), y the top of the first line, to the lines
// printPlaced prints, and returns the y below them.
func (d *doc) place(x, y float64, ls []line) float64 {
	for i := range ls {
		l := &ls[i]
		lh := lineH(l.f.pt)
		d.placed = append(d.placed, placed{x, y + lh*0.5 + l.f.pt*ptMM*0.35, l})
		y += lh
	}
	return y
}

// printPlaced prints the placed lines, grouped by face (the current one
// first), so that the font and colour change as seldom as they can: fpdf
// writes some 60 bytes for each change of font. Each group is one text
// object, a line placed relative to the one before it.
func (d *doc) printPlaced() {
	ps := d.placed
	left := len(ps)
	done := d.done[:0]
	for range ps {
		done = append(done, false)
	}
	d.done = done
	const k = 72 / 25.4
	for left > 0 {
		f := d.face()
		found := false
		for i, p := range ps {
			if !done[i] && p.l.f == f {
				found = true
				break
			}
		}
		if !found {
			for i, p := range ps {
				if !done[i] {
					f = p.l.f
					break
				}
			}
		}
		d.font(f.st, f.pt)
		d.color(f.c)
		if d.fg != d.fillC {
			d.fill(d.fg)
		}
		b := append(d.raw, "BT"...)
		var ax, ay int64 // last position, in hundredths of a point
		for i, p := range ps {
			if done[i] || p.l.f != f {
				continue
			}
			done[i] = true
			left--
			x, y := int64(math.Round(p.x*k*100)), int64(math.Round((d.h-p.y)*k*100))
			b = append(b, ' ')
			b = appendFixed(b, x-ax)
			b = append(b, ' ')
			b = appendFixed(b, y-ay)
			b = append(b, " Td ("...)
			b = appendEscaped(b, p.l.b)
			b = append(b, ")Tj"...)
			ax, ay = x, y
		}
		d.raw = append(b, " ET\n"...)
	}
	d.placed = d.placed[:0]
}

// appendFixed appends v hundredths as a decimal number.
func appendFixed(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	b = strconv.AppendInt(b, v/100, 10)
	if f := v % 100; f != 0 {
		b = append(b, '.', byte('0'+f/10))
		if f%10 != 0 {
			b = append(b, byte('0'+f%10))
		}
	}
	return b
}

// appendEscaped appends s as the inside of a PDF literal string.
func appendEscaped[T string | []byte](b []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', '(', ')':
			b = append(b, '\\', c)
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, c)
		}
	}
	return b
}

// output checks the document and writes it to w.
func (d *doc) output(w io.Writer) error {
	d.flush()
	if err := d.pdf.Error(); err != nil {
		return fmt.Errorf("report: making PDF: %w", err)
	}
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("report: writing PDF: %w", err)
	}
	return nil
}

// pct formats a percentage with one decimal.
func pct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "\x97"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " %"
}
