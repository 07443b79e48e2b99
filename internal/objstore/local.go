package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// tree is a directory of local files named by keys: the directory store's
// objects, or the S3 store's spool. It removes the directories that
// removals leave empty (a directory per channel and day would pile up
// otherwise), except those of files handed out by WritePath and not
// committed or deleted yet: the writer creates its file some time after
// WritePath, and the directory must still be there then.
type tree struct {
	root string

	mu      sync.Mutex
	pending map[string]string // key → its directory, from WritePath to Commit/Delete
	inUse   map[string]int    // directory → pending keys in it
}

func newTree(dir string) (*tree, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("objstore: dir %q: %w", dir, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("objstore: create %s: %w", root, err)
	}
	return &tree{root: root, pending: map[string]string{}, inUse: map[string]int{}}, nil
}

// path is the file of a valid key.
func (t *tree) path(key string) string {
	return filepath.Join(t.root, filepath.FromSlash(key))
}

// writePath creates the directory of key's file and keeps it until the key
// is done.
func (t *tree) writePath(key string) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	p := t.path(key)
	dir := filepath.Dir(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("objstore: create directory of %s: %w", key, err)
	}
	if _, ok := t.pending[key]; !ok {
		t.pending[key] = dir
		t.inUse[dir]++
	}
	return p, nil
}

// done ends key's hold on its directory.
func (t *tree) done(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.doneLocked(key)
}

func (t *tree) doneLocked(key string) {
	dir, ok := t.pending[key]
	if !ok {
		return
	}
	delete(t.pending, key)
	if t.inUse[dir]--; t.inUse[dir] <= 0 {
		delete(t.inUse, dir)
	}
}

// removeFile removes key's file (a missing one is fine) and then the
// directories left empty.
func (t *tree) removeFile(key string) error {
	p := t.path(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.doneLocked(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	t.pruneLocked(filepath.Dir(p))
	return nil
}

// removeFiles removes the files of keys, reporting each failure.
func (t *tree) removeFiles(ctx context.Context, keys []string) error {
	var errs []error
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := ValidateKey(key); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := t.removeFile(key); err != nil {
			errs = append(errs, fmt.Errorf("objstore: delete %s: %w", key, err))
		}
	}
	return errors.Join(errs...)
}

// pruneLocked removes dir and its parents below the root while they are
// empty and hold no pending key's file. rmdir refuses a directory that is
// not empty, so one a file was created in meanwhile is kept.
func (t *tree) pruneLocked(dir string) {
	for dir != t.root && strings.HasPrefix(dir, t.root+string(filepath.Separator)) {
		if t.inUse[dir] > 0 || os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
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
