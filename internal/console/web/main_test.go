package web_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
)

// TestMain fails the package's tests when they leave goroutines running
// (the browser tests start HTTP servers, hubs and players that must all
// end), and stops the PostgreSQL cluster the platform playback test uses.
func TestMain(m *testing.M) { pgtest.Main(m) }
