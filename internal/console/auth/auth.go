// Package auth is the console's user authentication: argon2id passwords,
// login with lock-out, sessions kept in PostgreSQL (a restart logs nobody
// out), the session cookie and Bearer token, CSRF tokens, password changes,
// and the initial admin user. Every login, logout and password change is
// written to the audit log.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
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
	Store *store.Store
	// SessionTTL is how long a login lasts.
	SessionTTL time.Duration
	// MaxFailures consecutive failed logins lock an account for Lockout.
	MaxFailures int
	Lockout     time.Duration
	// Params of new password hashes; zero means DefaultParams.
	Params Params
	// MaxHashing bounds concurrent password hashes (each takes Params.Memory);
	// zero means 2. Further logins wait for a slot.
	MaxHashing int
	Log        *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	sem       chan struct{}
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
	for {
		if n, err := s.Store.DeleteExpiredUserSessions(ctx, s.Now()); err != nil && ctx.Err() == nil {
			s.Log.Warn("remove expired sessions", "error", err)
		} else if n > 0 {
			s.Log.Debug("removed expired sessions", "count", n)
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
		s.audit(ctx, store.AuditEntry{
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

func (s *Service) verify(ctx context.Context, phc, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return VerifyPassword(phc, password)
}

// LoginResult is a successful login.
type LoginResult struct {
	// Token is the session token: the cookie's value, or the Bearer token.
	Token   string
	Session Session
}

// Login checks username and password and opens a session. It returns
// ErrInvalidCredentials for an unknown user or a wrong password, and a
// *LockedError while the account is locked (also for the failure that locks it).
func (s *Service) Login(ctx context.Context, username, password, remote string) (LoginResult, error) {
	// The user is read, checked and its failure counted while holding a
	// hashing slot: a burst of parallel guesses must not all pass the lock
	// check before the first failures are counted (at most MaxHashing-1
	// guesses beyond MaxFailures).
	if err := s.acquire(ctx); err != nil {
		return LoginResult{}, err
	}
	u, err := s.checkLogin(ctx, username, password, remote)
	s.release()
	if err != nil {
		return LoginResult{}, err
	}
	now := s.Now()
	if err := s.Store.LoginSucceeded(ctx, u.ID, now); err != nil {
		return LoginResult{}, err
	}
	token, tokenHash, err := newToken()
	if err != nil {
		return LoginResult{}, err
	}
	csrf, _, err := newToken()
	if err != nil {
		return LoginResult{}, err
	}
	us := store.UserSession{
		TokenHash: tokenHash, UserID: u.ID, CSRFToken: csrf, CreatedAt: now,
		ExpiresAt: now.Add(s.SessionTTL), Remote: remote,
	}
	if err := s.Store.CreateUserSession(ctx, us); err != nil {
		return LoginResult{}, err
	}
	s.audit(ctx, store.AuditEntry{Username: u.Username, Action: "login", Remote: remote})
	return LoginResult{Token: token, Session: Session{User: u, CSRFToken: csrf, ExpiresAt: us.ExpiresAt, tokenHash: tokenHash}}, nil
}

// checkLogin returns the user of username if password is right and the
// account not locked. The caller holds a hashing slot.
func (s *Service) checkLogin(ctx context.Context, username, password, remote string) (store.User, error) {
	now := s.Now()
	u, err := s.Store.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		_, _ = VerifyPassword(s.dummyHash, password)
		s.audit(ctx, store.AuditEntry{
			Username: username, Action: "login_failed", Remote: remote,
			Detail: map[string]any{"reason": "unknown user"},
		})
		return u, ErrInvalidCredentials
	}
	if err != nil {
		return u, err
	}
	if u.Locked(now) {
		// The password is not even checked: a locked account must not be guessable.
		s.audit(ctx, store.AuditEntry{
			Username: username, Action: "login_failed", Remote: remote,
			Detail: map[string]any{"reason": "locked"},
		})
		return u, &LockedError{Until: *u.LockedUntil}
	}
	ok, err := VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return u, fmt.Errorf("login %s: %w", username, err)
	}
	if ok {
		return u, nil
	}
	u, err = s.Store.LoginFailed(ctx, u.ID, s.MaxFailures, now.Add(s.Lockout))
	if err != nil {
		return u, err
	}
	detail := map[string]any{"reason": "wrong password", "failures": u.FailedLogins}
	if u.Locked(now) {
		detail["locked_until"] = u.LockedUntil.UTC().Format(time.RFC3339)
		s.Log.Warn("account locked after repeated failed logins", "username", username, "remote", remote,
			"until", *u.LockedUntil)
	}
	s.audit(ctx, store.AuditEntry{Username: username, Action: "login_failed", Remote: remote, Detail: detail})
	if u.Locked(now) {
		return u, &LockedError{Until: *u.LockedUntil}
	}
	return u, ErrInvalidCredentials
}

// newToken returns a random token and its SHA-256.
func newToken() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("new token: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Authenticate returns the session of r: the Bearer token when there is an
// Authorization header, otherwise the session cookie. ErrUnauthenticated
// when there is neither or it is unknown or expired.
func (s *Service) Authenticate(r *http.Request) (Session, error) {
	var token string
	viaCookie := false
	if h := r.Header.Get("Authorization"); h != "" {
		t, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return Session{}, fmt.Errorf("%w: Authorization is not a Bearer token", ErrUnauthenticated)
		}
		token = strings.TrimSpace(t)
	} else if c, err := r.Cookie(CookieName); err == nil {
		token, viaCookie = c.Value, true
	}
	// Real tokens are 43 characters; anything far off is not looked up.
	if token == "" || len(token) > 128 {
		return Session{}, ErrUnauthenticated
	}
	now := s.Now()
	tokenHash := hashToken(token)
	us, u, err := s.Store.UserSessionByToken(r.Context(), tokenHash, now)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, err
	}
	if now.Sub(us.LastSeenAt) >= touchInterval {
		if err := s.Store.TouchUserSession(r.Context(), tokenHash, now); err != nil {
			s.Log.Warn("touch session", "username", u.Username, "error", err)
		}
	}
	return Session{User: u, CSRFToken: us.CSRFToken, ViaCookie: viaCookie, ExpiresAt: us.ExpiresAt, tokenHash: tokenHash}, nil
}

// Valid returns ErrUnauthenticated when sess has ended since it was
// authenticated (logout, expiry, password change elsewhere): a long-lived
// request such as an event stream checks it now and then.
func (s *Service) Valid(ctx context.Context, sess Session) error {
	_, _, err := s.Store.UserSessionByToken(ctx, sess.tokenHash, s.Now())
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnauthenticated
	}
	return err
}

// CheckCSRF reports whether r may act on sess: safe methods and
// Bearer-authenticated requests always may; cookie-authenticated unsafe
// requests need the session's CSRF token in X-CSRF-Token.
func CheckCSRF(r *http.Request, sess Session) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if !sess.ViaCookie {
		// A browser never adds an Authorization header on its own: a cross-site
		// request cannot carry the token.
		return true
	}
	got := r.Header.Get(CSRFHeader)
	return got != "" && constantTimeEqual(got, sess.CSRFToken)
}

// Logout ends sess.
func (s *Service) Logout(ctx context.Context, sess Session, remote string) error {
	if err := s.Store.DeleteUserSession(ctx, sess.tokenHash); err != nil {
		return err
	}
	s.audit(ctx, store.AuditEntry{Username: sess.User.Username, Action: "logout", Remote: remote})
	return nil
}

// CheckNewPassword says why a new password is refused (an error wrapping
// ErrWeakPassword), or nil.
func CheckNewPassword(username, oldPassword, newPassword string) error {
	switch {
	case len([]rune(newPassword)) < MinPasswordLen:
		return fmt.Errorf("%w: it must have at least %d characters", ErrWeakPassword, MinPasswordLen)
	case len(newPassword) > MaxPasswordLen:
		return fmt.Errorf("%w: it must have at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(newPassword), username):
		return fmt.Errorf("%w: it must not be the username", ErrWeakPassword)
	case newPassword == oldPassword:
		return fmt.Errorf("%w: it must differ from the old one", ErrWeakPassword)
	}
	return nil
}

// ChangePassword sets a new password for sess's user after checking the old
// one, clears the must-change flag and ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, sess Session, oldPassword, newPassword, remote string) error {
	u, err := s.Store.UserByID(ctx, sess.User.ID)
	if err != nil {
		return err
	}
	ok, err := s.verify(ctx, u.PasswordHash, oldPassword)
	if err != nil {
		return fmt.Errorf("change password of %s: %w", u.Username, err)
	}
	if !ok {
		s.audit(ctx, store.AuditEntry{
			Username: u.Username, Action: "password_change_failed", Remote: remote,
			Detail: map[string]any{"reason": "wrong old password"},
		})
		return ErrWrongPassword
	}
	if err := CheckNewPassword(u.Username, oldPassword, newPassword); err != nil {
		return err
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, u.ID, hash, false); err != nil {
		return err
	}
	// Whoever knew the old password may hold a session: end them all but this one.
	ended, err := s.Store.DeleteUserSessions(ctx, u.ID, sess.tokenHash)
	if err != nil {
		return err
	}
	s.audit(ctx, store.AuditEntry{
		Username: u.Username, Action: "password_change", Remote: remote,
		Detail: map[string]any{"other_sessions_ended": ended},
	})
	return nil
}

// SetCookie sets the session cookie on w: HttpOnly, SameSite=Strict, Path=/,
// Secure when the request came over TLS.
func SetCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// ClearCookie removes the session cookie.
func ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

// RemoteAddr is the client's IP as the console sees it (no proxy headers are trusted).
func RemoteAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Service) audit(ctx context.Context, e store.AuditEntry) {
	// The audit row is written even when the client went away mid-request.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Store.AddAudit(ctx, e); err != nil {
		s.Log.Error("write audit log", "action", e.Action, "username", e.Username, "error", err)
	}
}
