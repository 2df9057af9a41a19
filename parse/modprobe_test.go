package parse

import (
	"reflect"
	"testing"
)

const cisModprobe = `# /etc/modprobe.d/cis.conf
install cramfs /bin/false
blacklist cramfs
install usb-storage /bin/true # disabled
blacklist usb-storage
options snd-hda-intel power_save=1 \
	power_save_controller=Y
alias net-pf-31 off
alias char-major-10-[0-9]* off
  # indented comment
install
install sr-mod
blacklist
options foo
bogus command here
include /etc/modprobe.d/other.conf
softdep nvidia pre: ecdh-generic post: i2c-dev
install bad]name /bin/false
install tab-sep	/bin/false
remove dccp /bin/true
`

func TestModprobeConf(t *testing.T) {
	got := ModprobeConf([]byte(cisModprobe))
	want := []Modprobe{
		{Cmd: "install", Module: "cramfs", Args: []string{"/bin/false"}, Line: 2},
		{Cmd: "blacklist", Module: "cramfs", Line: 3},
		{Cmd: "install", Module: "usb_storage", Args: []string{"/bin/true", "#", "disabled"}, Line: 4},
		{Cmd: "blacklist", Module: "usb_storage", Line: 5},
		{Cmd: "options", Module: "snd_hda_intel", Args: []string{"power_save=1", "power_save_controller=Y"}, Line: 6},
		{Cmd: "alias", Module: "net_pf_31", Args: []string{"off"}, Line: 8},
		{Cmd: "alias", Module: "char_major_10_[0-9]*", Args: []string{"off"}, Line: 9},
		{Cmd: "softdep", Module: "nvidia", Args: []string{"pre:", "ecdh-generic", "post:", "i2c-dev"}, Line: 17},
		{Cmd: "install", Module: "tab_sep", Args: []string{"/bin/false"}, Line: 19},
		{Cmd: "remove", Module: "dccp", Args: []string{"/bin/true"}, Line: 20},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ModprobeConf =\n%+v\nwant\n%+v", got, want)
	}
}

func TestModprobeBackslash(t *testing.T) {
	got := ModprobeConf([]byte("install\\\n cramfs /bin/fal\\se\\"))
	want := []Modprobe{{Cmd: "install", Module: "cramfs", Args: []string{"/bin/false"}, Line: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
}
