package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/policy"
)

// loadLibrary loads the built-in library plus the content of extra files.
func loadLibrary(files ...string) (*policy.Library, []*policy.Policy, error) {
	lib, err := library.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in library: %w", err)
	}
	var filePolicies []*policy.Policy
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, nil, err
		}
		f, err := policy.Parse(name, data)
		if err != nil {
			return nil, nil, err
		}
		if len(f.Policies) == 0 {
			return nil, nil, fmt.Errorf("%s: the file defines no policy to run (add a policies: section)", name)
		}
		if err := lib.AddFile(f); err != nil {
			return nil, nil, err
		}
		filePolicies = append(filePolicies, f.Policies...)
	}
	if err := lib.Check(); err != nil {
		return nil, nil, err
	}
	return lib, filePolicies, nil
}

// isFile tells a policy file argument from a policy ID.
func isFile(arg string) bool {
	if strings.ContainsRune(arg, '/') || strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	_, err := os.Stat(arg)
	return err == nil
}

// resolvePolicies turns --policy arguments (IDs or files) into policies.
func resolvePolicies(args []string) (*policy.Library, []*policy.Policy, error) {
	var files, ids []string
	for _, a := range args {
		if isFile(a) {
			files = append(files, a)
		} else {
			ids = append(ids, a)
		}
	}
	lib, fromFiles, err := loadLibrary(files...)
	if err != nil {
		return nil, nil, err
	}
	var out []*policy.Policy
	for _, id := range ids {
		p := lib.Policy(id)
		if p == nil {
			return nil, nil, fmt.Errorf("unknown policy %q (see plumb policy list)", id)
		}
		out = append(out, p)
	}
	out = append(out, fromFiles...)
	if len(out) == 0 {
		p := lib.Policy(library.DefaultPolicy)
		if p == nil {
			return nil, nil, fmt.Errorf("the built-in library has no default policy %q", library.DefaultPolicy)
		}
		out = append(out, p)
	}
	return lib, out, nil
}
