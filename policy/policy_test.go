package policy

import (
	"strings"
	"testing"
)

func TestRulesOverrides(t *testing.T) {
	lib := NewLibrary()
	ssh := &Control{CID: 1, Criticality: Medium, Technologies: []string{"linux"},
		Check: Check{All: []Check{{SSHD: &SSHDCheck{Key: "MaxAuthTries", Compare: Compare{Op: OpLE, Value: "4"}}}}}}
	pkg := &Control{CID: 2, Criticality: Minimal, Technologies: []string{"linux"}, Check: Check{Package: &PackageCheck{Name: "aide"}}}
	urgent, six := Urgent, "6"
	base := &Policy{ID: "base", Controls: []Selection{{CID: 1}, {CID: 2}}}
	strict := &Policy{ID: "strict", Extends: []string{"base"}, Controls: []Selection{{CID: 1, Criticality: &urgent, Value: &six}}}
	bad := &Policy{ID: "bad", Controls: []Selection{{CID: 2, Value: &six}}}
	if err := lib.Add([]*Control{ssh, pkg}, []*Policy{base, strict, bad}); err != nil {
		t.Fatal(err)
	}
	rules, err := strict.Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].CID != 1 || rules[0].Criticality != Urgent || rules[0].Check.All[0].SSHD.Value != "6" {
		t.Fatalf("strict rules: %+v", rules)
	}
	if ssh.Check.All[0].SSHD.Value != "4" || ssh.Criticality != Medium {
		t.Fatal("override modified the library's control")
	}
	if _, err := bad.Rules(lib); err == nil || !strings.Contains(err.Error(), "no expected value") {
		t.Fatalf("value override on a package check: err %v", err)
	}
	cyc := &Policy{ID: "a", Extends: []string{"b"}}
	cyc2 := &Policy{ID: "b", Extends: []string{"a"}}
	if err := lib.Add(nil, []*Policy{cyc, cyc2}); err != nil {
		t.Fatal(err)
	}
	if _, err := cyc.Rules(lib); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("cycle: %v", err)
	}
}
