package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

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
	_ = s.audit(ctx, AuditedBy(store.AuditEntry{Action: "logout", Remote: remote}, sess.User))
	return nil
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
