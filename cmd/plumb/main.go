// Command plumb checks servers against compliance policies: Pass, Fail or
// Error with evidence for every control, and exit codes a CI build can use.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/plumbhq/plumb/gate"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Errors main maps to documented exit codes, in one place.
var (
	errCriteriaMet = errors.New("fail-on criteria met")
	errUnreachable = errors.New("target unreachable")
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCommand(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return gate.ExitOK
	case errors.Is(err, errCriteriaMet):
		return gate.ExitCriteriaMet
	case errors.Is(err, errUnreachable):
		fmt.Fprintln(stderr, "plumb:", err)
		return gate.ExitUnreachable
	default:
		fmt.Fprintln(stderr, "plumb:", err)
		return gate.ExitInternal
	}
}
