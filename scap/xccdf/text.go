package xccdf

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/scap/ds"
)

// textMode says how an element's mixed content becomes a string.
type textMode int

const (
	// modePlain collapses white space to single spaces: titles, idents,
	// references.
	modePlain textMode = iota
	// modeHTML renders XHTML-enabled text (descriptions, rationales, fix
	// texts) as readable plain text.
	modeHTML
	// modeRaw keeps the text exactly: fix scripts.
	modeRaw
)

// A sub element becomes a marker in the text while parsing, because the
// Value it names may come later in the document; Parse replaces the
// markers once every Value is known. NUL cannot occur in XML text, so a
// marker cannot be forged by content.
const subMark = "\x00"

func subMarker(use, idref string) string {
	return subMark + use + " " + idref + subMark
}

// blockElements start and end on lines of their own; the value is the
// number of line breaks around them (2: a blank line).
var blockElements = map[string]int{
	"p": 2, "pre": 2, "ul": 2, "ol": 2, "dl": 2, "table": 2, "blockquote": 2,
	"h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "hr": 2,
	"div": 1, "tr": 1, "dt": 1, "dd": 1, "li": 1, "address": 1, "center": 1,
}

// textWriter accumulates plain text from a stream of XHTML events.
type textWriter struct {
	b        strings.Builder
	mode     textMode
	pre      int
	preFresh bool // just entered a pre: an immediate newline is dropped
	space    bool // a word separator is pending
	nl       int  // trailing newlines in b
	lists    []listState
	subIDs   []string
}

type listState struct {
	ordered bool
	n       int
}

func (w *textWriter) text(s string) {
	if w.mode == modeRaw || w.pre > 0 {
		if w.preFresh {
			s = strings.TrimPrefix(strings.TrimPrefix(s, "\r"), "\n")
			w.preFresh = false
		}
		w.raw(s)
		return
	}
	if s == "" {
		return
	}
	if isSpace(s[0]) {
		w.space = true
	}
	words := strings.Fields(s)
	for i, word := range words {
		if i > 0 {
			w.space = true
		}
		w.word(word)
	}
	if len(words) > 0 && isSpace(s[len(s)-1]) {
		w.space = true
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (w *textWriter) word(s string) {
	if w.space && w.b.Len() > 0 && w.nl == 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteString(s)
	w.nl = 0
}

func (w *textWriter) raw(s string) {
	if s == "" {
		return
	}
	if w.space && w.b.Len() > 0 && w.nl == 0 && w.mode != modeRaw {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteString(s)
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\n' {
		n++
	}
	if n == len(s) {
		w.nl += n
	} else {
		w.nl = n
	}
}

// newlines ends the current line and adds blank lines up to n line
// breaks, unless nothing was written yet.
func (w *textWriter) newlines(n int) {
	w.space = false
	if w.b.Len() == 0 {
		return
	}
	for w.nl < n {
		w.b.WriteByte('\n')
		w.nl++
	}
}

func (w *textWriter) start(se xml.StartElement) {
	if se.Name.Space == ds.NSXCCDF12 {
		if se.Name.Local == "sub" {
			use := attr(se, "use")
			if use == "" {
				use = "value"
			}
			id := attr(se, "idref")
			w.subIDs = append(w.subIDs, id)
			w.raw(subMarker(use, id))
		}
		return
	}
	if w.mode != modeHTML || se.Name.Space != ds.NSXHTML {
		return
	}
	name := se.Name.Local
	switch name {
	case "br":
		if w.b.Len() > 0 {
			w.b.WriteByte('\n')
			w.nl++
		}
		w.space = false
		return
	case "img":
		if alt := attr(se, "alt"); alt != "" {
			w.text(" " + alt + " ")
		}
		return
	case "td", "th":
		w.space = true
		return
	}
	if n, ok := blockElements[name]; ok {
		w.newlines(n)
	}
	switch name {
	case "pre":
		w.pre++
		w.preFresh = true
	case "ul", "ol":
		w.lists = append(w.lists, listState{ordered: name == "ol"})
	case "li":
		indent := ""
		if len(w.lists) > 1 {
			indent = strings.Repeat("  ", len(w.lists)-1)
		}
		bullet := "- "
		if len(w.lists) > 0 {
			l := &w.lists[len(w.lists)-1]
			l.n++
			if l.ordered {
				bullet = strconv.Itoa(l.n) + ". "
			}
		}
		w.b.WriteString(indent + bullet)
		w.nl = 0
	case "dd":
		w.b.WriteString("  ")
		w.nl = 0
	}
}

func (w *textWriter) end(name xml.Name, linkStart int, href string) {
	if w.mode != modeHTML || name.Space != ds.NSXHTML {
		return
	}
	switch name.Local {
	case "pre":
		if w.pre > 0 {
			w.pre--
		}
		w.preFresh = false
	case "ul", "ol":
		if len(w.lists) > 0 {
			w.lists = w.lists[:len(w.lists)-1]
		}
	case "a":
		if href != "" && !strings.Contains(w.b.String()[linkStart:], href) && !strings.HasPrefix(href, "#") {
			w.space = true
			w.word("<" + href + ">")
		}
	}
	if n, ok := blockElements[name.Local]; ok {
		w.newlines(n)
	}
}

func (w *textWriter) String() string {
	s := w.b.String()
	if w.mode == modeRaw {
		return strings.TrimRight(strings.TrimLeft(s, "\r\n"), " \t\r\n")
	}
	if w.mode == modePlain {
		return strings.TrimSpace(s)
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// readPlain is readText in modePlain, fast for the common case of an
// element holding plain text alone (a title, a reference), which the
// decoder's scanner reads without tokenizing it.
func readPlain(d *ds.Decoder) (string, error) {
	text, ok, err := d.PlainText()
	if !ok {
		s, _, err := readText(d, modePlain)
		return s, err
	}
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(text), " "), nil
}

// readText reads the content of the element whose start tag was read
// last, up to its end tag, as mode says. It returns the ids of the Values
// (or plain-texts) its sub elements name.
func readText(d *ds.Decoder, mode textMode) (string, []string, error) {
	w := &textWriter{mode: mode}
	type open struct {
		name      xml.Name
		linkStart int
		href      string
	}
	var stack []open
	for {
		tok, err := d.Token()
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			w.text(string(t))
		case xml.StartElement:
			o := open{name: t.Name, linkStart: w.b.Len()}
			if t.Name.Space == ds.NSXHTML && t.Name.Local == "a" {
				o.href = attr(t, "href")
			}
			stack = append(stack, o)
			w.start(t)
		case xml.EndElement:
			if len(stack) == 0 {
				return w.String(), w.subIDs, nil
			}
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			w.end(o.name, o.linkStart, o.href)
		}
	}
}

// expandSubs replaces the sub markers in s: a Value's default value (its
// title for use="title"), or a plain-text's text.
func (b *Benchmark) expandSubs(s string) string {
	if !strings.Contains(s, subMark) {
		return s
	}
	var out strings.Builder
	for {
		i := strings.Index(s, subMark)
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i])
		s = s[i+len(subMark):]
		j := strings.Index(s, subMark)
		if j < 0 { // cannot happen: markers come in pairs
			return out.String()
		}
		use, id, _ := strings.Cut(s[:j], " ")
		s = s[j+len(subMark):]
		if v, ok := b.values[id]; ok {
			if use == "title" {
				out.WriteString(v.Title)
			} else if val, _, ok := v.Lookup(""); ok {
				out.WriteString(val)
			}
			continue
		}
		if t, ok := b.PlainTexts[id]; ok {
			out.WriteString(t)
			continue
		}
		out.WriteString(id)
	}
}
