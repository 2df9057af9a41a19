//go:build linux && (386 || arm)

package target

import "syscall"

const sysFstatat = syscall.SYS_FSTATAT64
