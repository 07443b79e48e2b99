package schema_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/schema"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var quiet = slog.New(slog.DiscardHandler)

func connect(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Connect(context.Background(), pgtest.NewDB(t), 4, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func version(t *testing.T, st *store.Store) int64 {
	t.Helper()
	v, err := schema.Version(context.Background(), st.Pool)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateConcurrently(t *testing.T) {
	st := connect(t)
	if v := version(t, st); v != 0 {
		t.Fatalf("fresh database at version %d, want 0", v)
	}
	// Owners started together against one database must not race.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = schema.Migrate(context.Background(), st.Pool, quiet) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v := version(t, st); v != schema.Latest() {
		t.Fatalf("version %d, want %d", v, schema.Latest())
	}
}

func TestMigrationsDownAndUp(t *testing.T) {
	st := connect(t)
	ctx := context.Background()
	if err := schema.Migrate(ctx, st.Pool, quiet); err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(st.Pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, schema.Migrations())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if v := version(t, st); v != int64(len(p.ListSources())) || v != schema.Latest() {
		t.Fatalf("version %d, want %d sources, latest %d", v, len(p.ListSources()), schema.Latest())
	}
}

func TestRequire(t *testing.T) {
	t.Run("current schema", func(t *testing.T) {
		st := connect(t)
		if err := schema.Migrate(context.Background(), st.Pool, quiet); err != nil {
			t.Fatal(err)
		}
		if err := schema.Require(context.Background(), st.Pool, "console", 0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("too old names the versions and what to do", func(t *testing.T) {
		st := connect(t)
		// No owner comes and no wait is allowed: the answer is immediate.
		err := schema.Require(context.Background(), st.Pool, "console", 0)
		if !errors.Is(err, schema.ErrTooOld) {
			t.Fatalf("err %v, want ErrTooOld", err)
		}
		for _, want := range []string{"version 0", "version " + strconv.FormatInt(schema.Latest(), 10), "start sipserver first", "console"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
	})
	t.Run("waits for the owner", func(t *testing.T) {
		st := connect(t)
		done := make(chan error, 1)
		go func() { done <- schema.Require(context.Background(), st.Pool, "recorder", time.Hour) }()
		if err := schema.Migrate(context.Background(), st.Pool, quiet); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
