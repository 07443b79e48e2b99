package web_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

// TestMain fails the package's tests when they leave goroutines running:
// the browser tests start HTTP servers, hubs and players that must all end.
func TestMain(m *testing.M) { leakcheck.Main(m) }
