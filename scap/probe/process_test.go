package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

func pidEnt(op string, pids ...int) oval.ObjectEntity {
	e := oval.ObjectEntity{Name: "pid", Operation: op, Datatype: "int"}
	for _, p := range pids {
		e.Values = append(e.Values, strconv.Itoa(p))
	}
	return e
}

func TestProcessLive(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	p := New(target.NewLocal(), Options{})
	self := os.Getpid()
	wantCmd := cmdlineString([]byte(strings.Join(os.Args, "\x00") + "\x00"))

	// By pid: this process, with every entity of the item.
	c := collect(t, p, object("process58_object", nil, ent("command_line", "pattern match", "."), pidEnt("", self)))
	if got := one(t, c, "command_line"); got != wantCmd {
		t.Errorf("command_line %q, want %q", got, wantCmd)
	}
	it := c.Items[0]
	want := map[string]string{
		"pid":     strconv.Itoa(self),
		"ppid":    strconv.Itoa(os.Getppid()),
		"ruid":    strconv.Itoa(os.Getuid()),
		"user_id": strconv.Itoa(os.Geteuid()),
	}
	for k, v := range want {
		if e, _ := entity(it, k); e.Value != v || e.Datatype != "int" {
			t.Errorf("%s = %+v, want %s", k, e, v)
		}
	}
	patterns := map[string]string{
		"exec_time":        `^([0-9]+-)?[0-9]{2}:[0-9]{2}:[0-9]{2}$`,
		"start_time":       `^([0-9]{2}:[0-9]{2}:[0-9]{2}|[A-Z][a-z]{2}_[0-9]{2})$`,
		"scheduling_class": `^(TS|FF|RR|B|#5|\?)$`,
		"tty":              `^(\?|pts/[0-9]+|tty.*|console)$`,
		"priority":         `^-?[0-9]+$`,
		"session_id":       `^[0-9]+$`,
		"loginuid":         `^[0-9]+$`,
		"exec_shield":      `^(true|false)$`,
	}
	for k, re := range patterns {
		e, ok := entity(it, k)
		if !ok || e.Status != "" || !regexp.MustCompile(re).MatchString(e.Value) {
			t.Errorf("%s = %+v, want %s", k, e, re)
		}
	}
	if _, ok := entity(it, "selinux_domain_label"); !ok {
		t.Error("no selinux_domain_label entity")
	}
	names := []string{}
	for _, e := range it.Entities {
		if len(names) == 0 || names[len(names)-1] != e.Name {
			names = append(names, e.Name)
		}
	}
	order := []string{"command_line", "exec_time", "pid", "ppid", "priority", "ruid", "scheduling_class", "start_time", "tty", "user_id", "exec_shield", "loginuid", "posix_capability", "selinux_domain_label", "session_id"}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "posix_capability" })
	order = slices.DeleteFunc(order, func(n string) bool { return n == "posix_capability" })
	if !slices.Equal(names, order) {
		t.Errorf("entities %v, want %v", names, order)
	}

	// By command line: the test binary is found, this process among them.
	c = collect(t, p, object("process58_object", nil, ent("command_line", "pattern match", "^"+regexp.QuoteMeta(wantCmd)+"$"), nilEnt("pid")))
	if got := vals(c, "pid"); !slices.Contains(got, strconv.Itoa(self)) {
		t.Errorf("pids %v lack %d", got, self)
	}
	// Nothing matches.
	c = collect(t, p, object("process58_object", nil, ent("command_line", "", "no such command \x01"), nilEnt("pid")))
	if c.Flag != oval.FlagDoesNotExist {
		t.Errorf("absent command: %s", c.Flag)
	}
	// No kernel threads.
	c = collect(t, p, object("process58_object", nil, ent("command_line", "pattern match", "."), pidEnt("", 2)))
	if b, _ := os.ReadFile("/proc/2/stat"); strings.Contains(string(b), "(kthreadd)") && len(c.Items) != 0 {
		t.Errorf("kthreadd reported: %+v", c.Items)
	}
}

func TestProcessOnRoot(t *testing.T) {
	tree := fixture.Tree{}.Text("/proc/1/stat", "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 20 0 0\n").Text("/proc/1/cmdline", "/sbin/init\x00")
	p := New(newRoot(t, tree), Options{})
	_, err := p.Collect(context.Background(), object("process58_object", nil, ent("command_line", "pattern match", "."), nilEnt("pid")))
	if !errors.Is(err, oval.ErrNotCollectable) {
		t.Errorf("got %v, want ErrNotCollectable", err)
	}
}

func TestParseProcStat(t *testing.T) {
	line := "4242 (a) b (c)) S 1 4242 4242 34816 4242 4194560 10 0 0 0 250 150 0 0 20 0 1 0 12345 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
	st, err := parseProcStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, comm: "a) b (c)", state: 'S', ppid: 1, session: 4242, ttyNr: 34816, flags: 4194560, utime: 250, stime: 150, priority: 20, start: 12345, policy: 0}
	if st != want {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
	for _, bad := range []string{"", "1 (x", "x (y) S 1", "1 (y) S 1 2 3", "0 (z) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// An old kernel without the policy field.
	st, err = parseProcStat([]byte("7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5"))
	if err != nil || st.policy != -1 {
		t.Errorf("%+v %v", st, err)
	}
}

func TestProcessHelpers(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/sbin/sshd\x00-D\x00":      "/usr/sbin/sshd -D",
		"a\x00\x00\x00":                 "a",
		"tab\there\nnl\x00é\x00":        "tab.here nl ..",
		"postgres: checkpointer   \x00": "postgres: checkpointer   ",
	} {
		if got := cmdlineString([]byte(in)); got != want {
			t.Errorf("cmdlineString(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[uint64]string{0: "00:00:00", 61: "00:01:01", 3600*25 + 5: "1-01:00:05"} {
		if got := formatCPUTime(in); got != want {
			t.Errorf("formatCPUTime(%d) = %q, want %q", in, got, want)
		}
	}
	now := time.Date(2025, 3, 7, 15, 4, 5, 0, time.Local)
	if got := formatStartTime(now.Add(-time.Hour), now); got != "14:04:05" {
		t.Errorf("today: %q", got)
	}
	if got := formatStartTime(now.AddDate(0, 0, -3), now); got != "Mar_04" {
		t.Errorf("earlier: %q", got)
	}
	maps := `55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234 /usr/bin/x
55d0c0c00000-55d0c0c01000 rw-p 00002000 08:01 1234 /usr/bin/x
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
`
	if !execShieldHeuristic([]byte(maps)) {
		t.Error("anonymous rw-p mapping: want true")
	}
	if execShieldHeuristic([]byte(maps + "7f1000000000-7f1000001000 rwxp 00001000 00:00 0\n")) {
		t.Error("last anonymous mapping rwx at an offset: want false")
	}
	if execShieldHeuristic(nil) {
		t.Error("no mapping: want false")
	}
	caps, ok := capabilityNames("0000000000001801")
	if !ok || !slices.Equal(caps, []string{"CAP_CHOWN", "CAP_NET_BROADCAST", "CAP_NET_ADMIN"}) {
		t.Errorf("caps %v", caps)
	}
	if caps, ok := capabilityNames("000001ffffffffff"); !ok || len(caps) != len(capNames) {
		t.Errorf("all caps: %d", len(caps))
	}
	if _, ok := capabilityNames("zz"); ok {
		t.Error("bad mask accepted")
	}
}

func TestTTYName(t *testing.T) {
	drivers := "/dev/tty             /dev/tty        5       0 system:/dev/tty\n" +
		"serial               /dev/ttyS       4 64-111 serial\n" +
		"usbserial            /dev/ttyUSB   188 0-511 serial\n" +
		"pty_slave            /dev/pts      136 0-1048575 pty:slave\n"
	tree := fixture.Tree{}.Text("/proc/tty/drivers", drivers).Text("/dev/ttyUSB3", "")
	p := New(newRoot(t, tree), Options{})
	dev := func(major, minor int64) int64 { return (major&0xfff)<<8 | (minor & 0xff) | (minor&^0xff)<<12 }
	for _, tc := range []struct {
		nr   int64
		want string
	}{
		{0, "?"},
		{dev(136, 3), "pts/3"},
		{dev(137, 300), "pts/556"},
		{dev(4, 1), "tty1"},
		{dev(4, 65), "ttyS1"},
		{dev(5, 1), "console"},
		{dev(188, 3), "ttyUSB3"},
		{dev(188, 4), "?"},
		{dev(200, 1), "?"},
	} {
		if got := p.ttyName(context.Background(), tc.nr); got != tc.want {
			t.Errorf("tty %#x: %q, want %q", tc.nr, got, tc.want)
		}
	}
	if d := parseTTYDrivers([]byte(drivers + "bad line\nx /dev/y z 1\nx /dev/y 1 5-2 t\n")); len(d) != 4 || d[1] != (ttyDriver{dev: "ttyS", major: 4, minLo: 64, minHi: 111}) {
		t.Errorf("drivers %+v", d)
	}
}

func FuzzProcStat(f *testing.F) {
	f.Add([]byte("1 (systemd) S 0 1 1 0 -1 4194560 50539 0 0 0 853 1661 0 0 20 0 1 0 20 44101632 2895 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0\n"))
	f.Add([]byte("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 20 0 0"))
	f.Add([]byte("9 ((x) y)) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 -5 15 16 17 18"))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseProcStat(data)
		if err != nil {
			return
		}
		if st.pid <= 0 {
			t.Fatalf("bad parse %+v", st)
		}
		if !strings.Contains(string(data), "("+st.comm+")") {
			t.Fatalf("comm %q not in the input", st.comm)
		}
		// What parses re-parses the same from its own rendering.
		line := fmt.Sprintf("%d (%s) %s %d 0 %d %d 0 %d 0 0 0 0 %d %d 0 0 %d 0 1 0 %d", st.pid, st.comm, []byte{st.state}, st.ppid, st.session, st.ttyNr, st.flags, st.utime, st.stime, st.priority, st.start)
		if st.policy >= 0 {
			line += strings.Repeat(" 0", 18) + " " + strconv.FormatInt(st.policy, 10)
		}
		again, err := parseProcStat([]byte(line))
		if err != nil || again != st {
			t.Fatalf("%q: %+v %v, want %+v", line, again, err, st)
		}
	})
}
