package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

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
	if err := s.audit(ctx, AuditedBy(store.AuditEntry{Action: "login", Remote: remote}, u)); err != nil && !s.AuditFailOpen {
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
	case u.Disabled:
		// Answered like a wrong password: the account's state is the
		// admins' to see (its disabled_reason), not a guesser's.
		reason = "disabled"
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
	e := store.AuditEntry{Username: name, Action: "login_failed", Remote: remote, Detail: detail}
	if known {
		e = AuditedBy(e, u)
	}
	_ = s.audit(ctx, Refused(e, reason))
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
	e := store.AuditEntry{Username: counterName(username), Action: "login_failed", Remote: remote, Detail: detail}
	_ = s.audit(ctx, Refused(e, reason))
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
