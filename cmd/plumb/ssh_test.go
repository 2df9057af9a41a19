package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/result"
)

// sshRoot starts a private sshd on 127.0.0.1 that lets root in with a
// fresh key, and returns the flags to reach it.
func sshRoot(t testing.TB) (*sshtest.Server, []string) {
	t.Helper()
	srv := sshtest.Start(t, sshtest.Options{})
	key := sshtest.NewKey(t, "")
	srv.AuthorizeKey(t, "root", key.Public)
	keyFile := key.WriteFile(t, t.TempDir())
	return srv, []string{"--target", fmt.Sprintf("ssh://root@%s:%d", srv.Host, srv.Port), "-i", keyFile, "--known-hosts", srv.KnownHosts, "--agent=false"}
}

// TestSSHEqualsLocal scans this machine over SSH and locally with the
// same policy: every control must have the same status, reason and
// evidence.
func TestSSHEqualsLocal(t *testing.T) {
	_, flags := sshRoot(t)
	args := []string{"scan", "--policy", "plumb-linux-l2", "--format", "json", "--no-progress"}
	outLocal, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("local scan: exit %d: %s", code, stderr)
	}
	outSSH, stderr, code := run(t, append(args, flags...)...)
	if code != 0 {
		t.Fatalf("ssh scan: exit %d: %s", code, stderr)
	}
	local, remote := decode(t, outLocal).Hosts[0], decode(t, outSSH).Hosts[0]
	if !strings.HasPrefix(remote.Target, "ssh:") || remote.Error != "" {
		t.Fatalf("ssh host %s: %s", remote.Target, remote.Error)
	}
	if remote.Stats.SSHSessions < 1 || remote.Stats.BytesIn == 0 {
		t.Errorf("ssh stats %+v", remote.Stats)
	}
	if remote.Facts.Technology != local.Facts.Technology || remote.Facts.Hostname != local.Facts.Hostname {
		t.Errorf("facts differ: ssh %+v local %+v", remote.Facts, local.Facts)
	}
	lr := local.Policies[0].Results
	rr := remote.Policies[0].Results
	if len(lr) != len(rr) {
		t.Fatalf("%d local results, %d over ssh", len(lr), len(rr))
	}
	differ := 0
	for i := range lr {
		l, r := lr[i], rr[i]
		if l.CID != r.CID || l.Status != r.Status || l.Reason != r.Reason || strings.Join(l.Actual, "\n") != strings.Join(r.Actual, "\n") {
			differ++
			t.Errorf("cid %d %s: local %s/%s %q; ssh %s/%s %q (%s)", l.CID, l.Title, l.Status, l.Reason, l.Actual, r.Status, r.Reason, r.Actual, r.Message)
		}
		if r.Method != "ssh" {
			t.Errorf("cid %d: method %q", r.CID, r.Method)
		}
	}
	t.Logf("%d controls compared; ssh: %d sessions, %d bytes in, %d out, %.1fs (local %.1fs)", len(lr), remote.Stats.SSHSessions, remote.Stats.BytesIn, remote.Stats.BytesOut, remote.Stats.Seconds, local.Stats.Seconds)
}

// TestSSHFleet scans an inventory of hosts where some fail: each failure
// is confined to its host, with the documented reason and exit code.
func TestSSHFleet(t *testing.T) {
	good, flags := sshRoot(t)
	keyFile := flags[3]
	other := sshtest.Start(t, sshtest.Options{}) // our key is not authorized there
	silent := sshtest.SilentListener(t)          // accepts TCP, never speaks SSH
	silentHost, silentPort, _ := strings.Cut(silent, ":")
	known := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(known, []byte(good.KnownHostsLine()+"\n"+other.KnownHostsLine()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(t.TempDir(), "hosts.yaml")
	data := fmt.Sprintf(`defaults:
  user: root
  key: %s
  known_hosts: %s
hosts:
  - {host: %s, port: %d, name: good}
  - {host: %s, port: %d, name: wrongkey}
`, keyFile, known, good.Host, good.Port, other.Host, other.Port)
	if err := os.WriteFile(inv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "--targets", inv, "--policy", "plumb-linux-l1", "--format", "json", "--no-progress", "--agent=false", "--concurrency", "4"}

	out, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("auth failure without --fail-on-auth-failure: exit %d, want 0: %s", code, stderr)
	}
	rep := decode(t, out)
	byName := map[string]result.Host{}
	for _, h := range rep.Hosts {
		byName[h.Target] = h
	}
	if h := byName["ssh:good"]; h.Error != "" || len(h.Policies) != 1 || h.Policies[0].Summary.Counts[result.Pass] == 0 {
		t.Errorf("good host: %s %+v", h.Error, h.Policies)
	}
	h := byName["ssh:wrongkey"]
	if h.Reason != result.ReasonAuthFailed {
		t.Errorf("wrongkey host: reason %q error %q", h.Reason, h.Error)
	}
	for _, r := range h.Policies[0].Results {
		if r.Status != result.Error || r.Reason != result.ReasonAuthFailed {
			t.Fatalf("wrongkey cid %d: %s/%s", r.CID, r.Status, r.Reason)
		}
	}
	if _, _, code := run(t, append(args, "--fail-on-auth-failure")...); code != 3 {
		t.Errorf("--fail-on-auth-failure: exit %d, want 3", code)
	}

	// A host that never speaks SSH times out; a changed host key is refused.
	wrongKnown := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(wrongKnown, []byte(strings.Replace(other.KnownHostsLine(), fmt.Sprint(other.Port), fmt.Sprint(good.Port), 1)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"silent", []string{"--target", "ssh://root@" + silentHost + ":" + silentPort, "-i", keyFile, "--known-hosts", known, "--connect-timeout", "2s"}, result.ReasonTimeout},
		{"host key mismatch", []string{"--target", fmt.Sprintf("ssh://root@%s:%d", good.Host, good.Port), "-i", keyFile, "--known-hosts", wrongKnown}, result.ReasonHostKeyMismatch},
		{"unknown host", []string{"--target", fmt.Sprintf("ssh://root@%s:%d", good.Host, good.Port), "-i", keyFile, "--known-hosts", filepath.Join(t.TempDir(), "empty")}, result.ReasonHostKeyMismatch},
		{"refused", []string{"--target", "ssh://root@127.0.0.1:1", "-i", keyFile, "--known-hosts", known}, result.ReasonUnreachable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := run(t, append([]string{"scan", "--policy", "plumb-linux-l1", "--format", "json", "--no-progress", "--agent=false"}, tc.args...)...)
			if code != 3 {
				t.Errorf("exit %d, want 3: %s", code, stderr)
			}
			h := decode(t, out).Hosts[0]
			if h.Reason != tc.reason || h.Policies[0].Results[0].Reason != tc.reason {
				t.Errorf("reason %q (result %q), want %q: %s", h.Reason, h.Policies[0].Results[0].Reason, tc.reason, h.Error)
			}
		})
	}
}

// TestSSHSudoRefused: a user whose sudo is refused gets Error(privilege)
// on the controls that need root, never a Fail, and the rest evaluates.
func TestSSHSudoRefused(t *testing.T) {
	users := sshtest.EnsureUsers(t)
	srv := sshtest.Start(t, sshtest.Options{})
	key := sshtest.NewKey(t, "")
	srv.AuthorizeKey(t, users.NoSudo.Name, key.Public)
	keyFile := key.WriteFile(t, t.TempDir())
	out, stderr, code := run(t, "scan", "--policy", "plumb-linux-l1", "--format", "json", "--no-progress", "--agent=false",
		"--target", fmt.Sprintf("ssh://%s@%s:%d", users.NoSudo.Name, srv.Host, srv.Port), "-i", keyFile, "--known-hosts", srv.KnownHosts, "--sudo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	h := decode(t, out).Hosts[0]
	if h.Error != "" {
		t.Fatalf("host error %s", h.Error)
	}
	shadow := statusOf(decode(t, out), 1212) // reads /etc/shadow
	if shadow.Status != result.Error || shadow.Reason != result.ReasonPrivilege {
		t.Errorf("cid 1212 without sudo: %s/%s %s", shadow.Status, shadow.Reason, shadow.Message)
	}
	if c := h.Policies[0].Summary.Counts; c[result.Pass] == 0 {
		t.Errorf("nothing passed as the login user: %+v", c)
	}
}

// TestSSHSCAPEqualsLocal evaluates SSG content over SSH and locally: the
// OVAL probes run on the SSH target as they do on this machine.
func TestSSHSCAPEqualsLocal(t *testing.T) {
	ds := filepath.Join(ssgContent, "ssg-debian11-ds.xml")
	if _, err := os.Stat(ds); err != nil {
		need(t, ds, "", "apt-get install ssg-debian (test.sh does)")
	}
	_, flags := sshRoot(t)
	args := []string{"scan", "--datastream", ds, "--profile", "standard", "--format", "json", "--no-progress"}
	outLocal, stderr, code := run(t, args...)
	if code != 0 {
		t.Fatalf("local: exit %d: %s", code, stderr)
	}
	outSSH, stderr, code := run(t, append(args, flags...)...)
	if code != 0 {
		t.Fatalf("ssh: exit %d: %s", code, stderr)
	}
	lr := decode(t, outLocal).Hosts[0].Policies[0].Results
	rr := decode(t, outSSH).Hosts[0].Policies[0].Results
	if len(lr) != len(rr) || len(lr) == 0 {
		t.Fatalf("%d local results, %d over ssh", len(lr), len(rr))
	}
	for i := range lr {
		l, r := lr[i], rr[i]
		if l.Rule != r.Rule || l.SCAPResult != r.SCAPResult || strings.Join(l.Actual, "\n") != strings.Join(r.Actual, "\n") {
			t.Errorf("%s: local %s %q; ssh %s %q (%s)", l.Rule, l.SCAPResult, l.Actual, r.SCAPResult, r.Actual, r.Message)
		}
	}
}
