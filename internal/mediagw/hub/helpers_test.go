package hub_test

import (
	"os"
	"path/filepath"
	"testing"
)

func readSPS(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
