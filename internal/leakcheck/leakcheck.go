// Package leakcheck fails a test binary whose tests left goroutines
// running: every goroutine a component starts must end in its Close. Each
// package that starts goroutines calls Main (or pgtest.Main, which calls
// Run) from its TestMain.
package leakcheck

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// ignored are goroutines of the standard library and dependencies that
// live for the whole process by design, not leaks of ours.
var ignored = []goleak.Option{
	// net/http's keep-alive connections of http.DefaultTransport close lazily.
	goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
	goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
}

// Main runs the tests, checks for leaked goroutines and exits.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the tests and returns the exit code: 1 when they passed but
// goroutines were left running (goleak waits for them to end first).
func Run(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if err := goleak.Find(ignored...); err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: goroutines left running after the tests:\n%v\n", err)
		return 1
	}
	return 0
}
