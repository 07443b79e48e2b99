// Package storetest gives tests a database with the current schema: a fresh
// database on the test process's private cluster (pgtest.NewDB) with the
// migrations applied the way the schema owner applies them.
package storetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/schema"
)

// setupTimeout bounds connecting to and migrating a fresh database on the
// test's own local cluster.
const setupTimeout = time.Minute

// NewDB returns the URL of a fresh database with the schema applied,
// dropped when the test ends. Call pgtest.Main from TestMain.
func NewDB(t testing.TB) string {
	t.Helper()
	url := pgtest.NewDB(t)
	Open(t, url, 1).Close()
	return url
}

// Open connects to url with at most maxConns connections, applies the
// schema (schema.Migrate; a no-op when it is current) and closes the store
// when the test ends.
func Open(t testing.TB, url string, maxConns int32) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Connect(ctx, url, maxConns, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Migrate(ctx, st.Pool, log); err != nil {
		st.Close()
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}
