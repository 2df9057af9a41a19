package policy

import "slices"

// Technologies Plumb's built-in library knows, and the aliases a control
// may list instead of spelling each one out.
var (
	DebianFamily = []string{"debian-11", "debian-12", "ubuntu-22.04", "ubuntu-24.04"}
	RHELFamily   = []string{"rhel-9"}
	aliases      = map[string][]string{
		"debian-family": DebianFamily,
		"rhel-family":   RHELFamily,
		"linux":         append(slices.Clone(DebianFamily), RHELFamily...),
	}
)

// KnownTechnology reports whether t is a technology id or alias Plumb knows.
func KnownTechnology(t string) bool {
	if _, ok := aliases[t]; ok {
		return true
	}
	return slices.Contains(aliases["linux"], t)
}

// Supports reports whether the control applies to technology tech
// (a concrete id such as "debian-12"), expanding aliases.
func (c *Control) Supports(tech string) bool {
	for _, t := range c.Technologies {
		if t == tech || slices.Contains(aliases[t], tech) {
			return true
		}
	}
	return false
}
