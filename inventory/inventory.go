// Package inventory reads the hosts a scan covers from a YAML file: hosts,
// groups of hosts sharing settings, and per-host SSH user, port, key and
// privilege. Secrets never appear in the file: it names the environment
// variable or the file that holds each one, and they are read only when a
// host is dialled.
package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest inventory file Parse accepts.
const MaxFileSize = 16 << 20

// Inventory is a parsed inventory file.
type Inventory struct {
	Hosts []Host
}

// Host is one host to scan with its settings resolved: the file's
// defaults, then each of its groups in order, then its own entry.
type Host struct {
	// Name identifies the host in reports (default: Address).
	Name    string
	Address string
	Port    int // default 22
	User    string
	Groups  []string
	Tags    []string

	// KeyFile is a private key; Passphrase decrypts it.
	KeyFile    string
	Passphrase Secret
	Password   Secret
	// Agent uses the ssh-agent at SSH_AUTH_SOCK.
	Agent bool
	// Sudo runs collection through sudo (one elevation per scan);
	// SudoPassword answers sudo's prompt when the rule needs one.
	Sudo         bool
	SudoPassword Secret
	KnownHosts   string
	ProxyJump    string
	// Line is where the host's entry starts in the file.
	Line int
}

// Secret names where a secret is: an environment variable or a file. Its
// value is read by Value and never kept or printed by this package.
type Secret struct {
	Env  string
	File string
}

// IsZero reports whether no secret is configured.
func (s Secret) IsZero() bool { return s.Env == "" && s.File == "" }

// String says where the secret comes from, never what it is.
func (s Secret) String() string {
	switch {
	case s.Env != "":
		return "$" + s.Env
	case s.File != "":
		return "file " + s.File
	}
	return "none"
}

// Value reads the secret. A trailing newline of a file is dropped.
func (s Secret) Value() (string, error) {
	switch {
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return v, nil
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// entry is the shape shared by defaults, groups and hosts in the file.
type entry struct {
	Name                string   `yaml:"name"`
	Host                string   `yaml:"host"`
	Port                int      `yaml:"port"`
	User                string   `yaml:"user"`
	Groups              []string `yaml:"groups"`
	Tags                []string `yaml:"tags"`
	Key                 string   `yaml:"key"`
	PassphraseEnv       string   `yaml:"passphrase_env"`
	PassphraseFile      string   `yaml:"passphrase_file"`
	PasswordEnv         string   `yaml:"password_env"`
	PasswordFile        string   `yaml:"password_file"`
	Agent               *bool    `yaml:"agent"`
	Sudo                *bool    `yaml:"sudo"`
	SudoPasswordEnv     string   `yaml:"sudo_password_env"`
	SudoPasswordFile    string   `yaml:"sudo_password_file"`
	KnownHosts          string   `yaml:"known_hosts"`
	ProxyJump           string   `yaml:"proxy_jump"`
	Password            any      `yaml:"password"`
	Passphrase          any      `yaml:"passphrase"`
	SudoPassword        any      `yaml:"sudo_password"`
	ForbiddenPrivateKey any      `yaml:"private_key"`
}

type file struct {
	Defaults entry            `yaml:"defaults"`
	Groups   map[string]entry `yaml:"groups"`
	Hosts    []yaml.Node      `yaml:"hosts"`
}

// Error is a problem in an inventory file, located by line.
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ReadFile reads and parses an inventory file.
func ReadFile(name string) (*Inventory, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(&limited{f, MaxFileSize + 1}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if buf.Len() > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	return Parse(name, buf.Bytes())
}

type limited struct {
	f *os.File
	n int64
}

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// Parse parses inventory data; name is used in errors. Unknown keys are
// errors, and a secret written into the file itself is refused.
func Parse(name string, data []byte) (*Inventory, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes", MaxFileSize)}
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, yamlError(name, err)
	}
	if err := checkEntry(name, 0, "defaults", f.Defaults); err != nil {
		return nil, err
	}
	for g, e := range f.Groups {
		if err := checkEntry(name, 0, "groups."+g, e); err != nil {
			return nil, err
		}
		if len(e.Groups) > 0 || e.Host != "" || e.Name != "" {
			return nil, &Error{File: name, Field: "groups." + g, Msg: "a group sets host settings; it cannot name hosts, groups or a name"}
		}
	}
	if len(f.Hosts) == 0 {
		return nil, &Error{File: name, Field: "hosts", Msg: "no hosts"}
	}
	inv := &Inventory{}
	seen := map[string]int{}
	for i := range f.Hosts {
		n := &f.Hosts[i]
		field := fmt.Sprintf("hosts[%d]", i)
		var e entry
		if n.Kind == yaml.ScalarNode {
			e.Host = n.Value // "- web1.example.com"
		} else {
			// Node.Decode does not refuse unknown keys as the Decoder does.
			if err := checkKeys(name, field, n); err != nil {
				return nil, err
			}
			if err := n.Decode(&e); err != nil {
				return nil, yamlError(name, err)
			}
		}
		if err := checkEntry(name, n.Line, field, e); err != nil {
			return nil, err
		}
		if e.Host == "" {
			return nil, &Error{File: name, Line: n.Line, Field: field + ".host", Msg: "missing"}
		}
		h := Host{Port: 22, Line: n.Line}
		apply(&h, f.Defaults)
		for _, g := range e.Groups {
			ge, ok := f.Groups[g]
			if !ok {
				return nil, &Error{File: name, Line: n.Line, Field: field + ".groups", Msg: fmt.Sprintf("unknown group %q", g)}
			}
			apply(&h, ge)
		}
		apply(&h, e)
		h.Groups = slices.Clone(e.Groups)
		if h.Name == "" {
			h.Name = h.Address
			if h.Port != 22 {
				h.Name += ":" + strconv.Itoa(h.Port)
			}
		}
		if prev, ok := seen[h.Name]; ok {
			return nil, &Error{File: name, Line: n.Line, Field: field, Msg: fmt.Sprintf("host %q is already listed at line %d (give one a different name)", h.Name, prev)}
		}
		seen[h.Name] = n.Line
		inv.Hosts = append(inv.Hosts, h)
	}
	return inv, nil
}

// entryKeys are the keys an entry may have.
var entryKeys = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[entry]()
	for i := range t.NumField() {
		m[strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]] = true
	}
	return m
}()

func checkKeys(name, field string, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &Error{File: name, Line: n.Line, Field: field, Msg: "want a host name or a mapping of host settings"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !entryKeys[k.Value] {
			return &Error{File: name, Line: k.Line, Field: field, Msg: fmt.Sprintf("field %s not found", k.Value)}
		}
	}
	return nil
}

// apply layers the settings an entry sets onto h.
func apply(h *Host, e entry) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&h.Name, e.Name)
	set(&h.Address, e.Host)
	if e.Port != 0 {
		h.Port = e.Port
	}
	set(&h.User, e.User)
	set(&h.KeyFile, e.Key)
	setSecret(&h.Passphrase, e.PassphraseEnv, e.PassphraseFile)
	setSecret(&h.Password, e.PasswordEnv, e.PasswordFile)
	setSecret(&h.SudoPassword, e.SudoPasswordEnv, e.SudoPasswordFile)
	if e.Agent != nil {
		h.Agent = *e.Agent
	}
	if e.Sudo != nil {
		h.Sudo = *e.Sudo
	}
	set(&h.KnownHosts, e.KnownHosts)
	set(&h.ProxyJump, e.ProxyJump)
	for _, t := range e.Tags {
		if !slices.Contains(h.Tags, t) {
			h.Tags = append(h.Tags, t)
		}
	}
}

func setSecret(s *Secret, env, file string) {
	if env != "" {
		*s = Secret{Env: env}
	}
	if file != "" {
		*s = Secret{File: file}
	}
}

// checkEntry refuses what an entry must not say.
func checkEntry(name string, line int, field string, e entry) error {
	for k, v := range map[string]any{"password": e.Password, "passphrase": e.Passphrase, "sudo_password": e.SudoPassword, "private_key": e.ForbiddenPrivateKey} {
		if v != nil {
			return &Error{File: name, Line: line, Field: field + "." + k, Msg: "secrets are not written into the inventory: use " + k + "_env (an environment variable) or " + k + "_file"}
		}
	}
	if e.Port < 0 || e.Port > 65535 {
		return &Error{File: name, Line: line, Field: field + ".port", Msg: fmt.Sprintf("%d is not a TCP port", e.Port)}
	}
	pairs := [][3]string{{"passphrase", e.PassphraseEnv, e.PassphraseFile}, {"password", e.PasswordEnv, e.PasswordFile}, {"sudo_password", e.SudoPasswordEnv, e.SudoPasswordFile}}
	for _, p := range pairs {
		if p[1] != "" && p[2] != "" {
			return &Error{File: name, Line: line, Field: field, Msg: fmt.Sprintf("both %s_env and %s_file are set; choose one", p[0], p[0])}
		}
	}
	if strings.ContainsAny(e.Host, " \t\n/@") {
		return &Error{File: name, Line: line, Field: field + ".host", Msg: fmt.Sprintf("%q is not a host name or address (give the user in user:)", e.Host)}
	}
	return nil
}

// yamlError turns a yaml.v3 error ("yaml: line 4: field x not found in
// type inventory.entry") into an Error naming the file and line.
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line, msg = n, rest[i+2:]
			}
		}
	}
	msg = strings.Replace(msg, " in type inventory.entry", "", 1)
	msg = strings.Replace(msg, " in type inventory.file", "", 1)
	return &Error{File: name, Line: line, Msg: msg}
}
