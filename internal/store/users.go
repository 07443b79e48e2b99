package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrExists means a row with that unique key exists already.
var ErrExists = errors.New("store: already exists")

// Roles of console users.
const (
	// RoleAdmin may do everything, including ending a shared live session.
	RoleAdmin = "admin"
	// RoleOperator watches, controls PTZ, plays back and downloads.
	RoleOperator = "operator"
)

// User is a console user.
type User struct {
	ID       int64
	Username string
	// PasswordHash is an argon2id PHC string; the console hashes and checks it.
	PasswordHash string
	// Role is RoleAdmin or RoleOperator.
	Role string
	// MustChangePassword holds every route but the password change until the user sets a new password.
	MustChangePassword bool
	// FailedLogins counts consecutive failures since the last success or lock.
	FailedLogins int
	// LockedUntil refuses logins until then (nil: not locked).
	LockedUntil *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt *time.Time
}

// Locked reports whether the account refuses logins at now.
func (u User) Locked(now time.Time) bool { return u.LockedUntil != nil && now.Before(*u.LockedUntil) }

const userColumns = `id, username, password_hash, role, must_change_password, failed_logins, locked_until,
	created_at, updated_at, last_login_at`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.MustChangePassword, &u.FailedLogins,
		&u.LockedUntil, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt)
	return u, err
}

func validUser(u User) error {
	if u.Username == "" || u.PasswordHash == "" {
		return fmt.Errorf("user: username and password hash are required: %w", ErrInvalid)
	}
	if u.Role != RoleAdmin && u.Role != RoleOperator {
		return fmt.Errorf("user %s: role %q: %w", u.Username, u.Role, ErrInvalid)
	}
	return nil
}

// CreateUser adds a user and returns it as stored; ErrExists when the username is taken.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	if err := validUser(u); err != nil {
		return User{}, err
	}
	out, err := scanUser(s.Pool.QueryRow(ctx, `
INSERT INTO users (username, password_hash, role, must_change_password) VALUES ($1, $2, $3, $4)
RETURNING `+userColumns, u.Username, u.PasswordHash, u.Role, u.MustChangePassword))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, fmt.Errorf("create user %s: %w", u.Username, ErrExists)
	}
	if err != nil {
		return User{}, fmt.Errorf("create user %s: %w", u.Username, err)
	}
	return out, nil
}

// CreateFirstUser adds u only when there is no user at all and reports whether it did.
// Consoles starting together against one database create one first user, not several.
func (s *Store) CreateFirstUser(ctx context.Context, u User) (bool, error) {
	if err := validUser(u); err != nil {
		return false, err
	}
	created := false
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		// The lock orders concurrent first starts: the second sees the first's user.
		if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
INSERT INTO users (username, password_hash, role, must_change_password)
SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users)`, u.Username, u.PasswordHash, u.Role, u.MustChangePassword)
		created = err == nil && tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("create first user %s: %w", u.Username, err)
	}
	return created, nil
}

// UserByName returns a user, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", username, err)
	}
	return u, nil
}

// UserByID returns a user, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// ListUsers returns every user ordered by username.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// LoginFailed counts a failed login of user id. The maxFailures-th consecutive
// failure locks the account until lockUntil and restarts the count, so that
// after the lock-out the user has maxFailures tries again. It returns the user
// as updated: LockedUntil tells whether this failure locked it.
func (s *Store) LoginFailed(ctx context.Context, id int64, maxFailures int, lockUntil time.Time) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `
UPDATE users SET
	locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE locked_until END,
	failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END,
	updated_at = now()
WHERE id = $1 RETURNING `+userColumns, id, maxFailures, lockUntil))
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("count failed login of user %d: %w", id, err)
	}
	return u, nil
}

// LoginSucceeded clears the failure count and lock of user id and stamps the login time.
func (s *Store) LoginSucceeded(ctx context.Context, id int64, at time.Time) error {
	return s.updateUser(ctx, id, "record login",
		`UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = $2, updated_at = now() WHERE id = $1`, at)
}

// SetPassword replaces the password hash of user id and sets its must-change flag.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error {
	if hash == "" {
		return fmt.Errorf("set password of user %d: empty hash: %w", id, ErrInvalid)
	}
	return s.updateUser(ctx, id, "set password",
		`UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now() WHERE id = $1`, hash, mustChange)
}

// SetRole changes the role of user id.
func (s *Store) SetRole(ctx context.Context, id int64, role string) error {
	if role != RoleAdmin && role != RoleOperator {
		return fmt.Errorf("set role of user %d: role %q: %w", id, role, ErrInvalid)
	}
	return s.updateUser(ctx, id, "set role", `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, role)
}

// DeleteUser removes user id and its sessions.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return s.updateUser(ctx, id, "delete user", `DELETE FROM users WHERE id = $1`)
}

func (s *Store) updateUser(ctx context.Context, id int64, what, sql string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("%s of user %d: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("user %d: %w", id, ErrNotFound)
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

// CreateUserSession stores a new login session.
func (s *Store) CreateUserSession(ctx context.Context, us UserSession) error {
	if len(us.TokenHash) == 0 || us.UserID == 0 || us.CSRFToken == "" || us.ExpiresAt.IsZero() {
		return fmt.Errorf("create user session: token hash, user, CSRF token and expiry are required: %w", ErrInvalid)
	}
	if us.CreatedAt.IsZero() {
		us.CreatedAt = time.Now()
	}
	_, err := s.Pool.Exec(ctx, `
INSERT INTO user_sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, remote)
VALUES ($1, $2, $3, $4, $5, $4, $6)`, us.TokenHash, us.UserID, us.CSRFToken, us.CreatedAt, us.ExpiresAt, us.Remote)
	if err != nil {
		return fmt.Errorf("create session of user %d: %w", us.UserID, err)
	}
	return nil
}

// UserSessionByToken returns the session with tokenHash and its user, or
// ErrNotFound when there is none or it expired before now.
func (s *Store) UserSessionByToken(ctx context.Context, tokenHash []byte, now time.Time) (UserSession, User, error) {
	var us UserSession
	var u User
	err := s.Pool.QueryRow(ctx, `
SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, s.remote,
	u.id, u.username, u.password_hash, u.role, u.must_change_password, u.failed_logins, u.locked_until,
	u.created_at, u.updated_at, u.last_login_at
FROM user_sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > $2`, tokenHash, now).Scan(
		&us.TokenHash, &us.UserID, &us.CSRFToken, &us.CreatedAt, &us.ExpiresAt, &us.LastSeenAt, &us.Remote,
		&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.MustChangePassword, &u.FailedLogins, &u.LockedUntil,
		&u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return UserSession{}, User{}, fmt.Errorf("user session: %w", ErrNotFound)
	}
	if err != nil {
		return UserSession{}, User{}, fmt.Errorf("get user session: %w", err)
	}
	return us, u, nil
}

// TouchUserSession stamps the session's last use.
func (s *Store) TouchUserSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE user_sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, at); err != nil {
		return fmt.Errorf("touch user session: %w", err)
	}
	return nil
}

// DeleteUserSession ends one session (logout); a missing one is not an error.
func (s *Store) DeleteUserSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete user session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of user id except the one with
// keepTokenHash (nil: all of them), e.g. after a password change.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keepTokenHash []byte) (int, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`,
		userID, keepTokenHash)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredUserSessions removes the sessions that expired before now.
func (s *Store) DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired user sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
