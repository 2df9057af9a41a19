//go:build linux && (amd64 || arm64 || riscv64 || loong64 || ppc64 || ppc64le || s390x || 386 || arm)

package target

import (
	"io/fs"
	"syscall"
	"time"
	"unsafe"
)

// atSymlinkNofollow is AT_SYMLINK_NOFOLLOW, not exported by syscall.
const atSymlinkNofollow = 0x100

// haveAt reports whether lstatAt and readlinkAt work on this platform.
const haveAt = true

// lstatAt is fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW): one syscall per
// walked entry, without the kernel walking the whole path again, and
// without leaving the directory dirfd (name is a single component).
func lstatAt(dirfd int, name string, st *syscall.Stat_t) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	for {
		_, _, e := syscall.Syscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), atSymlinkNofollow, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		}
		return e
	}
}

// readlinkAt is readlinkat(dirfd, name).
func readlinkAt(dirfd int, name string) (string, error) {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return "", err
	}
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		switch {
		case e == syscall.EINTR:
			size /= 2
			continue
		case e != 0:
			return "", e
		case int(n) < len(buf):
			return string(buf[:n]), nil
		case size >= 1<<16:
			return "", syscall.ENAMETOOLONG
		}
	}
}

// statInfo builds a FileInfo from a raw stat, with the os package's mode
// mapping.
func statInfo(p string, st *syscall.Stat_t) FileInfo {
	m := fs.FileMode(st.Mode & 0o777)
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return FileInfo{
		Path:    p,
		Mode:    m,
		UID:     st.Uid,
		GID:     st.Gid,
		Size:    st.Size,
		ModTime: time.Unix(st.Mtim.Unix()),
		Dev:     uint64(st.Dev),
	}
}
