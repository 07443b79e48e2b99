package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

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
