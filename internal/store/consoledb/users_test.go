package consoledb_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

func newUser(t *testing.T, s *consoledb.DB, name, role string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.User{Username: name, PasswordHash: "$argon2id$test", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUsers(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u := newUser(t, s, "alice", store.RoleOperator)
	if u.ID == 0 || u.Username != "alice" || u.Role != store.RoleOperator || u.MustChangePassword {
		t.Fatalf("created %+v", u)
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "alice", PasswordHash: "x", Role: store.RoleAdmin}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate: %v, want ErrExists", err)
	}
	for _, bad := range []store.User{
		{Username: "", PasswordHash: "x", Role: store.RoleAdmin},
		{Username: "bob", PasswordHash: "", Role: store.RoleAdmin},
		{Username: "bob", PasswordHash: "x", Role: "root"},
	} {
		if _, err := s.CreateUser(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateUser(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if got, err := s.UserByName(ctx, "alice"); err != nil || got.ID != u.ID {
		t.Fatalf("by name: %+v %v", got, err)
	}
	if _, err := s.UserByName(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := s.UserByID(ctx, 9999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if err := s.SetPassword(ctx, u.ID, "$argon2id$new", true, 5); err != nil {
		t.Fatal(err)
	}
	u.Role = store.RoleAuditor
	if _, err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.PasswordHash != "$argon2id$new" || !got.MustChangePassword || got.Role != store.RoleAuditor {
		t.Fatalf("after updates: %+v %v", got, err)
	}
	if err := s.SetPassword(ctx, 9999, "x", false, 5); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("set password of unknown: %v", err)
	}
	users, err := s.ListUsers(ctx, 0)
	if err != nil || len(users) != 1 {
		t.Fatalf("list: %v %v", users, err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestLoginSucceededStamps(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u := newUser(t, s, "alice", store.RoleOperator)
	now := time.Now().Truncate(time.Microsecond)
	if err := s.LoginSucceeded(ctx, u.ID, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.LastLoginAt == nil || !got.LastLoginAt.Equal(now) {
		t.Fatalf("after success: %+v %v", got, err)
	}
	if err := s.LoginSucceeded(ctx, 9999, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestCreateFirstUserOnce(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	created := make([]bool, 4)
	errs := make([]error, 4)
	for i := range created {
		wg.Go(func() {
			created[i], errs[i] = s.CreateFirstUser(ctx, store.User{
				Username: "admin", PasswordHash: "h", Role: store.RoleAdmin,
				MustChangePassword: true,
			})
		})
	}
	wg.Wait()
	n := 0
	for i := range created {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if created[i] {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d first users created, want 1", n)
	}
	if ok, err := s.CreateFirstUser(ctx, store.User{Username: "other", PasswordHash: "h", Role: store.RoleAdmin}); ok || err != nil {
		t.Fatalf("with users present: %v %v", ok, err)
	}
	u, err := s.UserByName(ctx, "admin")
	if err != nil || !u.MustChangePassword || u.Role != store.RoleAdmin {
		t.Fatalf("admin: %+v %v", u, err)
	}
}

func TestUserSessions(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u := newUser(t, s, "alice", store.RoleOperator)
	now := time.Now().Truncate(time.Microsecond)
	mk := func(b byte, expires time.Time) []byte {
		h := bytes.Repeat([]byte{b}, 32)
		if err := s.CreateUserSession(ctx, store.UserSession{
			TokenHash: h, UserID: u.ID, CSRFToken: "csrf", CreatedAt: now,
			ExpiresAt: expires, Remote: "10.0.0.1",
		}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	a := mk(1, now.Add(time.Hour))
	b := mk(2, now.Add(time.Hour))
	old := mk(3, now.Add(-time.Second))
	if err := s.CreateUserSession(ctx, store.UserSession{UserID: u.ID}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("empty session: %v", err)
	}

	us, gotUser, err := s.UserSessionByToken(ctx, a, now)
	if err != nil || us.CSRFToken != "csrf" || us.Remote != "10.0.0.1" || gotUser.Username != "alice" || !us.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("session: %+v %+v %v", us, gotUser, err)
	}
	if _, _, err := s.UserSessionByToken(ctx, old, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if _, _, err := s.UserSessionByToken(ctx, a, now.Add(2*time.Hour)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session past its expiry: %v", err)
	}
	if err := s.TouchUserSession(ctx, a, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if us, _, _ := s.UserSessionByToken(ctx, a, now); !us.LastSeenAt.Equal(now.Add(time.Minute)) {
		t.Errorf("last seen %v", us.LastSeenAt)
	}
	if n, err := s.DeleteExpiredUserSessions(ctx, now); err != nil || n != 1 {
		t.Fatalf("expired removed: %d %v", n, err)
	}
	if n, err := s.DeleteUserSessions(ctx, u.ID, a); err != nil || n != 1 {
		t.Fatalf("others removed: %d %v", n, err)
	}
	if _, _, err := s.UserSessionByToken(ctx, b, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b must be gone: %v", err)
	}
	if err := s.DeleteUserSession(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserSessionByToken(ctx, a, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("logged out session: %v", err)
	}
	// Deleting the user ends its sessions.
	c := mk(4, now.Add(time.Hour))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserSessionByToken(ctx, c, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session of deleted user: %v", err)
	}
	if n, err := s.DeleteUserSessions(ctx, u.ID, nil); err != nil || n != 0 {
		t.Fatalf("delete all: %d %v", n, err)
	}
}
