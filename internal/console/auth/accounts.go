package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

// dormantInterval is how often the dormant-account job runs.
const dormantInterval = 24 * time.Hour

// CreateUser adds u with password, which must pass the Password policy.
// The user must change it at the first login (DB3205 §8 d): whoever chose
// it knows it.
func (s *Service) CreateUser(ctx context.Context, u store.User, password string) (store.User, error) {
	if err := store.ValidUsername(u.Username); err != nil {
		return store.User{}, fmt.Errorf("create user: %w", err)
	}
	if err := s.Password.Check(u.Username, password); err != nil {
		return store.User{}, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return store.User{}, err
	}
	u.PasswordHash, u.MustChangePassword = hash, true
	return s.Store.CreateUser(ctx, u)
}

// ResetPassword gives user id the password an admin chose: it must pass
// the Password policy and history, must be changed at the next login, and
// every session of the user ends (whoever held one may be why).
func (s *Service) ResetPassword(ctx context.Context, id int64, password string) (ended int, err error) {
	u, err := s.Store.UserByID(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := s.Password.Check(u.Username, password); err != nil {
		return 0, err
	}
	if err := s.checkHistory(ctx, u.ID, u.PasswordHash, password); err != nil {
		return 0, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return 0, err
	}
	if err := s.Store.SetPassword(ctx, u.ID, hash, true, s.Password.kept()); err != nil {
		return 0, err
	}
	return s.Store.DeleteUserSessions(ctx, u.ID, nil)
}

// DisableDormant disables the accounts unused since DormantAfter before
// now (see consoledb.DB.DisableDormantUsers: the last active admin stays),
// ends their sessions and audits each. It returns the usernames disabled.
func (s *Service) DisableDormant(ctx context.Context) ([]string, error) {
	if s.DormantAfter <= 0 {
		return nil, nil
	}
	now := s.Now()
	since := now.Add(-s.DormantAfter)
	reason := fmt.Sprintf("dormant: not used since %s (accounts.dormant_after %s)",
		since.UTC().Format(time.DateOnly), s.DormantAfter)
	names, err := s.Store.DisableDormantUsers(ctx, since, now, reason)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		s.Log.Warn("disabled a dormant account", "username", name, "unused_since", since)
		_ = s.audit(ctx, store.AuditEntry{
			Action: "user_disable", Target: name, Detail: map[string]any{"reason": reason, "job": "dormant"},
		})
	}
	return names, nil
}
