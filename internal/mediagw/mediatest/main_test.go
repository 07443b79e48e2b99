package mediatest

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

// TestMain fails the package's tests when they leave goroutines running:
// every goroutine a component starts must end in its Close.
func TestMain(m *testing.M) { leakcheck.Main(m) }
