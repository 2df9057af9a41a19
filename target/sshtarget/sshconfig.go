package sshtarget

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// This file reads the part of ssh_config(5) a scan needs to reach a host
// the way `ssh alias` would: HostName, Port, User, IdentityFile and one
// level of ProxyJump, in Host blocks, with Include. It is a small parser
// rather than a dependency: the subset is small, and the parser is fuzzed.
// Match blocks other than "Match all" are taken as not matching (their
// criteria, such as exec, are not evaluated), and other keywords are
// ignored.

// Bounds on ssh_config input.
const (
	maxSSHConfigSize   = 1 << 20
	maxIncludeDepth    = 16
	maxIncludeMatches  = 256
	maxIncludeLoads    = 1024
	maxSSHConfigTokens = 1024
)

// ConfigFromSSHConfig returns the Config for connecting to alias as
// OpenSSH's client would: the first HostName, Port, User and ProxyJump
// that apply, and the first IdentityFile that exists (the first listed if
// none does). path is the ssh_config file; "" means ~/.ssh/config. That
// file may be missing (alias is then the host name); any other path
// given must exist. ProxyJump is followed one
// level: the jump host's own settings come from the same file, and a jump
// host that itself needs a jump is an error. Authentication secrets,
// KnownHostsFile and Sudo are the caller's to set.
func ConfigFromSSHConfig(alias, path string) (Config, error) {
	if alias == "" || strings.ContainsAny(alias, " \t\r\n\x00") {
		return Config{}, fmt.Errorf("ssh config: invalid host alias %q", alias)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	def := ""
	if home != "" {
		def = filepath.Join(home, ".ssh", "config")
	}
	if path == "" {
		if def == "" {
			return Config{}, errors.New("ssh config: no home directory to find ~/.ssh/config in")
		}
		path = def
	}
	r := &sshConfigReader{home: home, dir: filepath.Join(home, ".ssh")}
	opts, err := r.load(path)
	if errors.Is(err, fs.ErrNotExist) && filepath.Clean(path) == def {
		opts, err = nil, nil // most users have no ~/.ssh/config
	}
	if err != nil {
		return Config{}, err
	}
	return r.resolve(opts, alias, 0)
}

// sshOption is one line of ssh_config: a keyword (lower case) and its
// arguments, unquoted.
type sshOption struct {
	key  string
	args []string
	line int
}

// parseSSHConfig splits ssh_config text into options, as OpenSSH does:
// blank lines and lines starting with # are skipped, trailing white space
// is dropped, the keyword ends at white space or "=" (one "=" may follow
// it), and the arguments are white-space separated, with double or single
// quotes grouping and backslash escaping a quote, a backslash, or (outside
// quotes) a space; an unquoted argument starting with # starts a comment.
func parseSSHConfig(data []byte) ([]sshOption, error) {
	if len(data) > maxSSHConfigSize {
		return nil, fmt.Errorf("larger than %d bytes", maxSSHConfigSize)
	}
	var opts []sshOption
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, " \t\r\n\f")
		s := strings.TrimLeft(line, " \t")
		if s == "" || s[0] == '#' {
			continue
		}
		end := strings.IndexAny(s, " \t=")
		if end < 0 {
			end = len(s)
		}
		key := strings.ToLower(s[:end])
		if !isKeyword(key) {
			return nil, fmt.Errorf("line %d: invalid keyword %q", n+1, clip(s[:end], 40))
		}
		rest := strings.TrimLeft(s[end:], " \t")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t")
		}
		args, err := splitArgs(rest)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n+1, err)
		}
		opts = append(opts, sshOption{key: key, args: args, line: n + 1})
	}
	return opts, nil
}

func isKeyword(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// splitArgs is OpenSSH's argv_split with comments.
func splitArgs(s string) ([]string, error) {
	var args []string
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		if s[i] == '#' {
			break
		}
		if len(args) >= maxSSHConfigTokens {
			return nil, fmt.Errorf("more than %d arguments", maxSSHConfigTokens)
		}
		var b strings.Builder
		var quote byte
		for ; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '"' || s[i+1] == '\\' || quote == 0 && s[i+1] == ' '):
				i++
				b.WriteByte(s[i])
			case quote == 0 && (c == ' ' || c == '\t'):
				goto done
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote != 0 && c == quote:
				quote = 0
			default:
				b.WriteByte(c)
			}
		}
	done:
		if quote != 0 {
			return nil, errors.New("unterminated quote")
		}
		args = append(args, b.String())
	}
	return args, nil
}

// formatSSHOption writes an option back as a line parseSSHConfig reads as
// the same option (every argument double-quoted).
func formatSSHOption(o sshOption) string {
	var b strings.Builder
	b.WriteString(o.key)
	for _, a := range o.args {
		b.WriteString(` "`)
		for i := 0; i < len(a); i++ {
			if a[i] == '"' || a[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(a[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}

// sshSettings are the values found for one host.
type sshSettings struct {
	hostName, port, user, proxyJump string
	identityFiles                   []string
}

// sshConfigReader reads files, following Include.
type sshConfigReader struct {
	home string
	dir  string // where relative Include paths live (~/.ssh)
	// readFile is os.ReadFile, or the fuzz test's stand-in.
	readFile func(string) ([]byte, error)
	// glob is filepath.Glob, or a stand-in.
	glob func(string) ([]string, error)
	// loads counts files read, bounded: Include depth alone would let a
	// file including itself twice read it 2^16 times.
	loads int
}

func (r *sshConfigReader) load(path string) ([]sshOption, error) {
	if r.loads++; r.loads > maxIncludeLoads {
		return nil, fmt.Errorf("ssh config: more than %d files read (Include loop?)", maxIncludeLoads)
	}
	read := r.readFile
	if read == nil {
		read = readBounded
	}
	data, err := read(path)
	if err != nil {
		return nil, fmt.Errorf("ssh config: %w", err)
	}
	opts, err := parseSSHConfig(data)
	if err != nil {
		return nil, fmt.Errorf("ssh config %s: %w", path, err)
	}
	return opts, nil
}

// readBounded reads a config file of at most maxSSHConfigSize bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSSHConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSSHConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxSSHConfigSize)
	}
	return b, nil
}

// lookup applies opts to alias. active says whether the lines before the
// first Host apply (false inside an Include from a block that does not
// match: nothing in it can then match, as in OpenSSH).
func (r *sshConfigReader) lookup(opts []sshOption, alias string, st *sshSettings, outerActive bool, depth int) error {
	active := outerActive
	for _, o := range opts {
		switch o.key {
		case "host":
			active = outerActive && matchHost(o.args, alias)
			continue
		case "match":
			active = outerActive && len(o.args) == 1 && strings.EqualFold(o.args[0], "all")
			continue
		}
		if !active {
			continue
		}
		first := ""
		if len(o.args) > 0 {
			first = o.args[0]
		}
		switch o.key {
		case "hostname":
			setFirst(&st.hostName, first)
		case "port":
			setFirst(&st.port, first)
		case "user":
			setFirst(&st.user, first)
		case "proxyjump":
			setFirst(&st.proxyJump, first)
		case "identityfile":
			if first != "" {
				st.identityFiles = append(st.identityFiles, first)
			}
		case "include":
			if err := r.include(o, alias, st, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

func setFirst(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// include reads the files an Include names (globs; relative paths under
// ~/.ssh) and applies them in order.
func (r *sshConfigReader) include(o sshOption, alias string, st *sshSettings, depth int) error {
	if depth >= maxIncludeDepth {
		return fmt.Errorf("ssh config: line %d: Include nested more than %d deep", o.line, maxIncludeDepth)
	}
	glob := r.glob
	if glob == nil {
		glob = filepath.Glob
	}
	for _, pat := range o.args {
		switch {
		case strings.HasPrefix(pat, "~/"):
			pat = filepath.Join(r.home, pat[2:])
		case !filepath.IsAbs(pat):
			pat = filepath.Join(r.dir, pat)
		}
		files, err := glob(pat)
		if err != nil {
			return fmt.Errorf("ssh config: line %d: Include %q: %w", o.line, pat, err)
		}
		if len(files) > maxIncludeMatches {
			return fmt.Errorf("ssh config: line %d: Include %q matches more than %d files", o.line, pat, maxIncludeMatches)
		}
		for _, f := range files {
			sub, err := r.load(f)
			if err != nil {
				return err
			}
			if err := r.lookup(sub, alias, st, true, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// matchHost reports whether alias matches a Host line: some pattern
// matches and no negated (!) pattern does.
func matchHost(patterns []string, alias string) bool {
	alias = strings.ToLower(alias)
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.ToLower(strings.TrimPrefix(p, "!"))
		if !wildMatch(p, alias) {
			continue
		}
		if neg {
			return false
		}
		matched = true
	}
	return matched
}

// wildMatch matches s against a pattern of '*' (any run) and '?' (one
// byte), iteratively (no exponential backtracking).
func wildMatch(pat, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && (pat[px] == '?' || pat[px] == s[sx]):
			px++
			sx++
		case px < len(pat) && pat[px] == '*':
			starP, starS = px, sx
			px++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// resolve turns the settings for alias into a Config; jumps counts the
// ProxyJump levels followed.
func (r *sshConfigReader) resolve(opts []sshOption, alias string, jumps int) (Config, error) {
	var st sshSettings
	if err := r.lookup(opts, alias, &st, true, 0); err != nil {
		return Config{}, err
	}
	cfg := Config{Host: alias}
	if st.hostName != "" {
		h, err := expandTokens(st.hostName, map[byte]string{'h': alias})
		if err != nil {
			return Config{}, fmt.Errorf("ssh config for %s: HostName: %w", alias, err)
		}
		cfg.Host = h
	}
	if st.port != "" {
		p, err := strconv.Atoi(st.port)
		if err != nil || p < 1 || p > 65535 {
			return Config{}, fmt.Errorf("ssh config for %s: bad Port %q", alias, st.port)
		}
		cfg.Port = p
	}
	cfg.User = st.user
	if len(st.identityFiles) > 0 {
		local := ""
		if u, err := user.Current(); err == nil {
			local = u.Username
		}
		remote := cfg.User
		if remote == "" {
			remote = local
		}
		port := DefaultPort
		if cfg.Port != 0 {
			port = cfg.Port
		}
		tokens := map[byte]string{'d': r.home, 'u': local, 'h': cfg.Host, 'r': remote, 'p': strconv.Itoa(port), 'n': alias}
		for _, f := range st.identityFiles {
			if strings.EqualFold(f, "none") {
				continue
			}
			if strings.HasPrefix(f, "~/") {
				f = "%d/" + f[2:]
			}
			p, err := expandTokens(f, tokens)
			if err != nil {
				return Config{}, fmt.Errorf("ssh config for %s: IdentityFile: %w", alias, err)
			}
			if !filepath.IsAbs(p) {
				p = filepath.Join(r.home, p)
			}
			if cfg.PrivateKeyFile == "" {
				cfg.PrivateKeyFile = p
			}
			if _, err := os.Stat(p); err == nil {
				cfg.PrivateKeyFile = p
				break
			}
		}
	}
	if st.proxyJump != "" && !strings.EqualFold(st.proxyJump, "none") {
		if jumps > 0 {
			return Config{}, fmt.Errorf("ssh config for %s: jump host %s has its own ProxyJump %q: only one level is supported", alias, alias, st.proxyJump)
		}
		if strings.Contains(st.proxyJump, ",") {
			return Config{}, fmt.Errorf("ssh config for %s: ProxyJump %q: chains of jump hosts are not supported", alias, st.proxyJump)
		}
		ju, jh, jp, err := parseJump(st.proxyJump)
		if err != nil {
			return Config{}, fmt.Errorf("ssh config for %s: %w", alias, err)
		}
		j, err := r.resolve(opts, jh, jumps+1)
		if err != nil {
			return Config{}, err
		}
		if ju != "" {
			j.User = ju
		}
		if jp != 0 {
			j.Port = jp
		}
		cfg.Jump = &j
	}
	return cfg, nil
}

// expandTokens replaces %x tokens from vals, and %% with %.
func expandTokens(s string, vals map[byte]string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i >= len(s) {
			return "", fmt.Errorf("%q ends in %%", s)
		}
		if s[i] == '%' {
			b.WriteByte('%')
			continue
		}
		v, ok := vals[s[i]]
		if !ok {
			return "", fmt.Errorf("%q: token %%%c is not supported", s, s[i])
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// ParseJump returns the Config of a jump host written as ProxyJump and
// ssh -J write it, [user@]host[:port] or ssh://[user@]host[:port], for
// Config.Jump. Only the one host is parsed: the caller adds what else it
// knows (ConfigFromSSHConfig looks the host up as an alias too). A chain
// ("a,b") is an error: one level of jump is supported.
func ParseJump(spec string) (*Config, error) {
	if strings.Contains(spec, ",") {
		return nil, fmt.Errorf("jump host %q: chains of jump hosts are not supported", spec)
	}
	u, h, p, err := parseJump(spec)
	if err != nil {
		return nil, err
	}
	return &Config{Host: h, Port: p, User: u}, nil
}

// parseJump parses a ProxyJump destination: [user@]host[:port] or
// ssh://[user@]host[:port], with an IPv6 address in brackets.
func parseJump(s string) (userName, host string, port int, err error) {
	bad := func() (string, string, int, error) {
		return "", "", 0, fmt.Errorf("bad ProxyJump %q", s)
	}
	rest := strings.TrimPrefix(s, "ssh://")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		userName, rest = rest[:i], rest[i+1:]
		if userName == "" {
			return bad()
		}
	}
	host = rest
	var ps string
	switch {
	case strings.HasPrefix(rest, "["):
		h, p, err := net.SplitHostPort(rest)
		if err != nil {
			if !strings.HasSuffix(rest, "]") {
				return bad()
			}
			h, p = rest[1:len(rest)-1], ""
		}
		host, ps = h, p
	case strings.Count(rest, ":") == 1:
		host, ps, _ = strings.Cut(rest, ":")
	}
	if host == "" || strings.ContainsAny(host, " \t/@") {
		return bad()
	}
	if ps != "" {
		if port, err = strconv.Atoi(ps); err != nil || port < 1 || port > 65535 {
			return bad()
		}
	}
	return userName, host, port, nil
}
