package consoledb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestAudit(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	t0 := time.Now().Truncate(time.Microsecond)
	entries := []store.AuditEntry{
		{At: t0, Username: "alice", Action: "login", Remote: "10.0.0.1"},
		{
			At: t0.Add(time.Second), Username: "alice", Action: "play", Target: "34020000001310000001",
			Remote: "10.0.0.1", Detail: map[string]any{"path": "live/34020000001310000001"},
		},
		{At: t0.Add(2 * time.Second), Username: "bob", Action: "login_failed", Remote: "10.0.0.2"},
	}
	for _, e := range entries {
		if err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddAudit(ctx, store.AuditEntry{Username: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty action: %v", err)
	}
	all, total, err := s.ListAudit(ctx, store.AuditFilter{})
	if err != nil || total != 3 || len(all) != 3 || all[0].Action != "login_failed" {
		t.Fatalf("all: %+v %d %v", all, total, err)
	}
	plays, _, err := s.ListAudit(ctx, store.AuditFilter{Username: "alice", Action: "play"})
	if err != nil || len(plays) != 1 || plays[0].Target != "34020000001310000001" ||
		plays[0].Detail["path"] != "live/34020000001310000001" || !plays[0].At.Equal(t0.Add(time.Second)) {
		t.Fatalf("plays: %+v %v", plays, err)
	}
	window, total, err := s.ListAudit(ctx, store.AuditFilter{From: t0, To: t0.Add(2 * time.Second), Limit: 1})
	if err != nil || total != 2 || len(window) != 1 || window[0].Action != "play" {
		t.Fatalf("window: %+v %d %v", window, total, err)
	}
	byTarget, _, err := s.ListAudit(ctx, store.AuditFilter{Target: "34020000001310000001"})
	if err != nil || len(byTarget) != 1 {
		t.Fatalf("by target: %+v %v", byTarget, err)
	}
}
