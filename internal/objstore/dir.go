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

// dirStore keeps every object as a file below root; the file written at
// WritePath already is the object.
type dirStore struct {
	root string
}

func newDir(c Config) (*dirStore, error) {
	root, err := filepath.Abs(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("objstore: dir %q: %w", c.Dir, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: create dir: %w", err)
	}
	return &dirStore{root: root}, nil
}

func (s *dirStore) Name() string { return KindDir }

func (s *dirStore) Close() error { return nil }

func (s *dirStore) WritePath(key string) (string, error) {
	return localPath(s.root, key)
}

// localPath is the file of key below root, with its directory created.
func localPath(root, key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	p := filepath.Join(root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("objstore: create directory of %s: %w", key, err)
	}
	return p, nil
}

func (s *dirStore) Commit(_ context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	p := filepath.Join(s.root, filepath.FromSlash(key))
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
	return openFile(filepath.Join(s.root, filepath.FromSlash(key)), key)
}

// fileObject is an Object read from a local file.
type fileObject struct {
	*os.File
	size int64
}

func (o *fileObject) Size() int64 { return o.size }

func openFile(p, key string) (*fileObject, error) {
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("objstore: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("objstore: stat %s: %w", key, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: not a file: %w", key, ErrNotFound)
	}
	return &fileObject{File: f, size: st.Size()}, nil
}

func (s *dirStore) Delete(ctx context.Context, keys []string) error {
	return removeFiles(ctx, s.root, keys)
}

// removeFiles removes the files of keys below root (missing ones are fine)
// and then the directories the removals left empty, so that expired days
// do not leave a directory per channel and day behind.
func removeFiles(ctx context.Context, root string, keys []string) error {
	var errs []error
	dirs := map[string]struct{}{}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := ValidateKey(key); err != nil {
			errs = append(errs, err)
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(key))
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("objstore: delete %s: %w", key, err))
			continue
		}
		dirs[filepath.Dir(p)] = struct{}{}
	}
	for d := range dirs {
		pruneEmpty(root, d)
	}
	return errors.Join(errs...)
}

// pruneEmpty removes dir and its parents below root while they are empty.
// rmdir refuses a directory that is not empty, so a directory a writer has
// put a file in since is kept; the one window left, between WritePath's
// MkdirAll and the creation of the file, needs the sweeper to empty that
// very directory at that instant, and then the writer's create fails and is
// retried like any storage error.
func pruneEmpty(root, dir string) {
	for dir != root && strings.HasPrefix(dir, root+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func (s *dirStore) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	return listFiles(ctx, s.root, prefix, fn)
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
	if err := syscall.Statfs(s.root, &st); err != nil {
		return Space{}, fmt.Errorf("objstore: statfs %s: %w", s.root, err)
	}
	bs := int64(st.Bsize) //nolint:unconvert // Bsize's type differs between platforms
	return Space{Total: int64(st.Blocks) * bs, Free: int64(st.Bavail) * bs}, nil
}
