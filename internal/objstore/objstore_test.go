package objstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// backend opens a store, and opens it again on the same directories (a
// restart of the process).
type backend struct {
	name string
	open func(t *testing.T) (objstore.Config, func() objstore.Store)
}

func backends() []backend {
	return []backend{
		{"dir", func(t *testing.T) (objstore.Config, func() objstore.Store) {
			c := objstore.Config{Dir: filepath.Join(t.TempDir(), "rec")}
			return c, func() objstore.Store { return newStore(t, c) }
		}},
		{"s3", func(t *testing.T) (objstore.Config, func() objstore.Store) {
			srv := miniotest.Start(t)
			c := srv.Config(srv.Bucket(t, "rec"), filepath.Join(t.TempDir(), "spool"))
			c.Prefix = "site1"
			c.CapacityBytes = 1 << 30
			return c, func() objstore.Store { return newStore(t, c) }
		}},
	}
}

func newStore(t *testing.T, c objstore.Config) objstore.Store {
	t.Helper()
	s, err := objstore.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			_, open := b.open(t)
			testStore(t, open)
		})
	}
}

const key1 = "34020000001320000001/2026/12/07/010203.456.mp4"

// write writes data at s.WritePath(key), appending in two steps as a
// segment writer does, and returns the path.
func write(t *testing.T, s objstore.Store, key string, data []byte) string {
	t.Helper()
	p, err := s.WritePath(key)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	half := len(data) / 2
	for _, part := range [][]byte{data[:half], data[half:]} {
		if _, err := f.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func readAll(t *testing.T, s objstore.Store, key string) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	b, err := io.ReadAll(io.NewSectionReader(o, 0, o.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func list(t *testing.T, s objstore.Store, prefix string) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	err := s.List(context.Background(), prefix, func(key string, size int64) error {
		got[key] = size
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func testStore(t *testing.T, open func() objstore.Store) {
	ctx := context.Background()
	s := open()
	data := payload(100_000)

	// Before its commit the object is readable from its local file.
	write(t, s, key1, data)
	if got := readAll(t, s, key1); !slices.Equal(got, data) {
		t.Fatalf("uncommitted read: %d bytes, want %d", len(got), len(data))
	}
	if err := s.Commit(ctx, key1); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, key1); err != nil {
		t.Fatalf("second commit: %v", err)
	}

	t.Run("read ranges", func(t *testing.T) {
		o, err := s.Open(ctx, key1)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		if o.Size() != int64(len(data)) {
			t.Fatalf("size %d, want %d", o.Size(), len(data))
		}
		for _, tc := range []struct {
			name    string
			off     int64
			n       int
			want    int
			wantEOF bool
		}{
			{"start", 0, 10, 10, false},
			{"middle", 5000, 4096, 4096, false},
			{"to the end exactly", int64(len(data)) - 100, 100, 100, false},
			{"past the end", int64(len(data)) - 100, 300, 100, true},
			{"at the end", int64(len(data)), 10, 0, true},
			{"beyond the end", int64(len(data)) + 5, 10, 0, true},
			{"empty", 10, 0, 0, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := make([]byte, tc.n)
				n, err := o.ReadAt(p, tc.off)
				if n != tc.want {
					t.Fatalf("n = %d, want %d (err %v)", n, tc.want, err)
				}
				if gotEOF := errors.Is(err, io.EOF); gotEOF != tc.wantEOF || (err != nil && !gotEOF) {
					t.Fatalf("err = %v, want EOF %v", err, tc.wantEOF)
				}
				if n > 0 && !slices.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
					t.Fatal("wrong bytes")
				}
			})
		}
	})

	t.Run("list", func(t *testing.T) {
		key2 := "34020000001320000001/2026/12/08/000000.000.mp4"
		key3 := "34020000001320000002/2026/12/07/000000.000.mp4"
		for _, k := range []string{key2, key3} {
			write(t, s, k, payload(10))
			if err := s.Commit(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"", []string{key1, key2, key3}},
			{"34020000001320000001/", []string{key1, key2}},
			{"34020000001320000001/2026/12/07/", []string{key1}},
			{"34020000001320000001/2026/12/0", []string{key1, key2}},
			{"3402000000132000000", []string{key1, key2, key3}},
			{"34020000001320000002", []string{key3}},
			{"99", nil},
			{"34020000001320000009/2026/", nil},
		} {
			got := list(t, s, tc.prefix)
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range got {
					if !yield(k) {
						return
					}
				}
			})
			if !slices.Equal(keys, tc.want) {
				t.Errorf("List(%q) = %v, want %v", tc.prefix, keys, tc.want)
			}
		}
		if got := list(t, s, "")[key1]; got != int64(len(data)) {
			t.Errorf("listed size %d, want %d", got, len(data))
		}
		stop := errors.New("stop")
		n := 0
		err := s.List(ctx, "", func(string, int64) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("List stopped by fn: err %v after %d calls", err, n)
		}
		if err := s.Delete(ctx, []string{key2, key3}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("space", func(t *testing.T) {
		sp, err := s.Space(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Total <= 0 || sp.Free < 0 || sp.Free > sp.Total {
			t.Fatalf("space %+v", sp)
		}
	})

	t.Run("keys rejected", func(t *testing.T) {
		for _, k := range []string{"", "/abs.mp4", "../x.mp4", "a/../../x.mp4", "a/./b", "a//b", "a/", "a\\b", "a b", "ä"} {
			if _, err := s.WritePath(k); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("WritePath(%q): %v, want ErrInvalidKey", k, err)
			}
			if _, err := s.Open(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Open(%q): %v, want ErrInvalidKey", k, err)
			}
			if err := s.Commit(ctx, k); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Commit(%q): %v, want ErrInvalidKey", k, err)
			}
		}
		if err := s.List(ctx, "../", func(string, int64) error { return nil }); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("List(../): %v, want ErrInvalidKey", err)
		}
	})

	t.Run("missing", func(t *testing.T) {
		const k = "34020000001320000001/2026/12/07/235959.999.mp4"
		if _, err := s.Open(ctx, k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Open: %v, want ErrNotFound", err)
		}
		if err := s.Commit(ctx, k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Commit: %v, want ErrNotFound", err)
		}
	})

	t.Run("spool survives a restart", func(t *testing.T) {
		const k = "34020000001320000003/2026/12/07/120000.000.mp4"
		part := payload(3000)
		p := write(t, s, k, part)
		s2 := open() // the process restarted: a new store on the same directories
		p2, err := s2.WritePath(k)
		if err != nil {
			t.Fatal(err)
		}
		if p2 != p {
			t.Fatalf("WritePath after restart %s, want %s", p2, p)
		}
		if b, err := os.ReadFile(p2); err != nil || !slices.Equal(b, part) {
			t.Fatalf("partial file after restart: %d bytes, %v", len(b), err)
		}
		if err := s2.Commit(ctx, k); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s2, k); !slices.Equal(got, part) {
			t.Fatalf("committed after restart: %d bytes, want %d", len(got), len(part))
		}
		if err := s2.Delete(ctx, []string{k}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("directories", func(t *testing.T) {
		const (
			done = "34020000001320000005/2026/12/07/000000.000.mp4"
			next = "34020000001320000005/2026/12/07/000100.000.mp4"
		)
		write(t, s, done, payload(10))
		// The next segment's path is handed out before its file exists.
		p, err := s.WritePath(next)
		if err != nil {
			t.Fatal(err)
		}
		// Committing (S3: the spool file goes) and deleting the last file of
		// the directory must leave the directory the writer was given.
		if err := s.Commit(ctx, done); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, []string{done}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, payload(10), 0o644); err != nil {
			t.Fatalf("the writer's directory went away: %v", err)
		}
		if err := s.Commit(ctx, next); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, []string{next}); err != nil {
			t.Fatal(err)
		}
		// Now nothing holds them: the emptied directories are gone.
		root := strings.TrimSuffix(p, filepath.FromSlash(next))
		if _, err := os.Stat(filepath.Join(root, "34020000001320000005")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("emptied channel directory left behind: %v", err)
		}
		if _, err := os.Stat(root); err != nil {
			t.Fatalf("the root went away: %v", err)
		}
	})

	t.Run("delete twice", func(t *testing.T) {
		const pending = "34020000001320000004/2026/12/07/000000.000.mp4"
		write(t, s, pending, payload(10)) // deleted before its commit
		keys := []string{key1, pending, "34020000001320000001/2026/01/01/000000.000.mp4"}
		for i := range 2 {
			if err := s.Delete(ctx, keys); err != nil {
				t.Fatalf("delete %d: %v", i+1, err)
			}
		}
		for _, k := range keys {
			if _, err := s.Open(ctx, k); !errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Open(%s) after delete: %v, want ErrNotFound", k, err)
			}
		}
		if got := list(t, s, ""); len(got) != 0 {
			t.Errorf("left after delete: %v", got)
		}
		err := s.Delete(ctx, []string{"ok/key.mp4", "../bad"})
		if !errors.Is(err, objstore.ErrInvalidKey) || !strings.Contains(err.Error(), "../bad") {
			t.Errorf("delete with a bad key: %v", err)
		}
		if err := s.Delete(ctx, nil); err != nil {
			t.Errorf("delete nothing: %v", err)
		}
	})
}
