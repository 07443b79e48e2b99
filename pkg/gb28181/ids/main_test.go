package ids_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when they leave goroutines running.
// (goleak directly: pkg/ imports nothing from internal/.)
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
