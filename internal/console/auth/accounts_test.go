package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestAccountsPolicyAndReset(t *testing.T) {
	ctx := context.Background()
	s, st, _ := fixture(t, func(s *auth.Service) {
		s.Password = auth.PasswordPolicy{MinLength: 10, MinClasses: 3, History: 3}
	})
	if _, err := s.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator}, "weakpassword"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Fatalf("weak initial password: %v", err)
	}
	u, err := s.CreateUser(ctx, store.User{Username: "op", Role: store.RoleOperator}, "Initial-pass-1")
	if err != nil || !u.MustChangePassword {
		t.Fatalf("created %+v %v", u, err)
	}
	res, err := s.Login(ctx, "op", "Initial-pass-1", "10.0.0.1")
	if err != nil || !res.Session.User.MustChangePassword {
		t.Fatalf("first login: %+v %v", res, err)
	}
	for _, tc := range []struct {
		pw   string
		want error
	}{
		{"Initial-pass-1", auth.ErrWeakPassword}, // the current one
		{"no-classes-here", auth.ErrWeakPassword},
		{"Second-pass-1", nil},
	} {
		if err := s.ChangePassword(ctx, res.Session, "Initial-pass-1", tc.pw, "10.0.0.1"); !errors.Is(err, tc.want) {
			t.Fatalf("change to %q: %v, want %v", tc.pw, err, tc.want)
		}
	}
	// An admin's reset: not one of the last three, to be changed at the next login, every session ends.
	if _, err := s.ResetPassword(ctx, u.ID, "Initial-pass-1"); !errors.Is(err, auth.ErrWeakPassword) {
		t.Fatalf("reset to a recent password: %v", err)
	}
	ended, err := s.ResetPassword(ctx, u.ID, "Third-pass-12")
	if err != nil || ended != 1 {
		t.Fatalf("reset: ended %d, %v", ended, err)
	}
	if _, err := s.Authenticate(bearer(res.Token)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("session after a reset: %v", err)
	}
	again, err := s.Login(ctx, "op", "Third-pass-12", "10.0.0.1")
	if err != nil || !again.Session.User.MustChangePassword {
		t.Fatalf("login after reset: %+v %v", again, err)
	}
	if _, err := s.ResetPassword(ctx, 99999, "Fourth-pass-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reset unknown user: %v", err)
	}

	// A disabled user's sessions end and its logins fail like a wrong password.
	if _, err := st.SetDisabled(ctx, u.ID, true, "left the unit", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(bearer(again.Token)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	if _, err := s.Login(ctx, "op", "Third-pass-12", "10.0.0.2"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("login of a disabled user: %v", err)
	}
}

func TestDisableDormant(t *testing.T) {
	ctx := context.Background()
	const twoYears = 2 * 365 * 24 * time.Hour
	s, st, clk := fixture(t, func(s *auth.Service) { s.DormantAfter = twoYears })
	if err := s.EnsureAdmin(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, store.User{Username: "sleeper", Role: store.RoleOperator}, "sleeper-password"); err != nil {
		t.Fatal(err)
	}
	clk.Add(twoYears + 24*time.Hour)
	if _, err := s.Login(ctx, "admin", "admin", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	// The service's own run may have gone first (it runs at start): the
	// state tells, not the names returned.
	if _, err := s.DisableDormant(ctx); err != nil {
		t.Fatal(err)
	}
	sleeper, err := st.UserByName(ctx, "sleeper")
	if err != nil || !sleeper.Disabled || !strings.HasPrefix(sleeper.DisabledReason, "dormant") {
		t.Fatalf("sleeper: %+v %v", sleeper, err)
	}
	if admin, err := st.UserByName(ctx, "admin"); err != nil || admin.Disabled {
		t.Fatalf("active admin: %+v %v", admin, err)
	}
	if _, err := s.Login(ctx, "sleeper", "sleeper-password", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("login of a dormant account: %v", err)
	}
}
