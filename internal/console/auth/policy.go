package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PasswordPolicy says which new passwords are accepted (DB3205 §8 d): a
// minimum length, characters of several classes, never the username, never
// one of the user's last passwords.
type PasswordPolicy struct {
	// MinLength is the fewest characters (not bytes: 8 Chinese characters
	// are 8). Zero means MinPasswordLen.
	MinLength int
	// MinClasses is how many of the four classes — lower case, upper case,
	// digits, others (punctuation, Chinese, …) — a password must mix; zero
	// means 1 (any).
	MinClasses int
	// History refuses the current password and the History-1 before it;
	// 0 and 1 refuse the current one only. The console keeps History-1
	// replaced hashes per user.
	History int
}

// DefaultPasswordPolicy is the policy of a Service configured without one.
var DefaultPasswordPolicy = PasswordPolicy{MinLength: MinPasswordLen, MinClasses: 1, History: 1}

// withDefaults fills the zero fields.
func (p PasswordPolicy) withDefaults() PasswordPolicy {
	if p.MinLength <= 0 {
		p.MinLength = MinPasswordLen
	}
	if p.MinClasses <= 0 {
		p.MinClasses = 1
	}
	p.MinClasses = min(p.MinClasses, 4)
	if p.History <= 0 {
		p.History = 1
	}
	return p
}

// kept is how many replaced hashes the history keeps.
func (p PasswordPolicy) kept() int { return p.withDefaults().History - 1 }

// passwordClasses counts the character classes of password.
func passwordClasses(password string) int {
	var lower, upper, digit, other int
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower = 1
		case unicode.IsUpper(r):
			upper = 1
		case unicode.IsDigit(r):
			digit = 1
		default:
			other = 1
		}
	}
	return lower + upper + digit + other
}

// Check says why newPassword cannot be username's password (an error
// wrapping ErrWeakPassword), or nil. The history is checked apart (it needs
// the stored hashes): see Service.checkHistory.
func (p PasswordPolicy) Check(username, newPassword string) error {
	p = p.withDefaults()
	switch {
	case utf8.RuneCountInString(newPassword) < p.MinLength:
		return fmt.Errorf("%w: it must have at least %d characters", ErrWeakPassword, p.MinLength)
	case len(newPassword) > MaxPasswordLen:
		return fmt.Errorf("%w: it must have at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	case !utf8.ValidString(newPassword) || strings.IndexFunc(newPassword, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: it must be text without control characters", ErrWeakPassword)
	case strings.EqualFold(strings.TrimSpace(newPassword), username):
		return fmt.Errorf("%w: it must not be the username", ErrWeakPassword)
	case passwordClasses(newPassword) < p.MinClasses:
		return fmt.Errorf("%w: it must mix at least %d of lower case letters, upper case letters, digits and other characters",
			ErrWeakPassword, p.MinClasses)
	}
	return nil
}

// checkHistory refuses newPassword when it is the current password (phc)
// or one of the user's earlier ones the policy remembers. Each comparison
// is one hash, each in its own hashing slot.
func (s *Service) checkHistory(ctx context.Context, userID int64, phc, newPassword string) error {
	hashes := []string{phc}
	if s.Password.kept() > 0 {
		earlier, err := s.Store.PasswordHistory(ctx, userID)
		if err != nil {
			return err
		}
		hashes = append(hashes, earlier[:min(len(earlier), s.Password.kept())]...)
	}
	for i, h := range hashes {
		same, err := s.verify(ctx, h, newPassword)
		if errors.Is(err, ErrBusy) {
			return err
		}
		if err != nil {
			// A hash we cannot read (corrupt, or an old test value) cannot match.
			s.Log.Warn("password history: unreadable hash", "user_id", userID, "index", i, "error", err)
			continue
		}
		if same {
			if i == 0 {
				return fmt.Errorf("%w: it must differ from the current one", ErrWeakPassword)
			}
			return fmt.Errorf("%w: it must not be one of the last %d passwords", ErrWeakPassword, s.Password.withDefaults().History)
		}
	}
	return nil
}
