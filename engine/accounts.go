package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// accountObjects names the databases each accounts rule reads.
func accountObjects(rule string) []object {
	switch rule {
	case "unique_uids", "unique_usernames", "root_only_uid0", "root_gid0", "shadowed_passwords":
		return []object{{kPasswd, ""}}
	case "unique_gids", "unique_groupnames":
		return []object{{kGroup, ""}}
	case "groups_exist":
		return []object{{kPasswd, ""}, {kGroup, ""}}
	case "no_empty_passwords":
		return []object{{kPasswd, ""}, {kShadow, ""}}
	default: // ageing rules
		return []object{{kShadow, ""}}
	}
}

func (e *evaluator) accounts(ctx context.Context, ac *policy.AccountsCheck) outcome {
	var users []parse.User
	var shadow []parse.Shadow
	var groups []parse.Group
	expected := describeRule(ac)
	for _, o := range accountObjects(ac.Rule) {
		v, err := e.c.get(ctx, o)
		if err != nil {
			return errOutcome(expected, err)
		}
		switch x := v.(type) {
		case []parse.User:
			users = x
		case []parse.Shadow:
			shadow = x
		case []parse.Group:
			groups = x
		}
	}
	var bad []string
	switch ac.Rule {
	case "unique_uids":
		bad = duplicates(len(users), func(i int) (string, string) { return "uid " + strconv.Itoa(users[i].UID), users[i].Name })
	case "unique_usernames":
		bad = duplicates(len(users), func(i int) (string, string) { return "user " + users[i].Name, "line " + strconv.Itoa(users[i].Line) })
	case "unique_gids":
		bad = duplicates(len(groups), func(i int) (string, string) { return "gid " + strconv.Itoa(groups[i].GID), groups[i].Name })
	case "unique_groupnames":
		bad = duplicates(len(groups), func(i int) (string, string) { return "group " + groups[i].Name, "line " + strconv.Itoa(groups[i].Line) })
	case "root_only_uid0":
		for _, u := range users {
			if u.UID == 0 && u.Name != "root" {
				bad = append(bad, u.Name+" has uid 0")
			}
		}
	case "root_gid0":
		for _, u := range users {
			if u.Name == "root" && u.GID != 0 {
				bad = append(bad, fmt.Sprintf("root has gid %d", u.GID))
			}
		}
	case "shadowed_passwords":
		for _, u := range users {
			if u.Password != "x" {
				bad = append(bad, u.Name+": password field is not x")
			}
		}
	case "groups_exist":
		have := map[int]bool{}
		for _, g := range groups {
			have[g.GID] = true
		}
		for _, u := range users {
			if !have[u.GID] {
				bad = append(bad, fmt.Sprintf("%s: gid %d not in /etc/group", u.Name, u.GID))
			}
		}
	case "no_empty_passwords":
		for _, u := range users {
			if u.Password == "" {
				bad = append(bad, u.Name+": empty password in /etc/passwd")
			}
		}
		for _, s := range shadow {
			if s.Hash == "" {
				bad = append(bad, s.Name+": empty password in /etc/shadow")
			}
		}
	case "max_days", "min_days", "warn_days", "inactive_days":
		checked := 0
		for _, s := range shadow {
			if !s.Usable() {
				continue
			}
			checked++
			field := map[string]*int{"max_days": s.Max, "min_days": s.Min, "warn_days": s.Warn, "inactive_days": s.Inactive}[ac.Rule]
			val := ""
			if field != nil {
				val = strconv.Itoa(*field)
			}
			ok, shown, err := compare(ac.Compare, val, field != nil)
			if err != nil {
				return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: err.Error()}
			}
			if !ok {
				bad = append(bad, s.Name+": "+shown)
			}
		}
		if len(bad) == 0 {
			return pass(expected, fmt.Sprintf("%d users with a password, all compliant", checked))
		}
	default:
		return outcome{status: result.Error, expected: expected, reason: result.ReasonInvalidCheck, message: "unknown accounts rule " + ac.Rule}
	}
	if len(bad) == 0 {
		return pass(expected, "none found")
	}
	if len(bad) > maxEvidence {
		bad = append(bad[:maxEvidence:maxEvidence], fmt.Sprintf("... %d more", len(bad)-maxEvidence))
	}
	return fail(expected, bad...)
}

func describeRule(ac *policy.AccountsCheck) string {
	switch ac.Rule {
	case "unique_uids":
		return "every user has a unique UID"
	case "unique_usernames":
		return "every user name is unique"
	case "unique_gids":
		return "every group has a unique GID"
	case "unique_groupnames":
		return "every group name is unique"
	case "root_only_uid0":
		return "root is the only UID 0 account"
	case "root_gid0":
		return "root's primary group is GID 0"
	case "shadowed_passwords":
		return "every /etc/passwd password field is x (hashes in /etc/shadow)"
	case "groups_exist":
		return "every user's primary group exists"
	case "no_empty_passwords":
		return "no account has an empty password"
	}
	return "every user with a password: " + strings.ReplaceAll(ac.Rule, "_", " ") + " " + describe(ac.Compare)
}

// duplicates reports keys that occur more than once, with their names.
func duplicates(n int, kv func(int) (key, name string)) []string {
	by := map[string][]string{}
	var keys []string
	for i := 0; i < n; i++ {
		k, v := kv(i)
		if _, ok := by[k]; !ok {
			keys = append(keys, k)
		}
		by[k] = append(by[k], v)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		if len(by[k]) > 1 {
			out = append(out, k+": "+strings.Join(by[k], ", "))
		}
	}
	return out
}
