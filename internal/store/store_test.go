package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// lockedBuffer is a log destination the pool's connections may write from
// any goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNoticesLogged: what the database says besides results (a migration's
// RAISE NOTICE or WARNING) is a log line with its severity.
func TestNoticesLogged(t *testing.T) {
	var out lockedBuffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	st, err := store.Connect(context.Background(), pgtest.NewDB(t), 1, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.Pool.Exec(context.Background(), `DO $$ BEGIN RAISE NOTICE 'audit owner missing'; RAISE WARNING 'careful'; END $$`)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		`level=INFO msg="database notice" severity=NOTICE message="audit owner missing"`,
		`level=WARN msg="database notice" severity=WARNING message=careful`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q lacks %q", got, want)
		}
	}
}

func TestOpenBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := store.Connect(ctx, "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", 1, slog.Default()); err == nil {
		t.Fatal("want a connect error")
	}
	if _, err := store.Connect(ctx, "::not a url", 1, slog.Default()); err == nil {
		t.Fatal("want a parse error")
	}
}

// TestListPage: the page and its total (two statements at once) agree, on
// a pool of one connection too, and a failing statement is the answer's
// error with nothing left running (the leak check of TestMain).
func TestListPage(t *testing.T) {
	ctx := context.Background()
	st, err := store.Connect(ctx, pgtest.NewDB(t), 1, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Pool.Exec(ctx, `CREATE TABLE n AS SELECT g AS v FROM generate_series(1, 25) g`); err != nil {
		t.Fatal(err)
	}
	scan := func(row pgx.Row) (int, error) {
		var v int
		err := row.Scan(&v)
		return v, err
	}
	var c store.Conds
	c.Add("v > $?", 5)
	tests := []struct {
		name          string
		table         string
		limit, offset int
		want          []int
		total         int
		err           string
	}{
		{"first page", "n", 3, 0, []int{6, 7, 8}, 20, ""},
		{"past the end", "n", 3, 30, []int{}, 20, ""},
		{"no such table", "missing", 3, 0, nil, 0, "count missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := store.ListPage(ctx, st.Pool, tt.table, "v", c, "v", tt.limit, tt.offset, scan)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || total != tt.total || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v %d %v, want %v %d", got, total, err, tt.want, tt.total)
			}
		})
	}
}
