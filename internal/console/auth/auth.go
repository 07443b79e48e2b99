// Package auth is the console's user authentication: argon2id passwords,
// login with lock-out, sessions kept in PostgreSQL (a restart logs nobody
// out), the session cookie and Bearer token, CSRF tokens, password changes,
// the initial admin user and the trusted-proxy rules. Every login, logout
// and password change is written to the audit log.
//
// A login answers the same, after the same work, whether the user is
// unknown, the password wrong or the (username, address) pair locked: each
// checks one argon2id hash (a dummy one for unknown users) and counts the
// failure in the same two counters, so neither the answer nor its timing
// tells which usernames exist or that a lock-out holds.
//
// The password checks of one client address run one after the other, from
// reading its failure counters to counting the failure, so that a burst of
// parallel guesses cannot get past a lock check before the failures ahead
// of it are counted. Only the argon2id hash itself holds one of the few
// hashing slots: a login waiting for the database never keeps another
// address's login from being checked.
package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// CookieName is the session cookie.
const CookieName = "sharpeyes_session"

// CSRFHeader carries the session's CSRF token on cookie-authenticated unsafe requests.
const CSRFHeader = "X-CSRF-Token"

// AdminUsername is the user created on first start.
const AdminUsername = "admin"

// MinPasswordLen is the shortest password a user may set.
const MinPasswordLen = 8

// touchInterval bounds how often a session's last use is written: one write
// per request would make every API call a database write.
const touchInterval = time.Minute

// cleanInterval is how often expired sessions are removed.
const cleanInterval = time.Hour

// Session is an authenticated request's login.
type Session struct {
	User store.User
	// CSRFToken is the session's token for X-CSRF-Token.
	CSRFToken string
	// ViaCookie tells whether the request authenticated with the cookie
	// (then unsafe methods need the CSRF token) or a Bearer token.
	ViaCookie bool
	ExpiresAt time.Time
	tokenHash []byte
}

// Service logs users in and checks sessions.
type Service struct {
	Store *consoledb.DB
	// Audit is where the service's audit rows go; nil means Store, a
	// transaction per row (the console gives its AuditWriter).
	Audit AuditLog
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// MaxFailures failed logins of one username from one address, each
	// within Lockout of the first, lock that pair for Lockout. Wrong old
	// passwords on the password change are counted apart, per user from
	// whatever address, and lock that user's password change for Lockout.
	MaxFailures int
	Lockout     time.Duration
	// IPMaxFailures failed password checks from one address (failed logins,
	// refused login bodies, wrong old passwords) within IPWindow refuse that
	// address's logins and password changes for IPWindow
	// (*TooManyAttemptsError); zero means 30 in 15 minutes.
	IPMaxFailures int
	IPWindow      time.Duration
	// AuditFailOpen lets a login through whose audit row cannot be written
	// (the failure is logged). The zero value refuses it
	// (ErrAuditUnavailable): a Service built without configuration fails
	// closed.
	AuditFailOpen bool
	// Password is the policy of new passwords; its zero fields take the
	// DefaultPasswordPolicy values.
	Password PasswordPolicy
	// DormantAfter disables, once a day, the accounts unused for that long
	// (DB3205 §8 c: two years); zero disables the job.
	DormantAfter time.Duration
	// Params of new password hashes; zero means DefaultParams.
	Params Params
	// MaxHashing bounds concurrent password hashes (each takes Params.Memory);
	// zero means 2. Further logins wait for a slot.
	MaxHashing int
	Log        *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// checkHash checks a password against a PHC hash: VerifyPassword,
	// unless a test (export_test.go) counts or holds its calls.
	checkHash func(phc, password string) (bool, error)
	sem       chan struct{}
	addrLocks keyLocks
	userLocks keyLocks
	dummyHash string
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Initialize prepares the service and starts removing expired sessions.
func (s *Service) Initialize() error {
	if s.Params == (Params{}) {
		s.Params = DefaultParams
	}
	if s.MaxHashing <= 0 {
		s.MaxHashing = 2
	}
	if s.IPMaxFailures <= 0 {
		s.IPMaxFailures = 30
	}
	if s.IPWindow <= 0 {
		s.IPWindow = 15 * time.Minute
	}
	if s.MaxFailures <= 0 {
		s.MaxFailures = 5
	}
	if s.Lockout <= 0 {
		s.Lockout = 15 * time.Minute
	}
	if s.checkHash == nil {
		s.checkHash = VerifyPassword
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	s.sem = make(chan struct{}, s.MaxHashing)
	// A login of an unknown user checks this hash, so that it takes as long
	// as a wrong password and does not tell which usernames exist.
	h, err := HashPassword("no such user", s.Params)
	if err != nil {
		return err
	}
	s.dummyHash = h
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.run(ctx)
	return nil
}

// Close stops the background work.
func (s *Service) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

func (s *Service) run(ctx context.Context) {
	defer s.wg.Done()
	t := time.NewTicker(cleanInterval)
	defer t.Stop()
	var dormantRun time.Time
	for {
		now := s.Now()
		// Daily, the first time at start: a console started once a day still runs it.
		if s.DormantAfter > 0 && (dormantRun.IsZero() || now.Sub(dormantRun) >= dormantInterval) {
			dormantRun = now
			if _, err := s.DisableDormant(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("disable dormant accounts", "error", err)
			}
		}
		if n, err := s.Store.DeleteExpiredUserSessions(ctx, now); err != nil && ctx.Err() == nil {
			s.Log.Warn("remove expired sessions", "error", err)
		} else if n > 0 {
			s.Log.Debug("removed expired sessions", "count", n)
		}
		// Failure counters idle for their whole window no longer count.
		for scope, idle := range map[string]time.Duration{
			store.FailLogin: s.Lockout, store.FailPassword: s.Lockout, store.FailLoginIP: s.IPWindow,
		} {
			if _, err := s.Store.DeleteIdleAuthFailures(ctx, scope, now, now.Add(-idle)); err != nil && ctx.Err() == nil {
				s.Log.Warn("remove idle failure counters", "scope", scope, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// EnsureAdmin creates the user "admin" with password, who must change it at the
// first login, when the database has no user at all.
func (s *Service) EnsureAdmin(ctx context.Context, password string) error {
	hash, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("create initial admin: %w", err)
	}
	created, err := s.Store.CreateFirstUser(ctx, store.User{
		Username: AdminUsername, PasswordHash: hash, Role: store.RoleAdmin,
		MustChangePassword: true,
	})
	if err != nil {
		return err
	}
	if created {
		s.Log.Warn("created the initial admin user with the configured initial password; it must be changed at the first login",
			"username", AdminUsername, "setting", "auth.initial_admin_password")
		_ = s.audit(ctx, store.AuditEntry{
			Username: AdminUsername, Action: "user_create", Target: AdminUsername,
			Detail: map[string]any{"role": store.RoleAdmin, "initial": true},
		})
	}
	return nil
}

// acquire takes a hashing slot: argon2id with 64 MiB per hash must not let a
// burst of logins take all the memory.
func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

func (s *Service) release() { <-s.sem }

func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return HashPassword(password, s.Params)
}

// verify checks password against phc, holding a hashing slot for the hash
// only. A wait for the slot cut short by ctx is ErrBusy.
func (s *Service) verify(ctx context.Context, phc, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return s.checkHash(phc, password)
}

func (s *Service) loginPolicy() store.AuthPolicy {
	return store.AuthPolicy{Max: s.MaxFailures, Window: s.Lockout, LockFor: s.Lockout}
}

func (s *Service) ipPolicy() store.AuthPolicy {
	return store.AuthPolicy{Max: s.IPMaxFailures, Window: s.IPWindow, LockFor: s.IPWindow}
}
