package auth

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the package.
var (
	// ErrHashFormat means a stored password hash is not a valid argon2id PHC string.
	ErrHashFormat = errors.New("auth: malformed password hash")
	// ErrPasswordTooLong refuses passwords over MaxPasswordLen bytes.
	ErrPasswordTooLong = errors.New("auth: password too long")
	// ErrInvalidCredentials is a failed login: unknown user or wrong password (not told apart).
	ErrInvalidCredentials = errors.New("invalid username or password")
	// ErrUnauthenticated means the request carries no valid session.
	ErrUnauthenticated = errors.New("not logged in or session expired")
	// ErrWrongPassword is a password change with a wrong old password.
	ErrWrongPassword = errors.New("old password is wrong")
	// ErrWeakPassword wraps the reason a new password is refused.
	ErrWeakPassword = errors.New("new password refused")
	// ErrBusy means too many password hashes are being computed; the client should retry.
	ErrBusy = errors.New("auth: busy")
	// ErrAuditUnavailable refuses an access whose audit row could not be written (fail closed).
	ErrAuditUnavailable = errors.New("the audit log cannot be written; access refused")
)

// LockedError is a password change refused because too many wrong old
// passwords were tried for the user, from whatever address. (A locked login
// is not told apart from a wrong password: it returns ErrInvalidCredentials.)
type LockedError struct {
	// Until is when the lock ends.
	Until time.Time
}

// Error implements error.
func (e *LockedError) Error() string {
	return fmt.Sprintf("password changes locked until %s after repeated wrong passwords", e.Until.UTC().Format(time.RFC3339))
}

// TooManyAttemptsError is a login or password change refused because too
// many password checks failed from the client's address, whatever the
// usernames.
type TooManyAttemptsError struct {
	// Until is when the address may try again.
	Until time.Time
}

// Error implements error.
func (e *TooManyAttemptsError) Error() string {
	return fmt.Sprintf("too many failed attempts from this address; try again after %s", e.Until.UTC().Format(time.RFC3339))
}
