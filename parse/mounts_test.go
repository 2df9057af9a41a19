package parse

import (
	"reflect"
	"strings"
	"testing"
)

const fstab = `# /etc/fstab: static file system information.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=0a1b2c3d-1111-2222-3333-444455556666 /               ext4    errors=remount-ro 0       1
UUID=5e6f-7a8b  /boot/efi       vfat    umask=0077      0       1
/dev/mapper/vg-tmp /tmp ext4 defaults,nodev,nosuid,noexec 0 2
tmpfs	/dev/shm	tmpfs	defaults,nodev,nosuid,noexec	0	0
//server/share\040name /mnt/my\040share cifs credentials=/root/.cred,,uid=0
/dev/sdb1 /srv/back\\slash\134x xfs defaults
   # indented comment
/dev/sdc1 /broken
`

func TestMounts(t *testing.T) {
	ms, err := Mounts([]byte(fstab))
	want := []Mount{
		{Source: "UUID=0a1b2c3d-1111-2222-3333-444455556666", Target: "/", FSType: "ext4", Options: []string{"errors=remount-ro"}, Line: 4},
		{Source: "UUID=5e6f-7a8b", Target: "/boot/efi", FSType: "vfat", Options: []string{"umask=0077"}, Line: 5},
		{Source: "/dev/mapper/vg-tmp", Target: "/tmp", FSType: "ext4", Options: []string{"defaults", "nodev", "nosuid", "noexec"}, Line: 6},
		{Source: "tmpfs", Target: "/dev/shm", FSType: "tmpfs", Options: []string{"defaults", "nodev", "nosuid", "noexec"}, Line: 7},
		{Source: "//server/share name", Target: "/mnt/my share", FSType: "cifs", Options: []string{"credentials=/root/.cred", "uid=0"}, Line: 8},
		{Source: "/dev/sdb1", Target: `/srv/back\slash\x`, FSType: "xfs", Options: []string{"defaults"}, Line: 9},
	}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("Mounts =\n%+v\nwant\n%+v", ms, want)
	}
	if err == nil || !strings.Contains(err.Error(), "line 11:") {
		t.Errorf("err = %v", err)
	}
	if !ms[2].HasOption("noexec") || ms[2].HasOption("exec") || ms[1].HasOption("umask") || !ms[1].HasOption("umask=0077") {
		t.Error("HasOption")
	}
}

func TestMountsProc(t *testing.T) {
	proc := "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n/dev/sda1 /media/USB\\040Stick vfat rw 0 0\n"
	ms, err := Mounts([]byte(proc))
	if err != nil || len(ms) != 2 || ms[1].Target != "/media/USB Stick" || !ms[0].HasOption("relatime") {
		t.Errorf("Mounts = %+v, %v", ms, err)
	}
	if got := unescapeMount(`a\400b\07\`); got != `a\400b\07\` {
		t.Errorf("invalid escapes changed: %q", got)
	}
}
