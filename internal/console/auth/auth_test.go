package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func openStore(t *testing.T) *consoledb.DB {
	t.Helper()
	return consoledb.New(storetest.Open(t, pgtest.NewDB(t), 4))
}

// newService starts a Service on st with the tests' settings — sessions
// of an hour, 3 failures lock for 15 minutes, cheap hashes, clk's time —
// as each of opts changes them; it is closed when the test ends.
func newService(t *testing.T, st *consoledb.DB, clk *clock, opts ...func(*auth.Service)) *auth.Service {
	t.Helper()
	s := &auth.Service{Store: st, SessionTTL: time.Hour, MaxFailures: 3, Lockout: 15 * time.Minute, Params: cheap, Now: clk.Now}
	for _, o := range opts {
		o(s)
	}
	if err := s.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// fixture is a Service (newService with opts) on a fresh database, the
// database and the Service's clock.
func fixture(t *testing.T, opts ...func(*auth.Service)) (*auth.Service, *consoledb.DB, *clock) {
	t.Helper()
	st := openStore(t)
	clk := &clock{now: time.Now().Truncate(time.Microsecond)}
	return newService(t, st, clk, opts...), st, clk
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestLoginLockoutAndSessions(t *testing.T) {
	ctx := context.Background()
	s, st, clk := fixture(t)
	if err := s.EnsureAdmin(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureAdmin(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "admin", "other", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("second EnsureAdmin must not change the password: %v", err)
	}
	if _, err := s.Login(ctx, "nobody", "admin", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	// Failure 1 came above; failure 2 is still a plain failure, 3 locks
	// admin for 10.0.0.1 — with the same answer as a wrong password.
	for i := 2; i <= 3; i++ {
		if _, err := s.Login(ctx, "admin", "wrong", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := s.Login(ctx, "admin", "admin", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("right password while locked: %v", err)
	}
	// The lock holds for that address only: nobody can keep admin locked from elsewhere.
	if res, err := s.Login(ctx, "admin", "admin", "10.0.0.2"); err != nil || res.Token == "" {
		t.Fatalf("login from another address: %v", err)
	}
	clk.Add(15 * time.Minute)
	res, err := s.Login(ctx, "admin", "admin", "10.0.0.1")
	if err != nil || res.Token == "" || res.Session.CSRFToken == "" || !res.Session.User.MustChangePassword ||
		res.Session.User.Role != store.RoleAdmin {
		t.Fatalf("login after the lock-out: %+v %v", res, err)
	}

	sess, err := s.Authenticate(bearer(res.Token))
	if err != nil || sess.User.Username != "admin" || sess.ViaCookie || sess.CSRFToken != res.Session.CSRFToken {
		t.Fatalf("bearer: %+v %v", sess, err)
	}
	cookieReq := httptest.NewRequest(http.MethodPost, "/api/v1/channels/x/play", nil)
	cookieReq.AddCookie(&http.Cookie{Name: auth.CookieName, Value: res.Token})
	sess, err = s.Authenticate(cookieReq)
	if err != nil || !sess.ViaCookie {
		t.Fatalf("cookie: %+v %v", sess, err)
	}
	if auth.CheckCSRF(cookieReq, sess) {
		t.Error("cookie POST without CSRF header passed")
	}
	cookieReq.Header.Set(auth.CSRFHeader, "wrong")
	if auth.CheckCSRF(cookieReq, sess) {
		t.Error("cookie POST with a wrong CSRF token passed")
	}
	cookieReq.Header.Set(auth.CSRFHeader, sess.CSRFToken)
	if !auth.CheckCSRF(cookieReq, sess) {
		t.Error("cookie POST with the CSRF token refused")
	}
	for _, bad := range []*http.Request{bearer("nope"), bearer(""), httptest.NewRequest(http.MethodGet, "/", nil)} {
		if _, err := s.Authenticate(bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("bad credentials: %v", err)
		}
	}

	// A restarted console (a new Service on the same database) knows the session.
	s2 := newService(t, st, clk)
	if _, err := s2.Authenticate(bearer(res.Token)); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	clk.Add(time.Hour)
	if _, err := s2.Authenticate(bearer(res.Token)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("expired session: %v", err)
	}

	entries, _, err := st.ListAudit(ctx, store.AuditFilter{Username: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
	}
	if count["login_failed"] != 4 || count["login"] != 2 || count["user_create"] != 1 {
		t.Errorf("audit actions %v", count)
	}
}

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	s, _, _ := fixture(t)
	if err := s.EnsureAdmin(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	first, err := s.Login(ctx, "admin", "admin", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Login(ctx, "admin", "admin", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ChangePassword(ctx, first.Session, "wrong", "new-password-1", ""); !errors.Is(err, auth.ErrWrongPassword) {
		t.Fatalf("wrong old: %v", err)
	}
	for _, weak := range []string{"short", "admin", "ADMIN", "admin"} {
		if err := s.ChangePassword(ctx, first.Session, "admin", weak, ""); !errors.Is(err, auth.ErrWeakPassword) {
			t.Fatalf("weak %q: %v", weak, err)
		}
	}
	if err := s.ChangePassword(ctx, first.Session, "admin", "new-password-1", ""); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Authenticate(bearer(first.Token))
	if err != nil || sess.User.MustChangePassword {
		t.Fatalf("own session after change: %+v %v", sess, err)
	}
	if _, err := s.Authenticate(bearer(second.Token)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("other session must end: %v", err)
	}
	if _, err := s.Login(ctx, "admin", "admin", ""); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, err := s.Login(ctx, "admin", "new-password-1", ""); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if err := s.Logout(ctx, sess, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(bearer(first.Token)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("after logout: %v", err)
	}
}

// TestLockoutHoldsForWaitingLogins checks that a login whose password
// check was under way while the account got locked is refused even with
// the right password: the pair's lock is read after the hash (and the wait
// for its slot), so that a burst of parallel guesses cannot all pass the
// lock check before the first failures are counted.
func TestLockoutHoldsForWaitingLogins(t *testing.T) {
	ctx := context.Background()
	hashing, proceed := make(chan struct{}), make(chan struct{})
	s, st, clk := fixture(t, func(s *auth.Service) {
		auth.SetCheckHash(s, func(phc, password string) (bool, error) {
			// The login is inside its hash: past every read before it.
			close(hashing)
			<-proceed
			return auth.VerifyPassword(phc, password)
		})
	})
	u := addUser(t, st, "alice", "alice-password")

	done := make(chan error, 1)
	go func() {
		_, err := s.Login(ctx, "alice", "alice-password", "10.0.0.9")
		done <- err
	}()
	<-hashing
	// Meanwhile other guesses lock alice for this address.
	key := store.AuthKey{Scope: store.FailLogin, Username: u.Username, Remote: "10.0.0.9"}
	if _, err := st.CountAuthFailure(ctx, key, clk.Now(), store.AuthPolicy{Max: 1, Window: time.Minute, LockFor: time.Minute}); err != nil {
		close(proceed)
		t.Fatalf("count the failure: %v (the login then said %v)", err, <-done)
	}
	close(proceed)
	if err := <-done; !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("login after the lock: %v, want ErrInvalidCredentials", err)
	}
	failed, _, err := st.ListAudit(ctx, store.AuditFilter{Username: "alice", Action: "login_failed"})
	if err != nil || len(failed) != 1 || failed[0].Detail["reason"] != "locked" {
		t.Fatalf("audit %+v %v, want one failure for the lock", failed, err)
	}
}
