package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// noCommands is a live target where no command can be run.
type noCommands struct{ target.Target }

func (noCommands) Run(ctx context.Context, argv []string, limit int64) (target.CmdResult, error) {
	return target.CmdResult{}, fmt.Errorf("run %s: %w", argv[0], fs.ErrNotExist)
}

func TestInterfaceLive(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no loopback interface in sysfs")
	}
	p := New(target.NewLocal(), Options{})
	c := collect(t, p, object("interface_object", nil, ent("name", "", "lo")))
	if c.Flag != oval.FlagComplete || len(c.Items) == 0 {
		t.Fatalf("lo: %s %s, %d items", c.Flag, c.Message, len(c.Items))
	}
	sawV4 := false
	for _, it := range c.Items {
		if e, _ := entity(it, "name"); e.Value != "lo" {
			t.Errorf("name %q", e.Value)
		}
		if e, _ := entity(it, "type"); e.Value != "ARPHRD_LOOPBACK" {
			t.Errorf("type %+v", e)
		}
		if e, _ := entity(it, "hardware_addr"); e.Value != "00:00:00:00:00:00" {
			t.Errorf("hardware_addr %+v", e)
		}
		var flags []string
		for _, e := range it.Values("flag") {
			flags = append(flags, e.Value)
		}
		if !slices.Contains(flags, "LOOPBACK") || !slices.Contains(flags, "UP") {
			t.Errorf("flags %v", flags)
		}
		if e, _ := entity(it, "inet_addr"); e.Value == "127.0.0.1" {
			sawV4 = true
			if m, _ := entity(it, "netmask"); m.Value != "255.0.0.0" || m.Datatype != "ipv4_address" {
				t.Errorf("netmask %+v", m)
			}
		}
	}
	_, ipErr := p.ipAddrs(context.Background())
	if ipErr == nil && !sawV4 {
		t.Error("no 127.0.0.1 item for lo")
	}

	// Without ip: one item per interface, addresses not collected.
	p = New(noCommands{target.NewLocal()}, Options{})
	c = collect(t, p, object("interface_object", nil, ent("name", "pattern match", "^lo$")))
	if len(c.Items) != 1 {
		t.Fatalf("without ip: %d items", len(c.Items))
	}
	for _, n := range []string{"inet_addr", "broadcast_addr", "netmask"} {
		if e, _ := entity(c.Items[0], n); e.Status != oval.StatusNotCollected {
			t.Errorf("%s %+v", n, e)
		}
	}
	if e, _ := entity(c.Items[0], "type"); e.Value != "ARPHRD_LOOPBACK" {
		t.Errorf("type %+v", e)
	}
	c = collect(t, p, object("interface_object", nil, ent("name", "", "no-such-if0")))
	if c.Flag != oval.FlagDoesNotExist {
		t.Errorf("absent interface: %s", c.Flag)
	}
}

func TestInterfaceOnRoot(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}.Text("/sys/class/net/lo/type", "772\n")), Options{})
	_, err := p.Collect(context.Background(), object("interface_object", nil, ent("name", "", "lo")))
	if !errors.Is(err, oval.ErrNotCollectable) {
		t.Errorf("got %v, want ErrNotCollectable", err)
	}
}

const ipAddrSample = `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
1: lo    inet6 ::1/128 scope host \       valid_lft forever preferred_lft forever
2: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\       valid_lft forever preferred_lft forever
2: eth0    inet 192.0.2.9/24 brd 192.0.2.255 scope global secondary eth0:1\       valid_lft forever preferred_lft forever
2: eth0    inet6 fe80::fc:ff:fe00:1/64 scope link \       valid_lft forever preferred_lft forever
5: veth1@if4    inet 10.1.0.1/30 scope global veth1\       valid_lft forever preferred_lft forever
6: tun0    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\       valid_lft forever preferred_lft forever
garbage line
7: x    inet 300.1.1.1/8 scope global x\       valid_lft forever
8: y    inet6 ::1/129 scope host \       valid_lft forever
`

func TestParseIPAddr(t *testing.T) {
	got := parseIPAddr(ipAddrSample)
	want := []string{
		"lo lo inet 127.0.0.1/8 brd=",
		"lo  inet6 ::1/128 brd=",
		"eth0 eth0 inet 192.0.2.2/24 brd=192.0.2.255",
		"eth0 eth0:1 inet 192.0.2.9/24 brd=192.0.2.255",
		"eth0  inet6 fe80::fc:ff:fe00:1/64 brd=",
		"veth1 veth1 inet 10.1.0.1/30 brd=",
		"tun0 tun0 inet 10.8.0.1/32 brd=",
	}
	var gotS []string
	for _, a := range got {
		gotS = append(gotS, fmt.Sprintf("%s %s %s %s/%d brd=%s", a.ifname, a.label, a.family, a.addr, a.plen, a.brd))
	}
	if !slices.Equal(gotS, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(gotS, "\n"), strings.Join(want, "\n"))
	}
	for plen, want := range map[int]string{0: "0.0.0.0", 8: "255.0.0.0", 23: "255.255.254.0", 32: "255.255.255.255"} {
		if got := netmask4(plen); got != want {
			t.Errorf("netmask4(%d) = %s", plen, got)
		}
	}
	for in, want := range map[string]string{"02:fc:00:00:00:01": "02:FC:00:00:00:01", "": "00:00:00:00:00:00",
		"80:00:02:08:fe:80:00:00:00:00": "80:00:02:08:FE:80"} {
		if got := formatMAC(in); got != want {
			t.Errorf("formatMAC(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzIPAddr(f *testing.F) {
	f.Add(ipAddrSample)
	f.Add("3: br0    inet 10.0.0.1/24 brd 10.0.0.255 scope global br0:web\\ x\n")
	f.Add("1: a@b    inet6 fe80::1%eth0/64 scope link\n")
	f.Fuzz(func(t *testing.T, out string) {
		for _, a := range parseIPAddr(out) {
			if a.ifname == "" || strings.ContainsAny(a.ifname, " \t\n@") {
				t.Fatalf("interface name %q", a.ifname)
			}
			switch {
			case a.family == "inet" && a.addr.Is4() && a.plen >= 0 && a.plen <= 32:
			case a.family == "inet6" && a.addr.Is6() && a.plen >= 0 && a.plen <= 128:
			default:
				t.Fatalf("address %+v", a)
			}
			if a.label != "" && (a.family != "inet" || !strings.HasPrefix(a.label, a.ifname)) {
				t.Fatalf("label %+v", a)
			}
			if a.brd != "" {
				if b, err := netip.ParseAddr(a.brd); err != nil || b.Is4() != a.addr.Is4() {
					t.Fatalf("broadcast %+v", a)
				}
			}
		}
	})
}
