package consoledb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// RevokeUserTokens ends every console session of user id and revokes the
// play tokens issued to it up to now, in one transaction: mediagw closes
// the viewers holding them at its next check and the console refuses their
// media opens. It returns the user, or store.ErrNotFound.
func (s *DB) RevokeUserTokens(ctx context.Context, id int64, now time.Time) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, fmt.Sprintf("revoke the sessions of user %d", id), func(tx pgx.Tx) error {
		var err error
		out, err = scanUser(tx.QueryRow(ctx, `
UPDATE users u SET tokens_revoked_at = GREATEST(u.tokens_revoked_at, $2), updated_at = now()
WHERE id = $1 RETURNING `+userColumns, id, now))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, id)
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// TokensRevoked reports, for each play token named by its user
// (usernames[i]) and issue time (issuedAt[i]), whether it is revoked: the
// user does not exist (deleted, or never was), is disabled, or its tokens
// were revoked at or after the issue time. Tokens carry whole seconds, so a
// token issued in the second of a revocation (RevokeUserTokens, disabling)
// counts as revoked: a refusal the user retries beats a token that
// outlives it. Creation and role or department changes revoke up to just
// before their second (see migration 00008).
func (s *DB) TokensRevoked(ctx context.Context, usernames []string, issuedAt []time.Time) ([]bool, error) {
	if len(usernames) != len(issuedAt) {
		return nil, fmt.Errorf("check play tokens: %d users for %d issue times: %w", len(usernames), len(issuedAt), store.ErrInvalid)
	}
	if len(usernames) == 0 {
		return nil, nil
	}
	rows, err := s.Pool.Query(ctx, `
SELECT u.id IS NULL OR u.disabled OR u.tokens_revoked_at >= t.issued_at
FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS t (username, issued_at, n)
LEFT JOIN users u ON u.username = t.username
ORDER BY t.n`, usernames, issuedAt)
	if err != nil {
		return nil, fmt.Errorf("check %d play tokens: %w", len(usernames), err)
	}
	revoked, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		return nil, fmt.Errorf("check %d play tokens: %w", len(usernames), err)
	}
	return revoked, nil
}
