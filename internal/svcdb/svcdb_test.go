package svcdb_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/schema"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func dbConfig(url string) config.Database {
	return config.Database{URL: config.DatabaseURL(url), MaxConns: 2, ConnectTimeout: config.Duration(time.Minute)}
}

// TestReaderWaitsForTheOwner starts a reader on an empty database, then the
// owner: the reader's wait (its connect timeout) ends when the owner's
// migrations are in, as when make run starts every service at once.
func TestReaderWaitsForTheOwner(t *testing.T) {
	cfg := dbConfig(pgtest.NewDB(t))
	ctx := context.Background()
	type result struct{ err error }
	reader := make(chan result, 1)
	go func() {
		st, err := svcdb.Open(ctx, "console", cfg, svcdb.Reader, quiet)
		if err == nil {
			st.Close()
		}
		reader <- result{err}
	}()
	owner, err := svcdb.Open(ctx, "sipserver", cfg, svcdb.Owner, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if v, err := schema.Version(ctx, owner.Pool); err != nil || v != schema.Latest() {
		t.Fatalf("owner left version %d (%v), want %d", v, err, schema.Latest())
	}
	if r := <-reader; r.err != nil {
		t.Fatal(r.err)
	}
}

func TestOpenUnreachable(t *testing.T) {
	cfg := config.Database{URL: "postgres://x@127.0.0.1:1/x?sslmode=disable", MaxConns: 1, ConnectTimeout: config.Duration(3 * time.Second)}
	if _, err := svcdb.Open(context.Background(), "recorder", cfg, svcdb.Reader, quiet); err == nil {
		t.Fatal("want an error")
	}
}
