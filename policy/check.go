package policy

// Check is a closed set of check kinds: exactly one field is set. Each kind
// maps onto one probe of the engine, so native controls and (later) OVAL
// tests share the same collection.
type Check struct {
	File     *FileCheck     `yaml:"file,omitempty" json:"file,omitempty"`
	Line     *LineCheck     `yaml:"line,omitempty" json:"line,omitempty"`
	SSHD     *SSHDCheck     `yaml:"sshd,omitempty" json:"sshd,omitempty"`
	Setting  *SettingCheck  `yaml:"setting,omitempty" json:"setting,omitempty"`
	Sysctl   *SysctlCheck   `yaml:"sysctl,omitempty" json:"sysctl,omitempty"`
	Package  *PackageCheck  `yaml:"package,omitempty" json:"package,omitempty"`
	Service  *ServiceCheck  `yaml:"service,omitempty" json:"service,omitempty"`
	Mount    *MountCheck    `yaml:"mount,omitempty" json:"mount,omitempty"`
	Module   *ModuleCheck   `yaml:"module,omitempty" json:"module,omitempty"`
	Accounts *AccountsCheck `yaml:"accounts,omitempty" json:"accounts,omitempty"`
	PAM      *PAMCheck      `yaml:"pam,omitempty" json:"pam,omitempty"`
	Search   *SearchCheck   `yaml:"search,omitempty" json:"search,omitempty"`
	Command  *CommandCheck  `yaml:"command,omitempty" json:"command,omitempty"`
	// Manual describes a control that has no automated check: Not checked.
	Manual string `yaml:"manual,omitempty" json:"manual,omitempty"`
	// All passes when every sub-check passes; Any when at least one does.
	All []Check `yaml:"all,omitempty" json:"all,omitempty"`
	Any []Check `yaml:"any,omitempty" json:"any,omitempty"`
}

// Compare is the closed operator set shared by value checks. Op is one of
// the Op* constants; Value (or Values for in/not_in) is the expected value.
// Default is the value the consuming program uses when the key is unset;
// without it an unset key fails.
type Compare struct {
	Op      string   `yaml:"op,omitempty" json:"op,omitempty"`
	Value   string   `yaml:"value,omitempty" json:"value,omitempty"`
	Values  []string `yaml:"values,omitempty" json:"values,omitempty"`
	Default *string  `yaml:"default,omitempty" json:"default,omitempty"`
}

// Operators. equals is the default when Op is empty.
const (
	OpEquals      = "equals"       // exact string
	OpIEquals     = "iequals"      // case-insensitive string
	OpNotEquals   = "not_equals"   // string differs (case-insensitive)
	OpMatches     = "matches"      // RE2 regular expression matches
	OpNotMatches  = "not_matches"  // RE2 regular expression does not match
	OpIn          = "in"           // case-insensitive member of Values
	OpNotIn       = "not_in"       // not a member of Values
	OpLT          = "lt"           // integer <
	OpLE          = "le"           // integer <=
	OpGT          = "gt"           // integer >
	OpGE          = "ge"           // integer >=
	OpContains    = "contains"     // comma/space separated list contains Value
	OpNotContains = "not_contains" // list does not contain Value
)

// Ops lists every operator, for validation and documentation.
var Ops = []string{OpEquals, OpIEquals, OpNotEquals, OpMatches, OpNotMatches, OpIn, OpNotIn,
	OpLT, OpLE, OpGT, OpGE, OpContains, OpNotContains}

// FileCheck checks that a file exists (or not) and its mode and ownership.
// Mode is the most permissive mode allowed: any permission bit outside it
// fails (so "0640" passes 0600 and fails 0644).
type FileCheck struct {
	Path   string `yaml:"path" json:"path"`
	Exists *bool  `yaml:"exists,omitempty" json:"exists,omitempty"` // default true
	Mode   string `yaml:"mode,omitempty" json:"mode,omitempty"`
	Owner  string `yaml:"owner,omitempty" json:"owner,omitempty"` // user name or numeric uid
	Group  string `yaml:"group,omitempty" json:"group,omitempty"` // group name or numeric gid
}

// LineCheck looks for a multi-line RE2 pattern in one file or in every file
// matched by a glob. Expect is "present" (default: some line matches in
// some file) or "absent" (no line matches in any file).
type LineCheck struct {
	Path    string `yaml:"path" json:"path"`
	Pattern string `yaml:"pattern" json:"pattern"`
	Expect  string `yaml:"expect,omitempty" json:"expect,omitempty"`
}

// SSHDCheck compares one effective sshd setting, read with sshd's own rules:
// keywords are case-insensitive, the first value wins, Include is followed,
// settings inside Match blocks do not change the global value.
type SSHDCheck struct {
	Key     string `yaml:"key" json:"key"`
	Compare `yaml:",inline"`
}

// SettingCheck compares a key in a configuration file of a known format.
// Format is login.defs (KEY VALUE, last wins), keyvalue ("key = value" or
// "key value", last wins; pwquality.conf, faillock.conf, journald.conf,
// chrony.conf...). Path may be a glob; files are read in lexical order.
type SettingCheck struct {
	Path    string `yaml:"path" json:"path"`
	Format  string `yaml:"format" json:"format"`
	Key     string `yaml:"key" json:"key"`
	Compare `yaml:",inline"`
}

// SysctlCheck compares a kernel parameter. Source "runtime" reads the
// running kernel; "config" reads the persisted configuration with
// systemd-sysctl's file ordering; "both" (default) requires both, and on a
// target with no running kernel (a root directory) checks config only.
type SysctlCheck struct {
	Key     string `yaml:"key" json:"key"`
	Source  string `yaml:"source,omitempty" json:"source,omitempty"`
	Compare `yaml:",inline"`
}

// PackageCheck checks that a package is installed (default) or absent, read
// from the package database (dpkg status, or rpm). MinVersion compares with
// the distribution's version ordering.
type PackageCheck struct {
	Name       string `yaml:"name" json:"name"`
	Installed  *bool  `yaml:"installed,omitempty" json:"installed,omitempty"`
	MinVersion string `yaml:"min_version,omitempty" json:"min_version,omitempty"`
}

// ServiceCheck checks a systemd unit's enablement from unit files and
// .wants/ links (no D-Bus). State is enabled, disabled (not enabled: absent,
// disabled and masked all pass) or masked.
type ServiceCheck struct {
	Unit  string `yaml:"unit" json:"unit"`
	State string `yaml:"state" json:"state"`
}

// MountCheck checks a mount point: Separate requires its own file system;
// Options lists mount options that must be set. A live host is read from its
// mount table, a root directory from its etc/fstab.
type MountCheck struct {
	Path     string   `yaml:"path" json:"path"`
	Separate bool     `yaml:"separate,omitempty" json:"separate,omitempty"`
	Options  []string `yaml:"options,omitempty" json:"options,omitempty"`
}

// ModuleCheck checks that a kernel module cannot be loaded: modprobe.d has
// "install NAME /bin/false" (or /bin/true) or blacklists it, and on a live
// host it is not loaded now.
type ModuleCheck struct {
	Name     string `yaml:"name" json:"name"`
	Disabled bool   `yaml:"disabled" json:"disabled"`
}

// AccountsCheck applies a rule to the user and group databases
// (passwd, shadow, group). Rules: unique_uids, unique_gids,
// unique_usernames, unique_groupnames, root_only_uid0, root_gid0,
// no_empty_passwords, shadowed_passwords, groups_exist, and the ageing
// rules max_days, min_days, warn_days, inactive_days (compared with Compare
// for every user that has a usable password).
type AccountsCheck struct {
	Rule    string `yaml:"rule" json:"rule"`
	Compare `yaml:",inline"`
}

// PAMCheck looks at PAM stack lines: a line of Type for Module in File
// must be present (default) or absent; with Arg, the module argument
// Arg (=value) is compared.
type PAMCheck struct {
	File    string `yaml:"file" json:"file"`
	Type    string `yaml:"type" json:"type"`
	Module  string `yaml:"module" json:"module"`
	Present *bool  `yaml:"present,omitempty" json:"present,omitempty"`
	Arg     string `yaml:"arg,omitempty" json:"arg,omitempty"`
	Compare `yaml:",inline"`
}

// SearchCheck searches the whole local file system (one shared walk per
// scan) and passes when nothing outside Allow (globs) is found. Kind is
// world_writable_files, world_writable_dirs (without sticky bit), unowned
// (no user or group in the target's databases), suid or sgid.
type SearchCheck struct {
	Kind  string   `yaml:"kind" json:"kind"`
	Allow []string `yaml:"allow,omitempty" json:"allow,omitempty"`
}

// CommandCheck runs a command by argv (never through a shell) on a live
// target and compares its standard output (trimmed). Exit, when set, is the
// required exit status. A root directory never runs anything: Error.
type CommandCheck struct {
	Argv    []string `yaml:"argv" json:"argv"`
	Exit    *int     `yaml:"exit,omitempty" json:"exit,omitempty"`
	Compare `yaml:",inline"`
}

// Kind names the check kind that is set ("all", "any", "manual" included).
func (c *Check) Kind() string {
	switch {
	case c.File != nil:
		return "file"
	case c.Line != nil:
		return "line"
	case c.SSHD != nil:
		return "sshd"
	case c.Setting != nil:
		return "setting"
	case c.Sysctl != nil:
		return "sysctl"
	case c.Package != nil:
		return "package"
	case c.Service != nil:
		return "service"
	case c.Mount != nil:
		return "mount"
	case c.Module != nil:
		return "module"
	case c.Accounts != nil:
		return "accounts"
	case c.PAM != nil:
		return "pam"
	case c.Search != nil:
		return "search"
	case c.Command != nil:
		return "command"
	case c.Manual != "":
		return "manual"
	case c.All != nil:
		return "all"
	case c.Any != nil:
		return "any"
	}
	return ""
}

// WithValue returns a copy of c in which every leaf comparison's expected
// Value is v (a policy override). Checks without a value are unchanged.
func (c Check) WithValue(v string) Check {
	set := func(cmp Compare) Compare {
		if cmp.Op == OpIn || cmp.Op == OpNotIn {
			cmp.Values = []string{v}
		} else {
			cmp.Value = v
		}
		return cmp
	}
	switch {
	case c.SSHD != nil:
		x := *c.SSHD
		x.Compare = set(x.Compare)
		c.SSHD = &x
	case c.Setting != nil:
		x := *c.Setting
		x.Compare = set(x.Compare)
		c.Setting = &x
	case c.Sysctl != nil:
		x := *c.Sysctl
		x.Compare = set(x.Compare)
		c.Sysctl = &x
	case c.Accounts != nil:
		x := *c.Accounts
		x.Compare = set(x.Compare)
		c.Accounts = &x
	case c.PAM != nil:
		x := *c.PAM
		x.Compare = set(x.Compare)
		c.PAM = &x
	case c.Command != nil:
		x := *c.Command
		x.Compare = set(x.Compare)
		c.Command = &x
	case c.File != nil && c.File.Mode != "":
		x := *c.File
		x.Mode = v
		c.File = &x
	case c.All != nil:
		c.All = withValues(c.All, v)
	case c.Any != nil:
		c.Any = withValues(c.Any, v)
	}
	return c
}

// HasValue reports whether some leaf of c compares against an expected
// value, so that a policy's value override has something to replace.
func (c *Check) HasValue() bool {
	switch {
	case c.SSHD != nil, c.Setting != nil, c.Sysctl != nil:
		return true
	case c.Accounts != nil:
		return c.Accounts.Op != "" || c.Accounts.Value != "" || c.Accounts.Values != nil
	case c.PAM != nil:
		return c.PAM.Op != "" || c.PAM.Value != ""
	case c.Command != nil:
		return c.Command.Op != "" || c.Command.Value != ""
	case c.File != nil:
		return c.File.Mode != ""
	}
	for i := range c.All {
		if c.All[i].HasValue() {
			return true
		}
	}
	for i := range c.Any {
		if c.Any[i].HasValue() {
			return true
		}
	}
	return false
}

func withValues(cs []Check, v string) []Check {
	out := make([]Check, len(cs))
	for i, c := range cs {
		out[i] = c.WithValue(v)
	}
	return out
}
