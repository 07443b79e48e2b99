package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

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
