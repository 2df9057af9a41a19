package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// terminalWidth is $COLUMNS, else the width of the terminal on standard
// output, else 0 (the table's default).
func terminalWidth() int {
	if c := os.Getenv("COLUMNS"); c != "" {
		var n int
		if _, err := fmt.Sscan(c, &n); err == nil && n > 40 {
			return n
		}
	}
	var ws struct{ Row, Col, X, Y uint16 }
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, os.Stdout.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws)))
	if errno == 0 && ws.Col > 40 {
		return int(ws.Col)
	}
	return 0
}
