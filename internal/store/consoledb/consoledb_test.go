package consoledb_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB) *consoledb.DB {
	t.Helper()
	return consoledb.New(storetest.Open(t, pgtest.NewDB(t), 4))
}
