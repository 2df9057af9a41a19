//go:build linux && (arm64 || riscv64 || loong64)

package target

import "syscall"

const sysFstatat = syscall.SYS_FSTATAT
