package parse

import (
	"fmt"
	"strings"
)

// sshd limits. sshd itself stops at an include depth above 16
// (SERVCONF_MAX_DEPTH); the file, byte and pattern budgets have no sshd
// counterpart: they stop a hostile configuration that includes itself many
// times per level from costing exponential work.
const (
	sshdMaxDepth    = 16
	sshdMaxFiles    = 1024
	sshdMaxBytes    = 16 << 20
	sshdMaxPatterns = 1024
	sshdDir         = "/etc/ssh"
)

// sshdAliases maps obsolete or alias keywords to the keyword sshd stores
// them under (and prints in "sshd -T"), following OpenSSH 8.7 and later:
// for instance ChallengeResponseAuthentication and KbdInteractiveAuthentication
// are one option, and whichever comes first wins.
var sshdAliases = map[string]string{
	"hostdsakey":                      "hostkey",
	"pubkeyacceptedkeytypes":          "pubkeyacceptedalgorithms",
	"hostbasedacceptedkeytypes":       "hostbasedacceptedalgorithms",
	"dsaauthentication":               "pubkeyauthentication",
	"challengeresponseauthentication": "kbdinteractiveauthentication",
	"skeyauthentication":              "kbdinteractiveauthentication",
	"keepalive":                       "tcpkeepalive",
}

// sshdAccumulate lists the keywords for which sshd appends every value
// instead of keeping the first one.
var sshdAccumulate = map[string]bool{
	"port":            true,
	"listenaddress":   true,
	"hostkey":         true,
	"hostcertificate": true,
	"allowusers":      true,
	"denyusers":       true,
	"allowgroups":     true,
	"denygroups":      true,
	"acceptenv":       true,
	"subsystem":       true,
}

// sshdGlobalOnly lists keywords sshd accepts only outside Match blocks
// (SSHCFG_GLOBAL). A "Match all" block does not override them per
// connection, because sshd does not copy them from the Match pass.
var sshdGlobalOnly = map[string]bool{
	"usepam": true, "port": true, "hostkey": true, "hostkeyagent": true,
	"pidfile": true, "modulifile": true, "logingracetime": true,
	"syslogfacility": true, "hostkeyalgorithms": true,
	"kerberosorlocalpasswd": true, "kerberosticketcleanup": true,
	"kerberosgetafstoken": true, "gssapicleanupcredentials": true,
	"gssapistrictacceptorcheck": true, "listenaddress": true,
	"addressfamily": true, "printmotd": true, "printlastlog": true,
	"ignoreuserknownhosts": true, "xauthlocation": true, "strictmodes": true,
	"permituserenvironment": true, "compression": true, "tcpkeepalive": true,
	"ciphers": true, "macs": true, "maxstartups": true,
	"persourcemaxstartups": true, "persourcenetblocksize": true,
	"persourcepenalties": true, "persourcepenaltyexemptlist": true,
	"usedns": true, "hostcertificate": true, "kexalgorithms": true,
	"versionaddendum": true, "fingerprinthash": true,
	"securitykeyprovider": true, "sshdsessionpath": true, "sshdauthpath": true,
}

// SSHDSetting is one directive as read from the configuration.
type SSHDSetting struct {
	Keyword string // lower case, aliases resolved (see SSHDKeyword)
	Value   string // the arguments, unquoted like sshd does, joined by one space
	Source  string // "file:line"
}

// SSHDMatch is one Match block: the directives that follow a Match line up
// to the next Match line or the end of the file that holds it (directives
// of files included from inside the block belong to the block).
type SSHDMatch struct {
	Criteria string // the Match arguments joined by one space, e.g. "User anoncvs" or "all"
	Source   string // "file:line" of the Match line
	// All is true for "Match all": with Within empty, its settings apply
	// to every connection.
	All bool
	// Within is set when the file holding the block was included from
	// inside a conditional Match block: it holds that block's Criteria
	// (outer first, separated by "; ", when includes nest). sshd evaluates
	// the Match lines of such a file only for connections that matched the
	// enclosing block, so the block applies only when both match.
	Within   string
	Settings []SSHDSetting
}

// sshdValue is the value of one keyword in one sshd option pass.
type sshdValue struct {
	vals, srcs []string
}

type sshdStore map[string]*sshdValue

// apply records s with sshd's rule: the first value wins, except for the
// accumulating keywords, which append.
func (st sshdStore) apply(s SSHDSetting) {
	v := st[s.Keyword]
	if v == nil {
		st[s.Keyword] = &sshdValue{vals: []string{s.Value}, srcs: []string{s.Source}}
		return
	}
	if sshdAccumulate[s.Keyword] {
		v.vals = append(v.vals, s.Value)
		v.srcs = append(v.srcs, s.Source)
	}
}

// SSHDConfig is a parsed sshd configuration, main file and includes.
//
// sshd reads its configuration twice. At start-up every line outside a
// conditional Match block is applied ("global" options; a "Match all" line
// returns to this state). For each connection (and for "sshd -T") it re-reads
// the file applying only the Match blocks that match, and those values
// replace the global ones (for keywords allowed in Match blocks; Port,
// Ciphers, ... keep their start-up value). With no connection details only
// "Match all"
// blocks match, so the effective value for a connection that matches no
// conditional block is the "Match all" value if one is set, otherwise the
// global one. Get returns exactly that (what "sshd -T" prints); conditional
// Match blocks are available from Matches.
type SSHDConfig struct {
	global   sshdStore // start-up pass
	matchAll sshdStore // "Match all" blocks in the per-connection pass
	matches  []SSHDMatch
	settings []SSHDSetting
	files    []string
}

// SSHDKeyword returns the form of an sshd keyword used as key by Get and in
// SSHDSetting: lower case, aliases replaced by the keyword sshd stores them
// under (ChallengeResponseAuthentication -> kbdinteractiveauthentication,
// PubkeyAcceptedKeyTypes -> pubkeyacceptedalgorithms, ...).
func SSHDKeyword(k string) string {
	k = strings.ToLower(k)
	if a, ok := sshdAliases[k]; ok {
		return a
	}
	return k
}

// Get returns the effective value of keyword for a connection that matches
// no conditional Match block (see SSHDConfig), with the "file:line" it came
// from, and whether it is set at all (when it is not, sshd uses its compiled
// in default).
//
// The keyword is case-insensitive and aliases are resolved. For most
// keywords the first value obtained wins. Port, ListenAddress, HostKey,
// HostCertificate, AllowUsers, DenyUsers, AllowGroups, DenyGroups, AcceptEnv
// and Subsystem accumulate: the value is every occurrence's arguments in
// order, joined by a space, and source lists every occurrence, joined by
// ", ".
func (c *SSHDConfig) Get(keyword string) (value, source string, ok bool) {
	if c == nil {
		return "", "", false
	}
	k := SSHDKeyword(keyword)
	v := c.global[k]
	if m := c.matchAll[k]; m != nil && !sshdGlobalOnly[k] {
		v = m
	}
	if v == nil {
		return "", "", false
	}
	return strings.Join(v.vals, " "), strings.Join(v.srcs, ", "), true
}

// Matches returns the Match blocks in the order sshd reads them, each with
// the directives it contains, including "Match all" blocks and blocks in
// files included from inside another Match block (see SSHDMatch.Within).
func (c *SSHDConfig) Matches() []SSHDMatch {
	if c == nil {
		return nil
	}
	return c.matches
}

// Settings returns every directive other than Include and Match, in the
// order sshd reads them, whether or not it takes effect.
func (c *SSHDConfig) Settings() []SSHDSetting {
	if c == nil {
		return nil
	}
	return c.settings
}

// Files returns the files read, the main file first, each include in the
// order it was processed (a file included twice is listed twice).
func (c *SSHDConfig) Files() []string {
	if c == nil {
		return nil
	}
	return c.files
}

// sshdFlags is sshd's per-file include state.
type sshdFlags struct {
	within    string // see SSHDMatch.Within
	neverA    bool   // start-up pass: Match lines in this file never match
	neverB    bool   // connection pass: same
	matchOnly bool   // connection pass: no Match line seen yet in the top-level section (SSHCFG_MATCH_ONLY)
}

// sshdState is the Match state shared by a file and the files it includes.
type sshdState struct {
	activeA, activeB bool
	block            int // index in matches, -1 outside a Match block
}

type sshdParser struct {
	include  func(pattern string) ([]File, error)
	cache    map[string][]sshdFile
	cfg      *SSHDConfig
	files    int
	bytes    int
	errs     errList
	patterns int
	fatal    bool // stop everything, as sshd exits
}

// SSHD parses the sshd configuration in data, read from the main file name,
// like OpenSSH's sshd does:
//
//   - a line is split into a keyword and arguments: the keyword ends at
//     whitespace, a double quote or one optional "=", the arguments are split
//     on blanks with double and single quotes and backslash escapes, and a
//     "#" at the start of an argument starts a comment;
//   - keywords are case-insensitive; for most the first value obtained wins
//     (see Get for the accumulating ones);
//   - Include is processed in place: each argument not starting with "/" or
//     "~" is made relative to /etc/ssh, then include returns the matching
//     files in lexical order (expanding the glob is the caller's job; no
//     match is not an error). An Include inside a Match block belongs to that
//     block, and its files cannot change the including file's Match state;
//     recursion deeper than 16 is an error, as in sshd;
//   - a Match block lasts until the next Match line or the end of the file
//     that holds it; "Match all" returns to global settings. Settings in a
//     conditional block never change the global value; they are recorded in
//     Matches.
//
// The error reports what sshd would refuse to start with (a keyword without
// argument, unbalanced quotes, a bad Match line, an empty Include argument,
// too deep includes) and failures of include; parsing continues after a bad
// line and the returned configuration holds everything read. Includes
// nested more than 16 deep, or reading more than 1024 files or 16 MiB in
// all (a configuration that includes itself), stop parsing altogether, as
// sshd exits; the configuration then holds what was read before. Unknown or
// deprecated keywords and keywords not allowed inside Match blocks are not
// checked: they are recorded like any other, so Get reports what is written.
func SSHD(name string, data []byte, include func(pattern string) ([]File, error)) (*SSHDConfig, error) {
	p := &sshdParser{
		include: include,
		cache:   map[string][]sshdFile{},
		cfg:     &SSHDConfig{global: sshdStore{}, matchAll: sshdStore{}},
	}
	st := &sshdState{activeA: true, activeB: false, block: -1}
	p.parseFile(name, string(data), 0, sshdFlags{matchOnly: true}, st)
	return p.cfg, p.errs.err()
}

func (p *sshdParser) parseFile(name, data string, depth int, fl sshdFlags, st *sshdState) {
	if p.fatal {
		return
	}
	if depth > sshdMaxDepth {
		p.errs.addf("%s: too many recursive configuration includes (more than %d levels)", name, sshdMaxDepth)
		p.fatal = true
		return
	}
	p.files++
	p.bytes += len(data)
	if p.files > sshdMaxFiles || p.bytes > sshdMaxBytes {
		p.errs.addf("%s: includes read more than %d files or %d bytes in all", name, sshdMaxFiles, sshdMaxBytes)
		p.fatal = true
		return
	}
	p.cfg.files = append(p.cfg.files, name)
	lr := newLineReaderString(data)
	for !p.fatal {
		raw, num, ok := lr.next()
		if !ok {
			return
		}
		if len(raw) > MaxLine {
			p.errs.addf("%s line %d: line longer than %d bytes", name, num, MaxLine)
			continue
		}
		p.line(raw, fmt.Sprintf("%s:%d", name, num), depth, &fl, st)
	}
}

const sshWhitespace = " \t\r\n"

// line processes one line, like sshd's process_server_config_line_depth.
func (p *sshdParser) line(raw, src string, depth int, fl *sshdFlags, st *sshdState) {
	// sshd handles lines as C strings and strips leading " \t\r" when it
	// loads the file, then trailing whitespace and form feeds (never the
	// first character).
	if i := strings.IndexByte(raw, 0); i >= 0 {
		raw = raw[:i]
	}
	line := strings.TrimLeft(raw, " \t\r")
	end := len(line)
	for end > 1 && strings.IndexByte(sshWhitespace+"\f", line[end-1]) >= 0 {
		end--
	}
	line = line[:end]
	if line == "" {
		return
	}
	kw, ok, rest, restOK := strdelim(line, true)
	if ok && kw == "" {
		kw, ok, rest, restOK = strdelim(rest, restOK)
	}
	if !ok || kw == "" || kw[0] == '#' {
		return
	}
	if !restOK || rest == "" {
		p.errs.addf("%s: no argument after keyword %q", src, short(kw))
		return
	}
	args, err := argvSplit(rest)
	if err != nil {
		p.errs.addf("%s: invalid quotes", src)
		return
	}
	k := SSHDKeyword(kw)
	switch k {
	case "include":
		p.includeLine(args, src, depth, fl, st)
	case "match":
		p.matchLine(args, src, fl, st)
	default:
		if len(args) == 0 {
			p.errs.addf("%s: no argument after keyword %q", src, short(kw))
			return
		}
		s := SSHDSetting{Keyword: k, Value: strings.Join(args, " "), Source: src}
		p.cfg.settings = append(p.cfg.settings, s)
		if st.block >= 0 {
			b := &p.cfg.matches[st.block]
			b.Settings = append(b.Settings, s)
		}
		if st.activeA {
			p.cfg.global.apply(s)
		}
		if st.activeB {
			p.cfg.matchAll.apply(s)
		}
	}
}

func (p *sshdParser) includeLine(args []string, src string, depth int, fl *sshdFlags, st *sshdState) {
	if len(args) == 0 {
		p.errs.addf("%s: Include missing filename argument", src)
		return
	}
	for _, a := range args {
		if a == "" {
			p.errs.addf("%s: Include with empty argument", src)
			return
		}
		pattern := a
		if a[0] != '/' && a[0] != '~' {
			pattern = sshdDir + "/" + a
		}
		files, err := p.resolve(pattern)
		if err != nil {
			p.errs.addf("%s: Include %s: %w", src, short(pattern), err)
			continue
		}
		saved := *st
		child := sshdFlags{neverA: !saved.activeA}
		if st.block >= 0 {
			b := p.cfg.matches[st.block]
			child.within = b.Within
			if !b.All {
				child.within = joinWithin(b.Within, b.Criteria)
			}
		}
		if fl.matchOnly {
			child.matchOnly = true
		} else {
			child.neverB = !saved.activeB
		}
		for _, f := range files {
			p.parseFile(f.name, f.data, depth+1, child, st)
			// Included files do not change the including file's Match state.
			*st = saved
		}
	}
}

// sshdFile is an included file, its content converted once.
type sshdFile struct{ name, data string }

// resolve returns the files matching pattern, asking include only once per
// pattern (sshd caches includes the same way).
func (p *sshdParser) resolve(pattern string) ([]sshdFile, error) {
	if files, ok := p.cache[pattern]; ok {
		return files, nil
	}
	if p.include == nil {
		return nil, fmt.Errorf("includes cannot be resolved")
	}
	p.patterns++
	if p.patterns > sshdMaxPatterns {
		return nil, fmt.Errorf("more than %d different Include patterns", sshdMaxPatterns)
	}
	files, err := p.include(pattern)
	if err != nil {
		return nil, err
	}
	out := make([]sshdFile, len(files))
	for i, f := range files {
		out[i] = sshdFile{f.Name, string(f.Data)}
	}
	p.cache[pattern] = out
	return out, nil
}

func (p *sshdParser) matchLine(args []string, src string, fl *sshdFlags, st *sshdState) {
	all := false
	switch {
	case len(args) == 0:
		p.errs.addf("%s: Bad Match condition: one or more attributes required", src)
	case strings.EqualFold(args[0], "all"):
		if len(args) > 1 {
			p.errs.addf("%s: Bad Match condition: 'all' cannot be combined with other Match attributes", src)
		} else {
			all = true
		}
	}
	st.activeA = all && !fl.neverA
	st.activeB = all && !fl.neverB
	fl.matchOnly = false
	p.cfg.matches = append(p.cfg.matches, SSHDMatch{
		Criteria: strings.Join(args, " "),
		Source:   src,
		All:      all,
		Within:   fl.within,
	})
	st.block = len(p.cfg.matches) - 1
}

func joinWithin(outer, criteria string) string {
	if outer == "" {
		return criteria
	}
	return outer + "; " + criteria
}

// strdelim returns the next token of s like OpenSSH's strdelim: the token
// ends at whitespace, a double quote (a quoted token runs to the closing
// quote) or, when equals is set, at one "=" that may be surrounded by
// whitespace. ok is false when sshd's strdelim returns NULL; restOK is false
// when the remaining string is NULL.
func strdelim(s string, restIn bool) (tok string, ok bool, rest string, restOK bool) {
	if !restIn {
		return "", false, "", false
	}
	i := strings.IndexAny(s, sshWhitespace+"\"=")
	if i < 0 {
		return s, true, "", false
	}
	if s[i] == '"' {
		t := s[:i] + s[i+1:]
		j := strings.IndexByte(t[i:], '"')
		if j < 0 {
			return "", false, "", false
		}
		j += i
		return t[:j], true, skipSSHSpace(t[j+1:]), true
	}
	wspace := s[i] == '='
	r := skipSSHSpace(s[i+1:])
	if !wspace && strings.HasPrefix(r, "=") {
		r = skipSSHSpace(r[1:])
	}
	return s[:i], true, r, true
}

func skipSSHSpace(s string) string { return strings.TrimLeft(s, sshWhitespace) }

// argvSplit splits the arguments of an sshd line like OpenSSH's argv_split
// with terminate_on_comment: blanks separate arguments, single and double
// quotes group, a backslash escapes a quote, a backslash or (outside
// quotes) a space, and an argument starting with "#" ends the line.
func argvSplit(s string) ([]string, error) {
	var out []string
	i := 0
	for i < len(s) {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\':
				if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || (quote == 0 && s[i+1] == ' ')) {
					i++
					b.WriteByte(s[i])
				} else {
					b.WriteByte(c)
				}
				continue
			case quote == 0 && (c == ' ' || c == '\t'):
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
				continue
			case quote != 0 && c == quote:
				quote = 0
				continue
			default:
				b.WriteByte(c)
				continue
			}
			break
		}
		out = append(out, b.String())
		if i >= len(s) && quote != 0 {
			return nil, fmt.Errorf("unterminated quote")
		}
	}
	return out, nil
}
