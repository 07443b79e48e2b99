package objstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
)

func TestValidateKey(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"34020000001320000001/2026/12/07/010203.456.mp4", true},
		{"a", true},
		{"a-b_c.d/e", true},
		{"...", true}, // a name, not a parent
		{"", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"..", false},
		{"a/..", false},
		{"../a", false},
		{"a/./b", false},
		{`a\b`, false},
		{"a b", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"ä.mp4", false},
		{"a?b", false},
		{"a%2F..", false},
		{strings.Repeat("a", objstore.MaxKeyLen), true},
		{strings.Repeat("a", objstore.MaxKeyLen+1), false},
	} {
		err := objstore.ValidateKey(tc.key)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateKey(%q) = %v, want ok %v", tc.key, err, tc.ok)
		}
		if err != nil && !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, not ErrInvalidKey", tc.key, err)
		}
	}
}

// FuzzValidateKey checks that a key ValidateKey accepts stays below the
// root as a file path and is already in its clean form (one object, one
// name), whatever the input.
func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{
		"34020000001320000001/2026/12/07/010203.456.mp4", "../x", "a/../b", "/etc/passwd", "a//b", "...", ".a/b.", "a\\..\\b",
	} {
		f.Add(s)
	}
	const root = "/srv/rec"
	f.Fuzz(func(t *testing.T, key string) {
		if objstore.ValidateKey(key) != nil {
			return
		}
		if filepath.Clean(key) != key {
			t.Fatalf("accepted %q, not clean", key)
		}
		p := filepath.Join(root, key)
		if !strings.HasPrefix(p, root+"/") {
			t.Fatalf("accepted %q, which escapes the root: %s", key, p)
		}
		if rel, err := filepath.Rel(root, p); err != nil || rel != key {
			t.Fatalf("accepted %q, which is %q below the root (%v)", key, rel, err)
		}
	})
}
