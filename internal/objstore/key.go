package objstore

import (
	"fmt"
	"strings"
)

// MaxKeyLen bounds a key's length: S3 allows 1024 bytes, and a prefix is
// added in front of the key there.
const MaxKeyLen = 512

// ValidateKey checks that key names a plain object below the store's root:
// path elements of [A-Za-z0-9._-] separated by single slashes, none of them
// "." or "..", no leading or trailing slash. The restriction is what makes
// the same key safe as a file path (no escape from the root) and as an S3
// object name (no characters that need escaping). Recording keys
// (<channelID>/<YYYY>/<MM>/<DD>/<HHMMSS.mmm>.mp4) pass.
func ValidateKey(key string) error {
	if err := validatePath(key, false); err != nil {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, err.Error())
	}
	return nil
}

// validatePrefix checks a List prefix: empty, or a key's beginning (a
// trailing slash or a partial last element allowed).
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := validatePath(prefix, true); err != nil {
		return fmt.Errorf("%w: prefix %q: %s", ErrInvalidKey, prefix, err.Error())
	}
	return nil
}

// pathError is a reason a key is refused; a plain string keeps ValidateKey
// free of allocations on the good path.
type pathError string

func (e pathError) Error() string { return string(e) }

func validatePath(p string, prefix bool) error {
	if p == "" {
		return pathError("empty")
	}
	if len(p) > MaxKeyLen {
		return pathError(fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; !keyByte(c) {
			return pathError(fmt.Sprintf("character %q at %d not allowed", c, i))
		}
	}
	elems := strings.Split(p, "/")
	for i, e := range elems {
		last := i == len(elems)-1
		switch {
		case e == "" && i == 0:
			return pathError("absolute")
		case e == "" && last && prefix:
			// "a/b/": every key below a/b.
		case e == "" && last:
			return pathError("trailing slash")
		case e == "":
			return pathError("empty path element")
		case e == "." || e == "..":
			// Refused in a prefix too, even as the start of a longer last
			// element: no key element is ever "." or "..", and a prefix
			// that walks the directory tree must not climb out of it.
			return pathError("path element " + e)
		}
	}
	return nil
}

// keyByte reports whether c may appear in a key.
func keyByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '.' || c == '_' || c == '-' || c == '/'
}
