// Package library is Plumb's built-in content: the controls Plumb checks out
// of the box and the policies that select them (plumb-linux-l1,
// plumb-linux-l2, plumb-linux-stig and plumb-pci-dss-4). The content is a set
// of ordinary policy files, in the format users write their own in
// (docs/policy-format.md), embedded in the binary at build time. A control's
// references name the benchmark sections and requirements it corresponds to;
// its title, rationale and remediation are Plumb's own text.
package library

import (
	"embed"
	"errors"
	"io/fs"
	"sort"

	"github.com/plumbhq/plumb/policy"
)

// DefaultPolicy is the policy a scan runs when none is named.
const DefaultPolicy = "plumb-linux-l1"

//go:embed *.yaml
var content embed.FS

// FS returns the built-in policy files, for tools that want the raw content.
func FS() fs.FS { return content }

// Load parses the built-in content into a new library and checks its cross
// references. Each call returns a fresh library the caller may extend with
// its own files (Library.AddFile). Sources read "library/FILE:LINE".
func Load() (*policy.Library, error) {
	names, err := fs.Glob(content, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	lib := policy.NewLibrary()
	var errs []error
	for _, name := range names {
		data, err := content.ReadFile(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := policy.Parse("library/"+name, data)
		if err == nil {
			err = lib.AddFile(f)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := lib.Check(); err != nil {
		return nil, err
	}
	return lib, nil
}
