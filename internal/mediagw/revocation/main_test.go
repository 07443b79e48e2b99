package revocation

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

// TestMain fails the package's tests when they leave goroutines running:
// the Watch's run goroutine must end in its Close.
func TestMain(m *testing.M) { leakcheck.Main(m) }
