package testsupport

import (
	"errors"
	"strings"
	"syscall"
)

// PortAttempts bounds how often a test starts a server again on new free
// ports when the ones it picked were taken in between.
const PortAttempts = 5

// AddrInUse reports whether err is a listen refused because the address is
// taken. A test that picks a free port (listen on :0, close, pass the number
// on) races the other test binaries running at once: such a start is tried
// again on new ports (PortAttempts), any other error is the test's. The text
// is checked too: not every layer wraps the syscall error.
func AddrInUse(err error) bool {
	return err != nil && (errors.Is(err, syscall.EADDRINUSE) || strings.Contains(err.Error(), "address already in use"))
}
