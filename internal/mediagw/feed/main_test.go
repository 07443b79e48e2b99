package feed_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

// TestMain fails the package's tests when they leave goroutines running:
// no feed handler may outlive Close.
func TestMain(m *testing.M) { leakcheck.Main(m) }
