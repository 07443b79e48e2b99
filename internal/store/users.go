package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrExists means a row with that unique key exists already.
var ErrExists = errors.New("store: already exists")

// Roles of console users.
const (
	// RoleAdmin may do everything, including ending a shared live session.
	RoleAdmin = "admin"
	// RoleDeptAdmin manages the users of its department subtree and
	// re-grants, never beyond its own grants.
	RoleDeptAdmin = "dept_admin"
	// RoleOperator watches, controls PTZ, plays back and downloads as granted.
	RoleOperator = "operator"
	// RoleAuditor reads the audit log and the reports and watches nothing.
	RoleAuditor = "auditor"
)

// ValidRole reports whether role is one of the four roles.
func ValidRole(role string) bool {
	switch role {
	case RoleAdmin, RoleDeptAdmin, RoleOperator, RoleAuditor:
		return true
	}
	return false
}

// User is a console user.
type User struct {
	ID       int64
	Username string
	// PasswordHash is an argon2id PHC string; the console hashes and checks it.
	PasswordHash string
	// Role is RoleAdmin, RoleDeptAdmin, RoleOperator or RoleAuditor.
	Role string
	// DepartmentID is the user's department; 0: none (a non-admin without
	// one sees nothing).
	DepartmentID int64
	// MustChangePassword holds every route but the password change until the user sets a new password.
	MustChangePassword bool
	// Disabled users cannot log in; DisabledReason says why (an admin, or
	// the dormant-account job), DisabledAt since when.
	Disabled       bool
	DisabledReason string
	DisabledAt     *time.Time
	// EnabledAt is when an admin last enabled the account again: dormancy
	// counts from the latest of CreatedAt, LastLoginAt and EnabledAt.
	EnabledAt   *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt *time.Time
}

// MaxUsernameLen bounds usernames (bytes).
const MaxUsernameLen = 128

// ValidUsername says why name cannot be a username (an error wrapping
// ErrInvalid), or nil: 1–128 bytes of UTF-8 without control characters.
func ValidUsername(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("username is empty: %w", ErrInvalid)
	case len(name) > MaxUsernameLen:
		return fmt.Errorf("username is longer than %d bytes: %w", MaxUsernameLen, ErrInvalid)
	case !utf8.ValidString(name):
		return fmt.Errorf("username is not UTF-8: %w", ErrInvalid)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("username has control characters: %w", ErrInvalid)
	}
	return nil
}

// UserSession is a console login. The token itself is never stored, only its SHA-256.
type UserSession struct {
	TokenHash []byte
	UserID    int64
	// CSRFToken must accompany the session's cookie-authenticated unsafe requests.
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	// Remote is the address the login came from.
	Remote string
}

// Scopes of the authentication failure counters (table auth_failures).
const (
	// FailLogin counts failed logins of one username from one address.
	FailLogin = "login"
	// FailLoginIP counts failed logins from one address, whatever the username.
	FailLoginIP = "login_ip"
	// FailPassword counts wrong old passwords of one user's password
	// changes, from whatever address (its keys have no Remote): a stolen
	// session must not get fresh guesses from every address.
	FailPassword = "password"
)

// AuthKey names one failure counter.
type AuthKey struct {
	// Scope is FailLogin, FailLoginIP or FailPassword.
	Scope string
	// Username is empty for FailLoginIP.
	Username string
	// Remote is the client address (FailLoginIP: its counting key, such as
	// an IPv6 /64); empty for FailPassword.
	Remote string
}

// AuthFailure is the state of one failure counter.
type AuthFailure struct {
	AuthKey
	// Failures counts the failures since WindowStart.
	Failures    int
	WindowStart time.Time
	// LockedUntil refuses the key until then (nil: never locked).
	LockedUntil *time.Time
}

// Locked reports whether the key is refused at now.
func (f AuthFailure) Locked(now time.Time) bool {
	return f.LockedUntil != nil && now.Before(*f.LockedUntil)
}

// AuthPolicy says when failures lock a key.
type AuthPolicy struct {
	// Max failures within Window lock the key for LockFor; the count then
	// starts again, so that after the lock the key has Max tries again.
	Max     int
	Window  time.Duration
	LockFor time.Duration
}
