package gbsim

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

// TestMain fails the package when a test leaves a goroutine running: every
// goroutine of a Sim ends in Close (Run calls it), and the tests' platform
// ends with its cleanup.
func TestMain(m *testing.M) { leakcheck.Main(m) }
