// Package leakcheck fails a test binary whose tests left goroutines
// running: every goroutine a component starts must end in its Close. Each
// package that starts goroutines calls Main (or pgtest.Main, which calls
// Run) from its TestMain.
package leakcheck

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main runs the tests, checks for leaked goroutines and exits.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run runs the tests and returns the exit code: 1 when they passed but
// goroutines were left running (goleak waits for them to end first).
func Run(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if err := Find(); err != nil {
		fmt.Fprintf(os.Stderr, "leakcheck: goroutines left running after the tests:\n%v\n", err)
		return 1
	}
	return 0
}

// Find returns an error listing the goroutines running besides the
// caller's, after giving them a moment to end. Idle keep-alive connections
// of http.DefaultTransport (every http.Client without a Transport of its
// own uses it) are closed first: a pooled connection is not a leak, while a
// connection still busy — a response body nobody closed — is.
func Find() error {
	if t, ok := http.DefaultTransport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	// goleak leaves out the runtime's and the testing package's own
	// goroutines; nothing else lives for the whole process by design.
	return goleak.Find()
}
