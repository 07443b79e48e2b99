package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters of new hashes. Stored hashes carry
// their own, so raising them later keeps old passwords working.
type Params struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism (lanes).
	Threads uint8
	// SaltLen and KeyLen in bytes.
	SaltLen, KeyLen uint32
}

// DefaultParams follow OWASP's password storage guidance for argon2id
// (at least 46 MiB with one pass): 64 MiB, one pass, two lanes.
var DefaultParams = Params{Memory: 64 << 10, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}

// Bounds of parsed hashes: a hash is read from the database, but a corrupt or
// planted one must not make a login allocate gigabytes or run for minutes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
	// MaxPasswordLen bounds passwords (bytes); longer ones are refused before hashing.
	MaxPasswordLen = 1024
)

// PHC is a parsed argon2id hash in PHC string format:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash> (unpadded standard base64).
type PHC struct {
	Params
	Salt []byte
	Key  []byte
}

// String encodes p in PHC string format.
func (p PHC) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(p.Salt), base64.RawStdEncoding.EncodeToString(p.Key))
}

// ParsePHC parses an argon2id PHC string and checks its parameters are within bounds.
func ParsePHC(s string) (PHC, error) {
	var p PHC
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, fmt.Errorf("%w: want 5 $-separated fields", ErrHashFormat)
	}
	if parts[1] != "argon2id" {
		return p, fmt.Errorf("%w: algorithm %q, want argon2id", ErrHashFormat, parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, fmt.Errorf("%w: version %q, want v=%d", ErrHashFormat, parts[2], argon2.Version)
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, fmt.Errorf("%w: parameters %q, want m=,t=,p=", ErrHashFormat, parts[3])
	}
	var vals [3]uint64
	for i, key := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], key)
		if !ok {
			return p, fmt.Errorf("%w: parameter %q, want %s…", ErrHashFormat, params[i], key)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || (len(v) > 1 && v[0] == '0') {
			return p, fmt.Errorf("%w: parameter %q is not a number", ErrHashFormat, params[i])
		}
		vals[i] = n
	}
	m, t, threads := vals[0], vals[1], vals[2]
	if threads < 1 || threads > 255 || t < 1 || t > maxTime || m < 8*threads || m > maxMemory {
		return p, fmt.Errorf("%w: parameters m=%d,t=%d,p=%d out of range", ErrHashFormat, m, t, threads)
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, fmt.Errorf("%w: salt must be %d–%d bytes of base64", ErrHashFormat, minSaltLen, maxSaltLen)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, fmt.Errorf("%w: hash must be %d–%d bytes of base64", ErrHashFormat, minKeyLen, maxKeyLen)
	}
	p.Params = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	p.Salt, p.Key = salt, key
	return p, nil
}

// HashPassword returns the PHC string of password under params with a fresh random salt.
func HashPassword(password string, params Params) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("hash password: %w", ErrPasswordTooLong)
	}
	p := PHC{Params: params, Salt: make([]byte, params.SaltLen)}
	if _, err := rand.Read(p.Salt); err != nil {
		return "", fmt.Errorf("hash password: salt: %w", err)
	}
	p.Key = argon2.IDKey([]byte(password), p.Salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	// Round-trip through the parser: a hash we could not verify later must not be stored.
	if _, err := ParsePHC(p.String()); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return p.String(), nil
}

// VerifyPassword reports whether password matches the PHC string phc,
// comparing in constant time.
func VerifyPassword(phc, password string) (bool, error) {
	p, err := ParsePHC(phc)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	key := argon2.IDKey([]byte(password), p.Salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(key, p.Key) == 1, nil
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
