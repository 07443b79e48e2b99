package probe

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
