package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
)

// cheap keeps the tests fast; the format and checks are the same as with DefaultParams.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndVerify(t *testing.T) {
	for _, params := range []auth.Params{cheap, auth.DefaultParams} {
		h, err := auth.HashPassword("correct horse", params)
		if err != nil {
			t.Fatal(err)
		}
		p, err := auth.ParsePHC(h)
		if err != nil || p.Params != params {
			t.Fatalf("parse %q: %+v %v", h, p.Params, err)
		}
		if ok, err := auth.VerifyPassword(h, "correct horse"); !ok || err != nil {
			t.Errorf("right password: %v %v", ok, err)
		}
		if ok, err := auth.VerifyPassword(h, "correct horsE"); ok || err != nil {
			t.Errorf("wrong password: %v %v", ok, err)
		}
		h2, _ := auth.HashPassword("correct horse", params)
		if h2 == h {
			t.Error("two hashes of one password are equal: salt not random")
		}
	}
	if !strings.HasPrefix(mustHash(t, "x"), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("PHC prefix: %s", mustHash(t, "x"))
	}
	if _, err := auth.HashPassword(strings.Repeat("x", auth.MaxPasswordLen+1), cheap); !errors.Is(err, auth.ErrPasswordTooLong) {
		t.Errorf("long password: %v", err)
	}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := auth.HashPassword(pw, cheap)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParsePHCRejects(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	good := "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key
	if _, err := auth.ParsePHC(good); err != nil {
		t.Fatalf("good hash: %v", err)
	}
	for _, tc := range []struct{ name, in string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyzABCD"},
		{"argon2i", "$argon2i$v=19$m=65536,t=1,p=2$" + salt + "$" + key},
		{"version", "$argon2id$v=16$m=65536,t=1,p=2$" + salt + "$" + key},
		{"order", "$argon2id$v=19$t=1,m=65536,p=2$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=65536,t=1$" + salt + "$" + key},
		{"not a number", "$argon2id$v=19$m=lots,t=1,p=2$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=065536,t=1,p=2$" + salt + "$" + key},
		{"huge memory", "$argon2id$v=19$m=4194304,t=1,p=2$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"many passes", "$argon2id$v=19$m=65536,t=100,p=2$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=65536,t=1,p=0$" + salt + "$" + key},
		{"threads over 255", "$argon2id$v=19$m=65536,t=1,p=256$" + salt + "$" + key},
		{"short salt", "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$" + key},
		{"salt not base64", "$argon2id$v=19$m=65536,t=1,p=2$!!!!!!!!!!!!$" + key},
		{"padded salt", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "==$" + key},
		{"short key", "$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$a2V5"},
		{"extra field", good + "$x"},
		{"no leading $", good[1:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := auth.ParsePHC(tc.in); !errors.Is(err, auth.ErrHashFormat) {
				t.Errorf("ParsePHC(%q) = %v, want ErrHashFormat", tc.in, err)
			}
			if ok, err := auth.VerifyPassword(tc.in, "x"); ok || err == nil {
				t.Errorf("VerifyPassword(%q) = %v, %v", tc.in, ok, err)
			}
		})
	}
}

func TestPasswordPolicy(t *testing.T) {
	strict := auth.PasswordPolicy{MinLength: 10, MinClasses: 3}
	for _, tc := range []struct {
		name   string
		policy auth.PasswordPolicy
		user   string
		pw     string
		ok     bool
	}{
		{"default ok", auth.PasswordPolicy{}, "alice", "new-password", true},
		{"7 Chinese characters", auth.PasswordPolicy{}, "alice", "短密码很安全吗", false},
		{"8 Chinese characters", auth.PasswordPolicy{}, "alice", "长一点的中文密码", true},
		{"short", auth.PasswordPolicy{}, "alice", "short", false},
		{"the username", auth.PasswordPolicy{}, "administrator", "Administrator", false},
		{"the username padded", auth.PasswordPolicy{}, "administrator", " administrator ", false},
		{"too long", auth.PasswordPolicy{}, "alice", strings.Repeat("x", auth.MaxPasswordLen+1), false},
		{"control character", auth.PasswordPolicy{}, "alice", "new-pass\x00word", false},
		{"strict: one class", strict, "alice", "abcdefghijkl", false},
		{"strict: two classes", strict, "alice", "abcdef123456", false},
		{"strict: three classes", strict, "alice", "abcDEF123456", true},
		{"strict: Chinese counts as other", strict, "alice", "abcdef123456密", true},
		{"strict: too short", strict, "alice", "aB3!", false},
		{"classes above four mean four", auth.PasswordPolicy{MinClasses: 9}, "alice", "aB3!aB3!", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(tc.user, tc.pw)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, auth.ErrWeakPassword)) {
				t.Errorf("Check(%q, %q) = %v, want ok=%v", tc.user, tc.pw, err, tc.ok)
			}
		})
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := auth.ParsePHC(s)
		if err != nil {
			return
		}
		// Whatever parses is within bounds and encodes back to an equivalent string.
		if p.Memory > 1<<20 || p.Time > 16 || p.Threads == 0 || len(p.Salt) < 8 || len(p.Key) < 16 {
			t.Fatalf("out of bounds: %+v", p.Params)
		}
		back, err := auth.ParsePHC(p.String())
		if err != nil || back.String() != p.String() {
			t.Fatalf("round trip of %q: %q, %v", s, p.String(), err)
		}
	})
}
