package consoledb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sharpeyes/sharpeyes/internal/store"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// userColumns are the columns scanUser reads, of the table aliased u.
const userColumns = `u.id, u.username, u.password_hash, u.role, COALESCE(u.department_id, 0), u.must_change_password,
	u.disabled, u.disabled_reason, u.disabled_at, u.enabled_at, u.created_at, u.updated_at, u.last_login_at`

// userDest are the scan destinations of userColumns.
func userDest(u *store.User) []any {
	return []any{
		&u.ID, &u.Username, &u.PasswordHash, &u.Role, &u.DepartmentID, &u.MustChangePassword,
		&u.Disabled, &u.DisabledReason, &u.DisabledAt, &u.EnabledAt, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt,
	}
}

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	err := row.Scan(userDest(&u)...)
	return u, err
}

func validUser(u store.User) error {
	if u.Username == "" || u.PasswordHash == "" {
		return fmt.Errorf("user: username and password hash are required: %w", store.ErrInvalid)
	}
	return validUserFields(u)
}

// validUserFields checks what UpdateUser writes.
func validUserFields(u store.User) error {
	if err := store.ValidUsername(u.Username); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	if !store.ValidRole(u.Role) {
		return fmt.Errorf("user %s: role %q: %w", u.Username, u.Role, store.ErrInvalid)
	}
	if u.DepartmentID < 0 {
		return fmt.Errorf("user %s: department %d: %w", u.Username, u.DepartmentID, store.ErrInvalid)
	}
	return nil
}

// userErr maps the constraint violations of a user write.
func userErr(what string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return fmt.Errorf("%s: the username is taken: %w", what, store.ErrExists)
		case "23503":
			return fmt.Errorf("%s: the department does not exist: %w", what, store.ErrInvalid)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateUser adds a user and returns it as stored; store.ErrExists when the username is taken.
func (s *DB) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if err := validUser(u); err != nil {
		return store.User{}, err
	}
	out, err := scanUser(s.Pool.QueryRow(ctx, `
INSERT INTO users AS u (username, password_hash, role, department_id, must_change_password) VALUES ($1, $2, $3, $4, $5)
RETURNING `+userColumns, u.Username, u.PasswordHash, u.Role, nullID(u.DepartmentID), u.MustChangePassword))
	if err != nil {
		return store.User{}, userErr("create user "+u.Username, err)
	}
	return out, nil
}

// CreateFirstUser adds u only when there is no user at all and reports whether it did.
// Consoles starting together against one database create one first user, not several.
func (s *DB) CreateFirstUser(ctx context.Context, u store.User) (bool, error) {
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

// UserByName returns a user, or store.ErrNotFound.
func (s *DB) UserByName(ctx context.Context, username string) (store.User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE username = $1`, username))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %s: %w", username, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %s: %w", username, err)
	}
	return u, nil
}

// UserByID returns a user, or store.ErrNotFound.
func (s *DB) UserByID(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("user %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// ListUsers returns the users of the department subtree under root (0:
// every user, those without a department too) ordered by username.
func (s *DB) ListUsers(ctx context.Context, root int64) ([]store.User, error) {
	rows, err := s.Pool.Query(ctx, subtreeCTE+`
SELECT `+userColumns+` FROM users u WHERE $1 = 0 OR u.department_id IN (SELECT id FROM sub) ORDER BY username`, root)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// LoginSucceeded stamps the login time of user id.
func (s *DB) LoginSucceeded(ctx context.Context, id int64, at time.Time) error {
	return s.updateUser(ctx, id, "record login",
		`UPDATE users SET last_login_at = $2, updated_at = now() WHERE id = $1`, at)
}

// SetPassword replaces the password hash of user id and sets its
// must-change flag. The replaced hash goes to the user's password history,
// of which the newest keep are kept (0: none).
func (s *DB) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, keep int) error {
	if hash == "" || keep < 0 {
		return fmt.Errorf("set password of user %d: empty hash or negative history: %w", id, store.ErrInvalid)
	}
	return s.inTx(ctx, fmt.Sprintf("set password of user %d", id), func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
WITH old AS (SELECT password_hash FROM users WHERE id = $1 FOR UPDATE)
INSERT INTO password_history (user_id, password_hash) SELECT $1, password_hash FROM old`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `
UPDATE users SET password_hash = $2, must_change_password = $3, updated_at = now() WHERE id = $1`, id, hash, mustChange); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `
DELETE FROM password_history WHERE user_id = $1 AND id NOT IN (
	SELECT id FROM password_history WHERE user_id = $1 ORDER BY id DESC LIMIT $2)`, id, keep)
		return err
	})
}

// PasswordHistory returns the hashes of user id's earlier passwords, newest first.
func (s *DB) PasswordHistory(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.Pool.Query(ctx, `SELECT password_hash FROM password_history WHERE user_id = $1 ORDER BY id DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("password history of user %d: %w", id, err)
	}
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("password history of user %d: %w", id, err)
	}
	return hashes, nil
}

// UpdateUser writes the username, role and department of u.ID. A change
// that would leave no enabled admin is store.ErrLastAdmin. A new role or
// department revokes the user's play tokens issued before its second
// (RevokeUserTokens): what they play was granted to the old one; a token of
// the same second is kept, so that a user moved and playing at once is not
// refused.
func (s *DB) UpdateUser(ctx context.Context, u store.User) (store.User, error) {
	if err := validUserFields(u); err != nil {
		return store.User{}, err
	}
	var out store.User
	err := s.inTx(ctx, fmt.Sprintf("update user %d", u.ID), func(tx pgx.Tx) error {
		wasAdmin, err := lockUsers(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		out, err = scanUser(tx.QueryRow(ctx, `
UPDATE users u SET username = $2, role = $3, department_id = $4, updated_at = now(),
	tokens_revoked_at = CASE WHEN u.role <> $3 OR u.department_id IS DISTINCT FROM $4
		THEN GREATEST(u.tokens_revoked_at, date_trunc('second', now()) - interval '1 microsecond') ELSE u.tokens_revoked_at END
WHERE id = $1
RETURNING `+userColumns, u.ID, u.Username, u.Role, nullID(u.DepartmentID)))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %d: %w", u.ID, store.ErrNotFound)
		}
		if err != nil {
			return userErr("update user "+u.Username, err)
		}
		return checkAdminLeft(ctx, tx, wasAdmin)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// SetDisabled disables user id with reason, or enables it again, at now.
// Disabling ends every session of the user in the same transaction and
// revokes its play tokens (they stay revoked when it is enabled again).
// Disabling the last enabled admin is store.ErrLastAdmin.
func (s *DB) SetDisabled(ctx context.Context, id int64, disabled bool, reason string, now time.Time) (store.User, error) {
	if disabled && strings.TrimSpace(reason) == "" {
		return store.User{}, fmt.Errorf("disable user %d: a reason is required: %w", id, store.ErrInvalid)
	}
	var out store.User
	err := s.inTx(ctx, fmt.Sprintf("disable user %d", id), func(tx pgx.Tx) error {
		wasAdmin, err := lockUsers(ctx, tx, id)
		if err != nil {
			return err
		}
		// An enabled user's reason is cleared; enabled_at restarts its dormancy.
		out, err = scanUser(tx.QueryRow(ctx, `
UPDATE users u SET disabled = $2,
	disabled_reason = CASE WHEN $2 THEN $3 ELSE '' END,
	disabled_at = CASE WHEN $2 THEN COALESCE(CASE WHEN u.disabled THEN u.disabled_at END, $4) END,
	enabled_at = CASE WHEN NOT $2 AND u.disabled THEN $4 ELSE u.enabled_at END,
	tokens_revoked_at = CASE WHEN $2 THEN GREATEST(u.tokens_revoked_at, $4) ELSE u.tokens_revoked_at END,
	updated_at = now()
WHERE id = $1 RETURNING `+userColumns, id, disabled, reason, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id); err != nil {
				return err
			}
		}
		return checkAdminLeft(ctx, tx, wasAdmin)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// DisableDormantUsers disables, with reason, the enabled users whose latest
// of creation, login and re-enabling is before since, and ends their
// sessions and play tokens. A dormant admin is kept while no other enabled admin is in use:
// the platform must keep someone who can enable the others. It returns the
// usernames disabled.
func (s *DB) DisableDormantUsers(ctx context.Context, since, now time.Time, reason string) ([]string, error) {
	var names []string
	err := s.inTx(ctx, "disable dormant users", func(tx pgx.Tx) error {
		if _, err := lockUsers(ctx, tx, 0); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
WITH dormant AS (
	SELECT id, role FROM users
	WHERE NOT disabled AND GREATEST(created_at, last_login_at, enabled_at) < $1
), kept AS (
	SELECT count(*) AS n FROM users WHERE role = 'admin' AND NOT disabled AND id NOT IN (SELECT id FROM dormant)
), gone AS (
	UPDATE users u SET disabled = true, disabled_reason = $3, disabled_at = $2, updated_at = now(),
		tokens_revoked_at = GREATEST(u.tokens_revoked_at, $2)
	FROM dormant d, kept k
	WHERE u.id = d.id AND (d.role <> 'admin' OR k.n > 0)
	RETURNING u.id, u.username
), ended AS (
	DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM gone)
)
SELECT username FROM gone ORDER BY username`, since, now, reason)
		if err != nil {
			return err
		}
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// DeleteUser removes user id and its sessions; removing the last enabled
// admin is store.ErrLastAdmin.
func (s *DB) DeleteUser(ctx context.Context, id int64) error {
	return s.inTx(ctx, fmt.Sprintf("delete user %d", id), func(tx pgx.Tx) error {
		wasAdmin, err := lockUsers(ctx, tx, id)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
		}
		return checkAdminLeft(ctx, tx, wasAdmin)
	})
}

// lockUsers orders the writes that may remove an enabled admin, taken
// before their first write (taken after it, two of them would deadlock):
// two admins disabling each other cannot both pass checkAdminLeft. Logins
// and reads go on.
// It returns whether user id is an enabled admin before the write.
func lockUsers(ctx context.Context, tx pgx.Tx, id int64) (wasAdmin bool, err error) {
	if _, err := tx.Exec(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return false, err
	}
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND role = 'admin' AND NOT disabled)`, id).
		Scan(&wasAdmin)
	return wasAdmin, err
}

// checkAdminLeft refuses a transaction (holding lockUsers) that took the
// role, the account or the enabled state of an enabled admin (wasAdmin)
// and leaves no enabled admin.
func checkAdminLeft(ctx context.Context, tx pgx.Tx, wasAdmin bool) error {
	if !wasAdmin {
		return nil
	}
	var left bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND NOT disabled)`).Scan(&left); err != nil {
		return err
	}
	if !left {
		return store.ErrLastAdmin
	}
	return nil
}

// inTx runs f in a transaction; errors other than the store's sentinels
// are wrapped with what.
func (s *DB) inTx(ctx context.Context, what string, f func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.Pool, f)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid), errors.Is(err, store.ErrExists),
		errors.Is(err, store.ErrLastAdmin):
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *DB) updateUser(ctx context.Context, id int64, what, sql string, args ...any) error {
	tag, err := s.Pool.Exec(ctx, sql, append([]any{id}, args...)...)
	if err != nil {
		return fmt.Errorf("%s of user %d: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// CreateUserSession stores a new login session.
func (s *DB) CreateUserSession(ctx context.Context, us store.UserSession) error {
	if len(us.TokenHash) == 0 || us.UserID == 0 || us.CSRFToken == "" || us.ExpiresAt.IsZero() {
		return fmt.Errorf("create user session: token hash, user, CSRF token and expiry are required: %w", store.ErrInvalid)
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

// UserSessionByToken returns the session with tokenHash and its enabled user, or
// store.ErrNotFound when there is none or it expired before now.
func (s *DB) UserSessionByToken(ctx context.Context, tokenHash []byte, now time.Time) (store.UserSession, store.User, error) {
	var us store.UserSession
	var u store.User
	// A disabled user's sessions are gone already (SetDisabled); the
	// condition keeps it so should one be made meanwhile.
	err := s.Pool.QueryRow(ctx, `
SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at, s.remote, `+userColumns+`
FROM user_sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, tokenHash, now).Scan(
		append([]any{&us.TokenHash, &us.UserID, &us.CSRFToken, &us.CreatedAt, &us.ExpiresAt, &us.LastSeenAt, &us.Remote},
			userDest(&u)...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.UserSession{}, store.User{}, fmt.Errorf("user session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.UserSession{}, store.User{}, fmt.Errorf("get user session: %w", err)
	}
	return us, u, nil
}

// TouchUserSession stamps the session's last use.
func (s *DB) TouchUserSession(ctx context.Context, tokenHash []byte, at time.Time) error {
	if _, err := s.Pool.Exec(ctx, `UPDATE user_sessions SET last_seen_at = $2 WHERE token_hash = $1`, tokenHash, at); err != nil {
		return fmt.Errorf("touch user session: %w", err)
	}
	return nil
}

// DeleteUserSession ends one session (logout); a missing one is not an error.
func (s *DB) DeleteUserSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete user session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends every session of user id except the one with
// keepTokenHash (nil: all of them), e.g. after a password change.
func (s *DB) DeleteUserSessions(ctx context.Context, userID int64, keepTokenHash []byte) (int, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR token_hash <> $2)`,
		userID, keepTokenHash)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredUserSessions removes the sessions that expired before now.
func (s *DB) DeleteExpiredUserSessions(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM user_sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("delete expired user sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func validAuthKey(k store.AuthKey) error {
	switch k.Scope {
	case store.FailLogin, store.FailPassword:
		if k.Username == "" {
			return fmt.Errorf("auth failure %s: username is required: %w", k.Scope, store.ErrInvalid)
		}
	case store.FailLoginIP:
		if k.Username != "" {
			return fmt.Errorf("auth failure %s: no username: %w", k.Scope, store.ErrInvalid)
		}
	default:
		return fmt.Errorf("auth failure: scope %q: %w", k.Scope, store.ErrInvalid)
	}
	if !utf8.ValidString(k.Username) || strings.ContainsRune(k.Username, 0) || len(k.Username) > store.MaxUsernameLen {
		return fmt.Errorf("auth failure %s: username is not storable: %w", k.Scope, store.ErrInvalid)
	}
	return nil
}

// AuthFailureOf returns the counter of k; a key without failures has the zero state.
func (s *DB) AuthFailureOf(ctx context.Context, k store.AuthKey) (store.AuthFailure, error) {
	if err := validAuthKey(k); err != nil {
		return store.AuthFailure{}, err
	}
	f := store.AuthFailure{AuthKey: k}
	err := s.Pool.QueryRow(ctx, `
SELECT failures, window_start, locked_until FROM auth_failures WHERE scope = $1 AND username = $2 AND remote = $3`,
		k.Scope, k.Username, k.Remote).Scan(&f.Failures, &f.WindowStart, &f.LockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.AuthFailure{AuthKey: k}, nil
	}
	if err != nil {
		return store.AuthFailure{}, fmt.Errorf("get auth failures %s: %w", k.Scope, err)
	}
	return f, nil
}

// CountAuthFailure counts one failure of k at now under p and returns the
// counter as updated: LockedUntil tells whether it is locked. A key locked
// at now stays as it is (further tries neither extend nor shorten the lock);
// a count whose window has passed starts again at one; the failure that
// reaches p.Max locks the key for p.LockFor and starts the count again.
//
// It is one statement: the upsert takes the row lock, so concurrent
// failures of one key count one after the other, and every SET reads the
// row as it was before this failure.
func (s *DB) CountAuthFailure(ctx context.Context, k store.AuthKey, now time.Time, p store.AuthPolicy) (store.AuthFailure, error) {
	if err := validAuthKey(k); err != nil {
		return store.AuthFailure{}, err
	}
	if p.Max < 1 || p.Window <= 0 || p.LockFor <= 0 {
		return store.AuthFailure{}, fmt.Errorf("count auth failure: policy %+v: %w", p, store.ErrInvalid)
	}
	f := store.AuthFailure{AuthKey: k}
	// $4 now, $5 the window, $6 Max, $7 the end of a lock starting now.
	// "counted" is the count with this failure: 1 when the window passed.
	const counted = `(CASE WHEN f.window_start + $5::interval <= $4 THEN 1 ELSE f.failures + 1 END)`
	err := s.Pool.QueryRow(ctx, `
INSERT INTO auth_failures AS f (scope, username, remote, failures, window_start, locked_until, updated_at)
VALUES ($1, $2, $3, CASE WHEN $6 <= 1 THEN 0 ELSE 1 END, $4, CASE WHEN $6 <= 1 THEN $7::timestamptz END, $4)
ON CONFLICT (scope, username, remote) DO UPDATE SET
	failures = CASE WHEN f.locked_until > $4 THEN f.failures
		WHEN `+counted+` >= $6 THEN 0
		ELSE `+counted+` END,
	window_start = CASE WHEN f.locked_until > $4 THEN f.window_start
		WHEN `+counted+` >= $6 OR f.window_start + $5::interval <= $4 THEN $4
		ELSE f.window_start END,
	locked_until = CASE WHEN f.locked_until > $4 THEN f.locked_until
		WHEN `+counted+` >= $6 THEN $7::timestamptz
		ELSE f.locked_until END,
	updated_at = $4
RETURNING failures, window_start, locked_until`, k.Scope, k.Username, k.Remote, now, p.Window, p.Max, now.Add(p.LockFor)).
		Scan(&f.Failures, &f.WindowStart, &f.LockedUntil)
	if err != nil {
		return store.AuthFailure{}, fmt.Errorf("count auth failure %s: %w", k.Scope, err)
	}
	return f, nil
}

// ClearAuthFailures forgets the failures of k (after a success).
func (s *DB) ClearAuthFailures(ctx context.Context, k store.AuthKey) error {
	if err := validAuthKey(k); err != nil {
		return err
	}
	_, err := s.Pool.Exec(ctx, `DELETE FROM auth_failures WHERE scope = $1 AND username = $2 AND remote = $3`,
		k.Scope, k.Username, k.Remote)
	if err != nil {
		return fmt.Errorf("clear auth failures %s: %w", k.Scope, err)
	}
	return nil
}

// DeleteIdleAuthFailures removes the counters of scope not locked at now
// and last counted before idleSince: their failures no longer count.
func (s *DB) DeleteIdleAuthFailures(ctx context.Context, scope string, now, idleSince time.Time) (int, error) {
	tag, err := s.Pool.Exec(ctx, `
DELETE FROM auth_failures WHERE scope = $1 AND updated_at < $2 AND (locked_until IS NULL OR locked_until <= $3)`,
		scope, idleSince, now)
	if err != nil {
		return 0, fmt.Errorf("delete idle auth failures %s: %w", scope, err)
	}
	return int(tag.RowsAffected()), nil
}
