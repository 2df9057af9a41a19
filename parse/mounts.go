package parse

import "strings"

// Mount is one mount table or fstab entry.
type Mount struct {
	Source, Target, FSType string
	Options                []string
	Line                   int
}

// Mounts parses /proc/self/mounts or /etc/fstab (the same format): fields
// separated by blanks (spaces or tabs), "source target fstype options
// [dump [pass]]". Lines whose first non-blank character is '#' and blank
// lines are ignored. In every field an octal escape of three digits (\040
// space, \011 tab, \012 newline, \134 backslash, \043 '#', ...) is decoded,
// as is "\\"; the kernel writes such escapes and fstab needs them for
// names with blanks. Options are the comma-separated elements of the fourth
// field, empty elements dropped. A line with fewer than four fields, or
// longer than MaxLine, is left out and reported in the error (errors.Join
// of "line N: ..."); fields after the fourth are not checked (nothing here
// uses dump and pass).
func Mounts(data []byte) ([]Mount, error) {
	var out []Mount
	var errs errList
	lr := newLineReader(data)
	for {
		raw, num, ok := lr.next()
		if !ok {
			break
		}
		if len(raw) > MaxLine {
			errs.addf("line %d: line longer than %d bytes", num, MaxLine)
			continue
		}
		line := strings.TrimLeft(raw, " \t")
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			errs.addf("line %d: %d fields, want at least 4", num, len(f))
			continue
		}
		m := Mount{Source: unescapeMount(f[0]), Target: unescapeMount(f[1]), FSType: unescapeMount(f[2]), Line: num}
		for _, o := range strings.Split(unescapeMount(f[3]), ",") {
			if o != "" {
				m.Options = append(m.Options, o)
			}
		}
		out = append(out, m)
	}
	return out, errs.err()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// unescapeMount decodes \ooo octal escapes (value up to \377) and "\\".
func unescapeMount(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+3 < len(s) && s[i+1] <= '3' && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
			continue
		}
		if c == '\\' && i+1 < len(s) && s[i+1] == '\\' {
			b = append(b, '\\')
			i++
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// HasOption reports whether option o is set: an exact match of one
// comma-separated element ("noexec" does not match "exec", and
// "mode=1777" must be given whole).
func (m Mount) HasOption(o string) bool {
	for _, x := range m.Options {
		if x == o {
			return true
		}
	}
	return false
}
