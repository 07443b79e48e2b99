package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// dirStore keeps every object as a file below its tree's root; the file
// written at WritePath already is the object.
type dirStore struct {
	files *tree
}

func newDir(c Config) (*dirStore, error) {
	files, err := newTree(c.Dir)
	if err != nil {
		return nil, err
	}
	return &dirStore{files: files}, nil
}

func (s *dirStore) Name() string { return KindDir }

func (s *dirStore) Close() error { return nil }

func (s *dirStore) WritePath(key string) (string, error) {
	return s.files.writePath(key)
}

func (s *dirStore) Commit(_ context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	p := s.files.path(key)
	if err := syncPath(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("commit %s: %w", key, ErrNotFound)
		}
		return fmt.Errorf("objstore: commit %s: %w", key, err)
	}
	// The directory entry must be durable too, or a crash can lose the file.
	if err := syncPath(filepath.Dir(p)); err != nil {
		return fmt.Errorf("objstore: commit %s: directory: %w", key, err)
	}
	s.files.done(key)
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func (s *dirStore) Open(_ context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	return openFile(s.files.path(key), key)
}

func (s *dirStore) Delete(ctx context.Context, keys []string) error {
	return s.files.removeFiles(ctx, keys)
}

func (s *dirStore) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	return listFiles(ctx, s.files.root, prefix, fn)
}

// listFiles walks the files below root whose keys begin with prefix.
func listFiles(ctx context.Context, root, prefix string, fn func(key string, size int64) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	// Walk only the deepest directory the prefix names in full.
	start := root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = filepath.Join(root, filepath.FromSlash(prefix[:i]))
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the prefix's directory is absent, or went away during the walk
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip a directory that no key with this prefix can be in.
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted during the walk
		}
		if err != nil {
			return err
		}
		return fn(key, info.Size())
	})
	if err != nil {
		return fmt.Errorf("objstore: list %q: %w", prefix, err)
	}
	return nil
}

func (s *dirStore) Space(_ context.Context) (Space, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(s.files.root, &st); err != nil {
		return Space{}, fmt.Errorf("objstore: statfs %s: %w", s.files.root, err)
	}
	bs := int64(st.Bsize) //nolint:unconvert // Bsize's type differs between platforms
	return Space{Total: int64(st.Blocks) * bs, Free: int64(st.Bavail) * bs}, nil
}
