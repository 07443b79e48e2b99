package consoledb_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestTokensRevoked(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	op := newUser(t, s, "op", store.RoleOperator)
	moved := newUser(t, s, "moved", store.RoleOperator)
	gone := newUser(t, s, "gone", store.RoleOperator)
	t0 := op.CreatedAt
	// moved's tokens are all valid (as for a user older than the column),
	// so that a token of an hour before its role change can be revoked by it.
	if _, err := s.Pool.Exec(ctx, `UPDATE users SET tokens_revoked_at = '-infinity' WHERE id = $1`, moved.ID); err != nil {
		t.Fatal(err)
	}
	early := moved.CreatedAt.Add(-time.Hour)

	check := func(step string, names []string, at []time.Time, want []bool) {
		t.Helper()
		got, err := s.TokensRevoked(ctx, names, at)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s: TokensRevoked = %v %v, want %v", step, got, err, want)
		}
	}
	sec := t0.Truncate(time.Second)
	check("fresh", []string{"op", "op", "op", "op", "nobody", "moved"},
		[]time.Time{t0.Add(-time.Hour), sec.Add(-time.Second), sec, t0.Add(time.Hour), t0.Add(time.Hour), early},
		// Issued before the account existed (a name created again), in the
		// second before its creation, in its second (a user playing at
		// once), after it; an unknown name; a valid token.
		[]bool{true, true, false, false, true, false})

	if _, err := s.RevokeUserTokens(ctx, op.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("revoked", []string{"op", "op", "op"}, []time.Time{t0.Add(time.Hour), t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)},
		[]bool{true, true, false})

	if _, err := s.SetDisabled(ctx, op.ID, true, "left", t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("disabled", []string{"op"}, []time.Time{t0.Add(5 * time.Hour)}, []bool{true})
	if _, err := s.SetDisabled(ctx, op.ID, false, "", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	check("enabled again", []string{"op", "op"}, []time.Time{t0.Add(3 * time.Hour), t0.Add(5 * time.Hour)}, []bool{true, false})

	moved.Role = store.RoleAuditor
	if _, err := s.UpdateUser(ctx, moved); err != nil {
		t.Fatal(err)
	}
	check("role changed", []string{"moved"}, []time.Time{early}, []bool{true})

	if err := s.DeleteUser(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	check("deleted", []string{"gone"}, []time.Time{t0.Add(time.Hour)}, []bool{true})

	if got, err := s.TokensRevoked(ctx, nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("none: %v %v", got, err)
	}
	if _, err := s.TokensRevoked(ctx, []string{"op"}, nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("mismatched: %v, want ErrInvalid", err)
	}
}

func TestRevokeUserTokens(t *testing.T) {
	s := open(t)
	ctx := context.Background()
	u := newUser(t, s, "op", store.RoleOperator)
	now := u.CreatedAt.Add(time.Hour)
	if err := s.CreateUserSession(ctx, store.UserSession{TokenHash: []byte("h1"), UserID: u.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeUserTokens(ctx, u.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserSessionByToken(ctx, []byte("h1"), now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session after revoke: %v, want ErrNotFound", err)
	}
	if _, err := s.RevokeUserTokens(ctx, 9999, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown user: %v, want ErrNotFound", err)
	}
}
