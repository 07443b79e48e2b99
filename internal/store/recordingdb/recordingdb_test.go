package recordingdb_test

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t testing.TB) *recordingdb.DB {
	t.Helper()
	return recordingdb.New(storetest.Open(t, pgtest.NewDB(t), 4))
}

var _ = store.ErrInvalid
