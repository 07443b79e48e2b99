package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// reasons counts the rows of action by reason.
func reasons(t *testing.T, st *consoledb.DB, action string) map[string]int {
	t.Helper()
	entries, _, err := st.ListAudit(context.Background(), store.AuditFilter{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range entries {
		r, _ := e.Detail["reason"].(string)
		out[r]++
	}
	return out
}

// TestRefusedLoginsOfABlockedAddress checks that refused login bodies of
// an address that reached its limit are answered like its other logins
// (TooManyAttemptsError) and neither write audit rows nor touch the
// counter: a blocked address cannot fill the audit log.
func TestRefusedLoginsOfABlockedAddress(t *testing.T) {
	ctx := context.Background()
	s, st, clk := fixture(t, func(s *auth.Service) { s.MaxFailures, s.IPMaxFailures, s.IPWindow = 5, 3, 10*time.Minute })
	// Three refused bodies are three failures: the third blocks the address.
	for i := range 3 {
		if err := s.RefuseLogin(ctx, "ad\x00min", "10.0.0.7", "username is not text"); err != nil {
			t.Fatalf("refused body %d: %v", i, err)
		}
	}
	ipKey := store.AuthKey{Scope: store.FailLoginIP, Remote: "10.0.0.7"}
	before, err := st.AuthFailureOf(ctx, ipKey)
	if err != nil || !before.Locked(clk.Now()) {
		t.Fatalf("address counter after 3 refused bodies %+v %v, want locked", before, err)
	}
	var many *auth.TooManyAttemptsError
	for i := range 20 {
		if err := s.RefuseLogin(ctx, "\x00", "10.0.0.7", "username is not text"); !errors.As(err, &many) || !many.Until.Equal(*before.LockedUntil) {
			t.Fatalf("refused body %d from the blocked address: %v, want its TooManyAttemptsError", i, err)
		}
	}
	if got := reasons(t, st, "login_failed"); len(got) != 1 || got["username is not text"] != 3 {
		t.Errorf("audited refusals %v, want the 3 before the block only", got)
	}
	after, err := st.AuthFailureOf(ctx, ipKey)
	if err != nil || after.Failures != before.Failures || !after.LockedUntil.Equal(*before.LockedUntil) {
		t.Errorf("address counter %+v %v, want it untouched (%+v)", after, err, before)
	}
}

// TestPasswordChangeLockoutPerUser checks that wrong old passwords lock the
// password change of the user whatever the address they come from, and
// that they count towards the address's limit, which then refuses that
// address's logins and password changes.
func TestPasswordChangeLockoutPerUser(t *testing.T) {
	ctx := context.Background()
	s, st, clk := fixture(t, func(s *auth.Service) { s.IPMaxFailures = 4 })
	addUser(t, st, "alice", "alice-password")
	addUser(t, st, "bob", "bob-password")
	// A stolen session used from several addresses.
	stolen, err := s.Login(ctx, "alice", "alice-password", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"10.0.0.2", "10.0.0.3"} {
		if err := s.ChangePassword(ctx, stolen.Session, "guess", "new-password-1", addr); !errors.Is(err, auth.ErrWrongPassword) {
			t.Fatalf("guess from %s: %v", addr, err)
		}
	}
	var locked *auth.LockedError
	if err := s.ChangePassword(ctx, stolen.Session, "guess", "new-password-1", "10.0.0.4"); !errors.As(err, &locked) {
		t.Fatalf("third guess, from a third address: %v, want LockedError", err)
	}
	if err := s.ChangePassword(ctx, stolen.Session, "alice-password", "new-password-1", "10.0.0.5"); !errors.As(err, &locked) {
		t.Fatalf("right old password from a fresh address while locked: %v, want LockedError", err)
	}
	// Only alice's password change is locked: her logins and bob's changes are not.
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.5"); err != nil {
		t.Fatalf("alice's login while her password change is locked: %v", err)
	}
	bob, err := s.Login(ctx, "bob", "bob-password", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}

	// Each guess counted for its address: three more from 10.0.0.2 (bob's
	// wrong ones and a locked one of alice's) reach its limit of 4.
	if f, err := st.AuthFailureOf(ctx, store.AuthKey{Scope: store.FailLoginIP, Remote: "10.0.0.3"}); err != nil || f.Failures != 1 {
		t.Fatalf("address counter of 10.0.0.3: %+v %v, want 1 failure", f, err)
	}
	if err := s.ChangePassword(ctx, bob.Session, "guess", "new-password-1", "10.0.0.2"); !errors.Is(err, auth.ErrWrongPassword) {
		t.Fatalf("bob's guess: %v", err)
	}
	if err := s.ChangePassword(ctx, stolen.Session, "guess", "new-password-1", "10.0.0.2"); !errors.As(err, &locked) {
		t.Fatalf("alice's guess while locked: %v", err)
	}
	if err := s.ChangePassword(ctx, bob.Session, "guess", "new-password-1", "10.0.0.2"); !errors.Is(err, auth.ErrWrongPassword) {
		t.Fatalf("bob's second guess (the address's 4th failure): %v", err)
	}
	var many *auth.TooManyAttemptsError
	if err := s.ChangePassword(ctx, bob.Session, "bob-password", "new-password-1", "10.0.0.2"); !errors.As(err, &many) {
		t.Fatalf("bob's right old password from a blocked address: %v, want TooManyAttemptsError", err)
	}
	if _, err := s.Login(ctx, "bob", "bob-password", "10.0.0.2"); !errors.As(err, &many) {
		t.Fatalf("login from the blocked address: %v, want TooManyAttemptsError", err)
	}

	clk.Add(15 * time.Minute)
	if err := s.ChangePassword(ctx, stolen.Session, "alice-password", "new-password-1", "10.0.0.6"); err != nil {
		t.Fatalf("after the lock-out: %v", err)
	}
	f, err := st.AuthFailureOf(ctx, store.AuthKey{Scope: store.FailPassword, Username: "alice"})
	if err != nil || f.Failures != 0 || f.LockedUntil != nil {
		t.Errorf("alice's counter after a success %+v %v", f, err)
	}
	got := reasons(t, st, "password_change_failed")
	if got["wrong old password"] != 5 || got["locked"] != 2 || len(got) != 2 {
		t.Errorf("audited password change failures %v, want 5 wrong and 2 locked (a blocked address writes none)", got)
	}
}

// TestHashingSlotOnlyAroundTheHash checks that a login holds a hashing
// slot for its password hash only: one stuck in the database (here behind
// a row lock of its failure counter) leaves the slot to other logins.
func TestHashingSlotOnlyAroundTheHash(t *testing.T) {
	ctx := context.Background()
	s, st, clk := fixture(t, func(s *auth.Service) { s.MaxFailures, s.MaxHashing = 5, 1 })
	addUser(t, st, "alice", "alice-password")
	key := store.AuthKey{Scope: store.FailLogin, Username: "slowpoke", Remote: "10.0.0.1"}
	if _, err := st.CountAuthFailure(ctx, key, clk.Now(), store.AuthPolicy{Max: 5, Window: time.Hour, LockFor: time.Hour}); err != nil {
		t.Fatal(err)
	}
	// Hold the counter's row: the next failure of slowpoke waits for it.
	tx, err := st.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rolledBack := false
	rollback := func() {
		if !rolledBack {
			rolledBack = true
			_ = tx.Rollback(ctx)
		}
	}
	defer rollback()
	if _, err := tx.Exec(ctx, `SELECT 1 FROM auth_failures WHERE scope = $1 AND username = $2 AND remote = $3 FOR UPDATE`,
		key.Scope, key.Username, key.Remote); err != nil {
		t.Fatal(err)
	}
	slow := make(chan error, 1)
	go func() {
		_, err := s.Login(ctx, "slowpoke", "x", "10.0.0.1")
		slow <- err
	}()
	defer func() {
		rollback()
		if err := <-slow; !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("the held-up login: %v, want ErrInvalidCredentials", err)
		}
	}()
	testsupport.Eventually(t, auth.Patience(t), "the login waits for the row lock", func() bool {
		var n int
		err := st.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%auth_failures%'`).Scan(&n)
		return err == nil && n > 0
	})
	// The login is past its hash and stuck in the database: the only slot is free.
	if !s.TrySlot() {
		t.Fatal("a login waiting for the database holds the hashing slot")
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.2"); err != nil {
		t.Fatalf("login from another address while one is held up: %v", err)
	}
}

// TestParallelBurstKeepsTheLockout checks that a burst of parallel guesses
// from one address cannot get past the lock-out or the address limit:
// exactly max_failures wrong passwords are checked, then the pair is
// locked; exactly ip_max_failures failures, then the address is refused.
func TestParallelBurstKeepsTheLockout(t *testing.T) {
	ctx := context.Background()
	s, st, _ := fixture(t, func(s *auth.Service) { s.IPMaxFailures, s.MaxHashing = 20, 2 })
	addUser(t, st, "alice", "alice-password")
	burst := func(n int, user func(i int) string, remote string) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = s.Login(ctx, user(i), "guess", remote) })
		}
		wg.Wait()
		return errs
	}

	for i, err := range burst(12, func(int) string { return "alice" }, "10.0.0.1") {
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if got := reasons(t, st, "login_failed"); got["wrong password"] != 3 || got["locked"] != 9 {
		t.Errorf("burst of 12 guesses: %v, want 3 wrong passwords checked, then 9 locked", got)
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("right password after the burst: %v, want ErrInvalidCredentials", err)
	}

	// Spraying in parallel from another address: 20 failures, then 429.
	counted, refused := 0, 0
	for i, err := range burst(30, func(i int) string { return fmt.Sprintf("user%d", i) }, "10.0.0.2") {
		var many *auth.TooManyAttemptsError
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			counted++
		case errors.As(err, &many):
			refused++
		default:
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	if counted != 20 || refused != 10 {
		t.Errorf("parallel spray of 30: %d failures counted and %d refused, want 20 and 10", counted, refused)
	}
}
