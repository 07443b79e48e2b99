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
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

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
	for {
		now := s.Now()
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

// LoginResult is a successful login.
type LoginResult struct {
	// Token is the session token: the cookie's value, or the Bearer token.
	Token   string
	Session Session
}

// Login checks username and password and opens a session. An unknown
// user, a wrong password and a locked (username, remote) pair all return
// ErrInvalidCredentials after the same work; an address with too many
// failures gets a *TooManyAttemptsError whatever the username.
func (s *Service) Login(ctx context.Context, username, password, remote string) (LoginResult, error) {
	u, err := s.checkLogin(ctx, username, password, remote)
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
	if err := s.audit(ctx, store.AuditEntry{Username: u.Username, Action: "login", Remote: remote}); err != nil && !s.AuditFailOpen {
		// No unaudited session: the one just made is ended again.
		if derr := s.Store.DeleteUserSession(context.WithoutCancel(ctx), tokenHash); derr != nil {
			s.Log.Error("end the session of an unaudited login", "username", u.Username, "error", derr)
		}
		return LoginResult{}, fmt.Errorf("login %s: %w", u.Username, ErrAuditUnavailable)
	}
	return LoginResult{Token: token, Session: Session{User: u, CSRFToken: csrf, ExpiresAt: us.ExpiresAt, tokenHash: tokenHash}}, nil
}

// counterName is username as a failure counter's key and an audit row can
// hold it: UTF-8 without control characters, at most store.MaxUsernameLen bytes.
func counterName(username string) string {
	if store.ValidUsername(username) == nil {
		return username
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(username, string(utf8.RuneError)))
	for len(name) > store.MaxUsernameLen {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		name = string(utf8.RuneError)
	}
	return name
}

// checkLogin returns the user of username if password is right and the
// (username, remote) pair not locked. It holds remote's address lock
// throughout (see the package comment) and a hashing slot for the hash only.
func (s *Service) checkLogin(ctx context.Context, username, password, remote string) (store.User, error) {
	unlock, err := s.addrLocks.lock(ctx, addressKey(remote))
	if err != nil {
		return store.User{}, err
	}
	defer unlock()
	now := s.Now()
	ipKey := store.AuthKey{Scope: store.FailLoginIP, Remote: addressKey(remote)}
	if err := s.checkAddress(ctx, ipKey, remote, now); err != nil {
		return store.User{}, err
	}
	name := counterName(username)
	var u store.User
	known := false
	if name == username {
		switch u, err = s.Store.UserByName(ctx, username); {
		case err == nil:
			known = true
		case !errors.Is(err, store.ErrNotFound):
			return store.User{}, err
		}
	}
	// One hash whatever the case: an unknown user checks the dummy hash, a
	// locked pair its real one, so that neither takes less time.
	phc := s.dummyHash
	if known {
		phc = u.PasswordHash
	}
	ok, err := s.verify(ctx, phc, password)
	if err != nil && (known || errors.Is(err, ErrBusy)) {
		return store.User{}, fmt.Errorf("login %s: %w", name, err)
	}
	// The pair's lock is read after the hash: a login that waited for a
	// hashing slot sees a lock counted meanwhile (by another console too).
	key := store.AuthKey{Scope: store.FailLogin, Username: name, Remote: remote}
	lock, err := s.Store.AuthFailureOf(ctx, key)
	if err != nil {
		return store.User{}, err
	}
	var reason string
	switch {
	case !known:
		reason = "unknown user"
	case lock.Locked(now):
		reason = "locked"
	case !ok:
		reason = "wrong password"
	default:
		if lock.Failures > 0 {
			if err := s.Store.ClearAuthFailures(ctx, key); err != nil {
				return store.User{}, err
			}
		}
		return u, nil
	}
	// Every failure counts in both counters, so that each kind costs the same.
	f, err := s.Store.CountAuthFailure(ctx, key, now, s.loginPolicy())
	if err != nil {
		return store.User{}, err
	}
	detail := map[string]any{"reason": reason, "failures": f.Failures}
	if err := s.countAddress(ctx, ipKey, remote, now, detail); err != nil {
		return store.User{}, err
	}
	if name != username {
		detail["username_quoted"] = strconv.QuoteToASCII(truncate(username, 4*store.MaxUsernameLen))
	}
	if f.Locked(now) && !lock.Locked(now) {
		detail["locked_until"] = f.LockedUntil.UTC().Format(time.RFC3339)
		s.Log.Warn("login locked for an address after repeated failures", "username", name, "remote", remote,
			"until", *f.LockedUntil)
	}
	_ = s.audit(ctx, store.AuditEntry{Username: name, Action: "login_failed", Remote: remote, Detail: detail})
	return store.User{}, ErrInvalidCredentials
}

// checkAddress returns a *TooManyAttemptsError while the address of ipKey
// is blocked. It comes before any lookup and any hash: the answer cannot
// depend on the username, and a blocked address costs no hash.
func (s *Service) checkAddress(ctx context.Context, ipKey store.AuthKey, remote string, now time.Time) error {
	ip, err := s.Store.AuthFailureOf(ctx, ipKey)
	if err != nil {
		return err
	}
	if ip.Locked(now) {
		s.Log.Info("refused: too many failed password checks from the address", "remote", remote, "until", *ip.LockedUntil)
		return &TooManyAttemptsError{Until: *ip.LockedUntil}
	}
	return nil
}

// countAddress counts a failure of the address of ipKey; detail (the audit
// row's) says so when the failure blocks the address.
func (s *Service) countAddress(ctx context.Context, ipKey store.AuthKey, remote string, now time.Time, detail map[string]any) error {
	ipf, err := s.Store.CountAuthFailure(ctx, ipKey, now, s.ipPolicy())
	if err != nil {
		return err
	}
	if ipf.Locked(now) {
		detail["address_blocked_until"] = ipf.LockedUntil.UTC().Format(time.RFC3339)
		s.Log.Warn("logins and password changes from an address blocked after repeated failures", "remote", remote,
			"until", *ipf.LockedUntil)
	}
	return nil
}

// addressKey is the key of remote's per-address counter: the IPv4 address,
// or the /64 of an IPv6 one — a single subscriber usually holds a whole
// /64, and must not get 2^64 separate limits.
func addressKey(remote string) string {
	a, err := netip.ParseAddr(remote)
	if err != nil || !a.Is6() || a.Is4In6() {
		return remote
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// truncate cuts s to at most n bytes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// RefuseLogin records a login refused before it was checked because its
// body is not a login (not JSON, a username that cannot be one, a missing
// password): a failure of remote's address counter and an audit row, so
// that such attempts count towards the address's limit like any other
// failed login. From an address already blocked it returns the
// *TooManyAttemptsError any login from there gets, and neither counts nor
// audits: a blocked address cannot fill the audit log. Otherwise it returns
// nil (the caller answers its 400); a database error is only logged, the
// login being refused either way.
func (s *Service) RefuseLogin(ctx context.Context, username, remote, reason string) error {
	unlock, err := s.addrLocks.lock(ctx, addressKey(remote))
	if err != nil {
		return err
	}
	defer unlock()
	now := s.Now()
	ipKey := store.AuthKey{Scope: store.FailLoginIP, Remote: addressKey(remote)}
	var many *TooManyAttemptsError
	switch err := s.checkAddress(ctx, ipKey, remote, now); {
	case errors.As(err, &many):
		return err
	case err != nil:
		s.Log.Warn("read the address counter of a refused login", "remote", remote, "error", err)
	}
	detail := map[string]any{"reason": reason, "username_quoted": strconv.QuoteToASCII(truncate(username, 4*store.MaxUsernameLen))}
	if err := s.countAddress(ctx, ipKey, remote, now, detail); err != nil {
		s.Log.Warn("count a refused login", "remote", remote, "error", err)
	}
	_ = s.audit(ctx, store.AuditEntry{Username: counterName(username), Action: "login_failed", Remote: remote, Detail: detail})
	return nil
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
	_ = s.audit(ctx, store.AuditEntry{Username: sess.User.Username, Action: "logout", Remote: remote})
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
// Wrong old passwords are counted per user, from whatever address:
// MaxFailures of them lock the user's password change (*LockedError), so
// that a stolen session cannot be used to guess the password from many
// addresses (locking one's own route harms only that account). Each wrong
// or locked attempt also counts towards the address's limit, and a blocked
// address gets the *TooManyAttemptsError of its logins.
func (s *Service) ChangePassword(ctx context.Context, sess Session, oldPassword, newPassword, remote string) error {
	u, key, err := s.checkOldPassword(ctx, sess, oldPassword, remote)
	if err != nil {
		return err
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
	if err := s.Store.ClearAuthFailures(ctx, key); err != nil {
		s.Log.Warn("clear password change failures", "username", u.Username, "error", err)
	}
	// Whoever knew the old password may hold a session: end them all but this one.
	ended, err := s.Store.DeleteUserSessions(ctx, u.ID, sess.tokenHash)
	if err != nil {
		return err
	}
	_ = s.audit(ctx, store.AuditEntry{
		Username: u.Username, Action: "password_change", Remote: remote,
		Detail: map[string]any{"other_sessions_ended": ended},
	})
	return nil
}

// checkOldPassword checks the old password of a password change under the
// route's own lock-out and the address's limit. It holds remote's address
// lock, then the user's (always in this order, so that two changes never
// wait for each other), and a hashing slot for the hash only.
func (s *Service) checkOldPassword(ctx context.Context, sess Session, oldPassword, remote string) (store.User, store.AuthKey, error) {
	unlockAddr, err := s.addrLocks.lock(ctx, addressKey(remote))
	if err != nil {
		return store.User{}, store.AuthKey{}, err
	}
	defer unlockAddr()
	unlockUser, err := s.userLocks.lock(ctx, strconv.FormatInt(sess.User.ID, 10))
	if err != nil {
		return store.User{}, store.AuthKey{}, err
	}
	defer unlockUser()
	now := s.Now()
	ipKey := store.AuthKey{Scope: store.FailLoginIP, Remote: addressKey(remote)}
	if err := s.checkAddress(ctx, ipKey, remote, now); err != nil {
		return store.User{}, store.AuthKey{}, err
	}
	u, err := s.Store.UserByID(ctx, sess.User.ID)
	if err != nil {
		return u, store.AuthKey{}, err
	}
	key := store.AuthKey{Scope: store.FailPassword, Username: counterName(u.Username)}
	f, err := s.Store.AuthFailureOf(ctx, key)
	if err != nil {
		return u, key, err
	}
	if f.Locked(now) {
		// The password is not even checked: a locked route must not be
		// guessable. The attempt still counts for the address.
		detail := map[string]any{"reason": "locked"}
		if err := s.countAddress(ctx, ipKey, remote, now, detail); err != nil {
			return u, key, err
		}
		_ = s.audit(ctx, store.AuditEntry{Username: u.Username, Action: "password_change_failed", Remote: remote, Detail: detail})
		return u, key, &LockedError{Until: *f.LockedUntil}
	}
	ok, err := s.verify(ctx, u.PasswordHash, oldPassword)
	if err != nil {
		return u, key, fmt.Errorf("change password of %s: %w", u.Username, err)
	}
	if ok {
		return u, key, nil
	}
	if f, err = s.Store.CountAuthFailure(ctx, key, now, s.loginPolicy()); err != nil {
		return u, key, err
	}
	detail := map[string]any{"reason": "wrong old password", "failures": f.Failures}
	if err := s.countAddress(ctx, ipKey, remote, now, detail); err != nil {
		return u, key, err
	}
	if f.Locked(now) {
		detail["locked_until"] = f.LockedUntil.UTC().Format(time.RFC3339)
		s.Log.Warn("password changes of a user locked after repeated wrong old passwords",
			"username", u.Username, "remote", remote, "until", *f.LockedUntil)
	}
	_ = s.audit(ctx, store.AuditEntry{Username: u.Username, Action: "password_change_failed", Remote: remote, Detail: detail})
	if f.Locked(now) {
		return u, key, &LockedError{Until: *f.LockedUntil}
	}
	return u, key, ErrWrongPassword
}

// SetCookie sets the session cookie on w: HttpOnly, SameSite=Strict, Path=/,
// Secure when secure (the browser uses HTTPS: see Proxies.Secure).
func SetCookie(w http.ResponseWriter, secure bool, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	})
}

// ClearCookie removes the session cookie.
func ClearCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure,
	})
}

// audit writes an audit row (WriteAudit); a failure is logged and returned.
func (s *Service) audit(ctx context.Context, e store.AuditEntry) error {
	return WriteAudit(ctx, s.Store, s.Log, e)
}

// AuditTimeout bounds one audit row's write.
const AuditTimeout = 5 * time.Second

// WriteAudit writes e to st's audit log, also when ctx's request went away
// mid-way (a detached context, bounded by AuditTimeout); a failure is
// logged on log and returned. The console's logins, its video accesses and
// the media opens mediagw reports are all written by it.
func WriteAudit(ctx context.Context, st *consoledb.DB, log *slog.Logger, e store.AuditEntry) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AuditTimeout)
	defer cancel()
	if err := st.AddAudit(ctx, e); err != nil {
		log.Error("write audit log", "action", e.Action, "username", e.Username, "target", e.Target, "error", err)
		return err
	}
	return nil
}
