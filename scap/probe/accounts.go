package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/scap/oval"
)

// collectPassword reports /etc/passwd entries. oscap asks NSS on a live
// host (so it also sees directory-service users); the file is what both
// agree on, and what a root directory has. last_login comes from
// /var/log/lastlog as oscap reads it (-1 when there is no record).
func (p *Prober) collectPassword(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ue, err := requireEntity(obj, "username")
	if err != nil {
		return oval.Collected{}, err
	}
	data, err := p.readFileLimit(ctx, "/etc/passwd", maxDatabase)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return oval.Collected{Flag: oval.FlagDoesNotExist}, nil
		}
		return oval.Collected{Flag: oval.FlagError, Message: "/etc/passwd: " + errText(err)}, nil
	}
	users, _ := parse.Passwd(data)
	lastlog, llErr := p.lastlog(ctx)
	r := newResult(obj)
	m := newMatcher(p.pats, ue)
	for _, u := range users {
		ok, err := m.match(u.Name)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok {
			continue
		}
		ents := []oval.ItemEntity{
			strEnt("username", u.Name),
			strEnt("password", u.Password),
			intEnt("user_id", int64(u.UID)),
			intEnt("group_id", int64(u.GID)),
			strEnt("gcos", u.Gecos),
			strEnt("home_dir", u.Home),
			strEnt("login_shell", u.Shell),
		}
		switch {
		case llErr != nil:
			ents = append(ents, missingEnt("last_login", "int", oval.StatusNotCollected))
		default:
			ents = append(ents, intEnt("last_login", lastLogin(lastlog, u.UID)))
		}
		r.add(oval.Item{Entities: ents}, "")
	}
	return r.collected(), nil
}

// lastlogRecord is sizeof(struct lastlog) on Linux: a 32-bit time, a
// 32-byte line and a 256-byte host.
const lastlogRecord = 4 + 32 + 256

// lastlog reads /var/log/lastlog; a missing file is no records. The file
// is sparse and indexed by uid, so a large uid makes it large: past the
// read limit last_login is not collected rather than guessed.
func (p *Prober) lastlog(ctx context.Context) ([]byte, error) {
	v, err := p.raw.do(ctx, "lastlog", func() (any, error) {
		b, err := p.t.ReadFile(ctx, "/var/log/lastlog", maxDatabase)
		if errors.Is(err, fs.ErrNotExist) {
			return []byte(nil), nil
		}
		return b, err
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

func lastLogin(ll []byte, uid int) int64 {
	off := int64(uid) * lastlogRecord
	if off < 0 || off+lastlogRecord > int64(len(ll)) {
		return -1
	}
	return int64(int32(binary.LittleEndian.Uint32(ll[off:])))
}

// collectShadow reports /etc/shadow entries with glibc's reading of empty
// fields (-1 for a number, all bits set for the reserved flag) and
// oscap's naming of the hash method (none for a method it does not know,
// such as yescrypt).
func (p *Prober) collectShadow(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	ue, err := requireEntity(obj, "username")
	if err != nil {
		return oval.Collected{}, err
	}
	data, err := p.readFileLimit(ctx, "/etc/shadow", maxDatabase)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return oval.Collected{Flag: oval.FlagDoesNotExist}, nil
		}
		return oval.Collected{Flag: oval.FlagError, Message: "/etc/shadow: " + errText(err)}, nil
	}
	entries, _ := parse.ShadowFile(data)
	lines := strings.Split(string(data), "\n")
	r := newResult(obj)
	m := newMatcher(p.pats, ue)
	num := func(v *int) int64 {
		if v == nil {
			return -1
		}
		return int64(*v)
	}
	for _, e := range entries {
		ok, err := m.match(e.Name)
		if err != nil {
			return oval.Collected{}, err
		}
		if !ok {
			continue
		}
		flag := "18446744073709551615" // glibc's ~0UL for an empty field
		if e.Line-1 < len(lines) {
			f := strings.Split(strings.TrimRight(lines[e.Line-1], "\r"), ":")
			if len(f) == 9 && f[8] != "" {
				if n, err := strconv.ParseUint(f[8], 10, 64); err == nil {
					flag = strconv.FormatUint(n, 10)
				}
			}
		}
		ents := []oval.ItemEntity{
			strEnt("username", e.Name),
			strEnt("password", e.Hash),
			intEnt("chg_lst", num(e.LastChange)),
			intEnt("chg_allow", num(e.Min)),
			intEnt("chg_req", num(e.Max)),
			intEnt("exp_warn", num(e.Warn)),
			intEnt("exp_inact", num(e.Inactive)),
			intEnt("exp_date", num(e.Expire)),
			{Name: "flag", Value: flag, Datatype: "int"},
		}
		if mth, ok := encryptMethod(e.Hash); ok {
			ents = append(ents, strEnt("encrypt_method", mth))
		}
		r.add(oval.Item{Entities: ents}, "")
	}
	return r.collected(), nil
}

// encryptMethod names a crypt(3) hash as oscap does. Anything not starting
// with '$' or '_' (a locked "!", an empty field) counts as DES, as there.
func encryptMethod(h string) (string, bool) {
	switch {
	case strings.HasPrefix(h, "_"):
		return "BSDi", true
	case !strings.HasPrefix(h, "$"):
		return "DES", true
	}
	rest := h[1:]
	var name string
	switch {
	case strings.HasPrefix(rest, "1"):
		name, rest = "MD5", rest[1:]
	case strings.HasPrefix(rest, "2"):
		name, rest = "Blowfish", rest[1:]
		rest = strings.TrimPrefix(rest, "a")
	case strings.HasPrefix(rest, "5"):
		name, rest = "SHA-256", rest[1:]
	case strings.HasPrefix(rest, "6"):
		name, rest = "SHA-512", rest[1:]
	case strings.HasPrefix(rest, "md5"):
		name, rest = "Sun MD5", rest[3:]
	default:
		return "", false
	}
	if !strings.HasPrefix(rest, "$") {
		return "", false
	}
	return name, true
}
