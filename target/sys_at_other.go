//go:build !(linux && (amd64 || arm64 || riscv64 || loong64 || ppc64 || ppc64le || s390x || 386 || arm))

package target

import "syscall"

// haveAt is false: listings fall back to the os package, per entry.
const haveAt = false

func lstatAt(int, string, *syscall.Stat_t) error { return syscall.ENOSYS }

func readlinkAt(int, string) (string, error) { return "", syscall.ENOSYS }

func statInfo(p string, _ *syscall.Stat_t) FileInfo { return FileInfo{Path: p} }
