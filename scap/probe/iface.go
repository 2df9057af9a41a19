package probe

import (
	"context"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/scap/oval"
)

// arphrdNames are the interface types OVAL's EntityItemInterfaceType
// names, by ARPHRD_* number (/sys/class/net/NAME/type). Other types are
// reported as "", as oscap does.
var arphrdNames = map[int]string{
	1:     "ARPHRD_ETHER",
	4:     "ARPHRD_PRONET",
	256:   "ARPHRD_SLIP",
	512:   "ARPHRD_PPP",
	772:   "ARPHRD_LOOPBACK",
	774:   "ARPHRD_FDDI",
	65535: "ARPHRD_VOID",
}

// ifFlagNames are the IFF_* flags in the order oscap lists them.
var ifFlagNames = []struct {
	bit  uint64
	name string
}{
	{0x1, "UP"}, {0x2, "BROADCAST"}, {0x4, "DEBUG"}, {0x8, "LOOPBACK"},
	{0x10, "POINTOPOINT"}, {0x20, "NOTRAILERS"}, {0x40, "RUNNING"},
	{0x80, "NOARP"}, {0x100, "PROMISC"}, {0x200, "ALLMULTI"},
	{0x400, "MASTER"}, {0x800, "SLAVE"}, {0x1000, "MULTICAST"},
	{0x2000, "PORTSEL"}, {0x4000, "AUTOMEDIA"}, {0x8000, "DYNAMIC"},
}

const (
	iffUp        = 0x1
	iffBroadcast = 0x2
	iffRunning   = 0x40
)

// ipAddr is one address of `ip -o addr show`.
type ipAddr struct {
	ifname string // the device, without an @link suffix
	label  string // IPv4 label (eth0, eth0:1); "" for IPv6
	family string // inet, inet6
	addr   netip.Addr
	plen   int
	brd    string // broadcast address; "" when none
}

// parseIPAddr parses `ip -o addr show` (one address a line, the
// continuation of a record after a backslash). Lines it does not
// understand are skipped.
func parseIPAddr(out string) []ipAddr {
	var addrs []ipAddr
	for line := range strings.Lines(out) {
		head, _, _ := strings.Cut(line, "\\")
		f := strings.Fields(head)
		if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		if _, err := strconv.ParseUint(strings.TrimSuffix(f[0], ":"), 10, 32); err != nil {
			continue
		}
		a := ipAddr{ifname: strings.TrimSuffix(f[1], ":"), family: f[2]}
		if i := strings.IndexByte(a.ifname, '@'); i >= 0 {
			a.ifname = a.ifname[:i]
		}
		if a.ifname == "" {
			continue
		}
		bits := 32
		switch a.family {
		case "inet":
		case "inet6":
			bits = 128
		default:
			continue
		}
		addr, plen, ok := parseIPPrefix(f[3], bits)
		if !ok || (bits == 32) != addr.Is4() {
			continue
		}
		a.addr, a.plen = addr, plen
		for i := 4; i+1 < len(f); i++ {
			switch f[i] {
			case "peer":
				// A point-to-point address: the prefix is the peer's.
				if _, pl, ok := parseIPPrefix(f[i+1], bits); ok && strings.Contains(f[i+1], "/") {
					a.plen = pl
				}
			case "brd":
				if b, err := netip.ParseAddr(f[i+1]); err == nil && b.Is4() == addr.Is4() {
					a.brd = b.String()
				}
			}
		}
		if a.family == "inet" && len(f) > 4 {
			// The kernel requires an IPv4 label to start with the
			// device's name; ip prints it last.
			if last := f[len(f)-1]; strings.HasPrefix(last, a.ifname) {
				a.label = last
			}
		}
		addrs = append(addrs, a)
	}
	return addrs
}

// parseIPPrefix parses "addr[/plen]" of the given family size.
func parseIPPrefix(s string, bits int) (netip.Addr, int, bool) {
	as, ps, hasLen := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(as)
	if err != nil || addr.Zone() != "" {
		return netip.Addr{}, 0, false
	}
	plen := bits
	if hasLen {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 0 || n > bits {
			return netip.Addr{}, 0, false
		}
		plen = n
	}
	return addr, plen, true
}

// ipAddrs runs `ip -o addr show` on the target once. The error says why
// there is no address information (no ip command, a failure).
func (p *Prober) ipAddrs(ctx context.Context) ([]ipAddr, error) {
	v, err := p.raw.do(ctx, "ipaddr", func() (any, error) {
		p.stats.commands.Add(1)
		res, err := p.t.Run(ctx, []string{"ip", "-o", "addr", "show"}, 4<<20)
		if err != nil {
			return nil, err
		}
		if res.Exit != 0 {
			return nil, fmt.Errorf("ip -o addr show: exit %d: %s", res.Exit, strings.TrimSpace(string(res.Stderr)))
		}
		return parseIPAddr(string(res.Stdout)), nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]ipAddr), nil
}

// ifaceLink is what /sys/class/net says of an interface.
type ifaceLink struct {
	typ, hw oval.ItemEntity
	flags   []oval.ItemEntity
	bits    uint64
	ok      bool // the flags could be read
}

func (p *Prober) ifaceLink(ctx context.Context, name string) ifaceLink {
	dir := "/sys/class/net/" + name
	read := func(f string) (string, error) {
		b, err := p.t.ReadFile(ctx, dir+"/"+f, 4096)
		return strings.TrimSpace(string(b)), err
	}
	var l ifaceLink
	l.typ = missingEnt("type", "", oval.StatusNotCollected)
	if s, err := read("type"); err == nil {
		if n, err := strconv.Atoi(s); err == nil {
			l.typ = strEnt("type", arphrdNames[n])
		}
	}
	l.hw = missingEnt("hardware_addr", "", oval.StatusNotCollected)
	if s, err := read("address"); err == nil {
		l.hw = strEnt("hardware_addr", formatMAC(s))
	}
	if s, err := read("flags"); err == nil {
		if bits, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64); err == nil {
			// sysfs shows the configured flags; RUNNING is the kernel's
			// dev_get_flags: up, and operationally up (or unknown, as
			// the loopback is).
			bits &^= iffRunning
			if op, err := read("operstate"); err == nil && bits&iffUp != 0 && (op == "up" || op == "unknown") {
				bits |= iffRunning
			}
			l.bits, l.ok = bits, true
			for _, f := range ifFlagNames {
				if bits&f.bit != 0 {
					l.flags = append(l.flags, strEnt("flag", f.name))
				}
			}
		}
	}
	if !l.ok {
		l.flags = []oval.ItemEntity{missingEnt("flag", "", oval.StatusNotCollected)}
	}
	return l
}

// formatMAC writes a link address as oscap does: its first six octets,
// upper case, colon separated (zeros for a device without one).
func formatMAC(s string) string {
	var oct [6]byte
	for i, part := range strings.Split(s, ":") {
		if i == len(oct) {
			break
		}
		if v, err := strconv.ParseUint(part, 16, 8); err == nil {
			oct[i] = byte(v)
		}
	}
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", oct[0], oct[1], oct[2], oct[3], oct[4], oct[5])
}

// collectInterface reports interface_object. Like oscap (getifaddrs),
// each IPv4 or IPv6 address of an interface is one item, named by the
// address's label (an IPv4 alias such as eth0:1 is its own item); an
// interface without addresses has none. Link data come from
// /sys/class/net (type, hardware_addr, flag); addresses from
// `ip -o addr show` run on the target. An IPv6 inet_addr is written
// prefix/length, and such an item has no netmask or broadcast_addr
// ("does not exist"; oscap writes empty strings), nor has an IPv4
// address of a non-broadcast interface a broadcast_addr. Where ip cannot
// be run, each interface is one item whose address entities are "not
// collected". The flags follow the kernel's: NOARP is spelt correctly
// (oscap writes NOAPP), and a PROMISC set only by a packet socket
// (tcpdump) shows here, as in sysfs, though getifaddrs would not show it.
//
// A root directory has no network interfaces: not collectable.
func (p *Prober) collectInterface(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	if !p.live(ctx) {
		return oval.Collected{}, notCollectable("interface_object", "network interfaces need a live target")
	}
	ne, err := requireEntity(obj, "name")
	if err != nil {
		return oval.Collected{}, err
	}
	m := newMatcher(p.pats, ne)
	ents, err := p.t.ReadDir(ctx, "/sys/class/net")
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: "/sys/class/net: " + errText(err)}, nil
	}
	links := map[string]*ifaceLink{}
	link := func(name string) *ifaceLink {
		if l, ok := links[name]; ok {
			return l
		}
		l := p.ifaceLink(ctx, name)
		links[name] = &l
		return &l
	}
	r := newResult(obj)
	addrs, addrErr := p.ipAddrs(ctx)
	if addrErr != nil {
		if ctx.Err() != nil {
			return oval.Collected{}, ctx.Err()
		}
		for _, e := range ents {
			name := path.Base(e.Path)
			ok, err := m.match(name)
			if err != nil {
				return oval.Collected{}, err
			}
			if !ok {
				continue
			}
			l := link(name)
			it := []oval.ItemEntity{strEnt("name", name), l.typ, l.hw}
			for _, n := range []string{"inet_addr", "broadcast_addr", "netmask"} {
				it = append(it, missingEnt(n, "", oval.StatusNotCollected))
			}
			r.add(oval.Item{Entities: append(it, l.flags...)}, "")
		}
		return r.collected(), nil
	}
	present := map[string]bool{}
	for _, e := range ents {
		present[path.Base(e.Path)] = true
	}
	for _, a := range addrs {
		if !present[a.ifname] {
			continue // not in this network namespace's sysfs, or gone
		}
		name := a.ifname
		if a.label != "" {
			name = a.label
		}
		ok, err := m.match(name)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok {
			continue
		}
		l := link(a.ifname)
		it := []oval.ItemEntity{strEnt("name", name), l.typ, l.hw}
		dne := func(n string) oval.ItemEntity { return missingEnt(n, "", oval.StatusNotExist) }
		if a.addr.Is4() {
			const dt = "ipv4_address"
			it = append(it, oval.ItemEntity{Name: "inet_addr", Value: a.addr.String(), Datatype: dt})
			if a.brd != "" && (!l.ok || l.bits&iffBroadcast != 0) {
				it = append(it, oval.ItemEntity{Name: "broadcast_addr", Value: a.brd, Datatype: dt})
			} else {
				it = append(it, dne("broadcast_addr"))
			}
			it = append(it, oval.ItemEntity{Name: "netmask", Value: netmask4(a.plen), Datatype: dt})
		} else {
			it = append(it, oval.ItemEntity{Name: "inet_addr", Value: a.addr.String() + "/" + strconv.Itoa(a.plen), Datatype: "ipv6_address"},
				dne("broadcast_addr"), dne("netmask"))
		}
		r.add(oval.Item{Entities: append(it, l.flags...)}, "")
	}
	return r.collected(), nil
}

// netmask4 writes an IPv4 prefix length as a dotted mask.
func netmask4(plen int) string {
	var m uint32
	if plen > 0 {
		m = ^uint32(0) << (32 - plen)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}
