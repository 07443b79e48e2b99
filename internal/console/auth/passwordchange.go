package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// ChangePassword sets a new password for sess's user after checking the old
// one and the new one against the Password policy (and history), clears
// the must-change flag and ends the user's other sessions.
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
	if err := s.Password.Check(u.Username, newPassword); err != nil {
		return err
	}
	if err := s.checkHistory(ctx, u.ID, u.PasswordHash, newPassword); err != nil {
		return err
	}
	hash, err := s.hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, u.ID, hash, false, s.Password.kept()); err != nil {
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
	_ = s.audit(ctx, AuditedBy(store.AuditEntry{
		Action: "password_change", Remote: remote, Detail: map[string]any{"other_sessions_ended": ended},
	}, u))
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
		_ = s.audit(ctx, Refused(AuditedBy(store.AuditEntry{Action: "password_change_failed", Remote: remote, Detail: detail}, u), "locked"))
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
	e := AuditedBy(store.AuditEntry{Action: "password_change_failed", Remote: remote, Detail: detail}, u)
	_ = s.audit(ctx, Refused(e, "wrong old password"))
	if f.Locked(now) {
		return u, key, &LockedError{Until: *f.LockedUntil}
	}
	return u, key, ErrWrongPassword
}
