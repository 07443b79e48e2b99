package objstore

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Backend kinds of Config.Kind.
const (
	KindDir = "dir"
	KindS3  = "s3"
)

// Defaults of Config.
const (
	DefaultDir      = "var/recordings"
	DefaultSpoolDir = "var/recordings-spool"
)

// Store is where recording segments live. Keys are validated by
// ValidateKey. Every method is safe for concurrent use.
type Store interface {
	// Name identifies the store in the recordings index: "dir" or
	// "s3://<bucket>/<prefix>".
	Name() string
	// WritePath returns the local file a new object is written at, with its
	// directories created; they stay (Delete removes emptied directories)
	// until the key is committed or deleted, however late the caller creates
	// the file. The caller appends to the file, then calls Commit. A file
	// left there by a crash is still at the same path for a Store opened on
	// the same directories, to be repaired and committed.
	WritePath(key string) (string, error)
	// Commit makes the file at WritePath(key) the object: the directory
	// backend fsyncs the file and its directory; the S3 backend uploads it
	// and removes the local file. Committing an object committed already is
	// no error; a key with neither a local file nor an object is ErrNotFound.
	Commit(ctx context.Context, key string) error
	// Open opens an object for reading, or, while it is not committed yet,
	// its local file (a segment being written). ErrNotFound when neither
	// exists. For S3, ctx also bounds the object's reads (one ranged GET per
	// ReadAt): pass a context that lives as long as the Object is read.
	Open(ctx context.Context, key string) (Object, error)
	// Delete removes objects and any local files of theirs. Missing keys are
	// no error, so a deletion interrupted by a crash can simply be repeated;
	// per-key failures are returned joined (errors.Join).
	Delete(ctx context.Context, keys []string) error
	// List calls fn for every committed object whose key begins with prefix
	// (for the directory backend that includes files still being written),
	// in lexical order within a directory. An error from fn stops the walk
	// and is returned.
	List(ctx context.Context, prefix string, fn func(key string, size int64) error) error
	// Space reports the storage's capacity and free bytes.
	Space(ctx context.Context) (Space, error)
	// Close releases the store's connections.
	Close() error
}

// Object is an opened object. Size is its size when it was opened: a local
// file still being written may have grown since. On S3 each ReadAt is one
// HTTP request, so read in large ranges (a MiB, not io.Copy's 32 KiB).
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Space is the capacity of a store, in bytes; -1 means unknown.
type Space struct {
	// Total is the size of the filesystem (dir) or Config.CapacityBytes (S3).
	Total int64
	// Free is what can still be written: the filesystem's bytes available to
	// this user (dir), or CapacityBytes less the objects' bytes (S3).
	Free int64
}

// Config selects and configures a backend.
type Config struct {
	// Kind is KindDir (default) or KindS3.
	Kind string
	// Dir is the directory backend's root (default DefaultDir).
	Dir string
	// SpoolDir (S3 only) is where objects are written before their upload
	// (default DefaultSpoolDir). It must survive restarts: a crashed
	// writer's partial files are repaired from there.
	SpoolDir string
	// Endpoint is the S3 host:port, without scheme.
	Endpoint string
	// Bucket is the S3 bucket.
	Bucket string
	// Prefix is prepended to every key in the bucket ("" or ending in "/",
	// added when missing).
	Prefix string
	// AccessKey and SecretKey are the S3 credentials.
	AccessKey string
	SecretKey string
	// Region is the S3 region; empty lets minio-go ask the server.
	Region string
	// TLS connects to Endpoint over HTTPS.
	TLS bool
	// CapacityBytes is the S3 space that recordings may fill; 0: unknown
	// (Space reports -1). The directory backend asks the filesystem.
	CapacityBytes int64
	// MaxRetries is how often an S3 request is tried before its error is
	// returned; 0: minio-go's default (10 tries, about 8 s of back-off when
	// the server is down).
	MaxRetries int
	// CreateBucket lets New create a missing bucket instead of failing with ErrNoBucket.
	CreateBucket bool
}

// withDefaults fills the empty fields that have defaults.
func (c Config) withDefaults() Config {
	if c.Kind == "" {
		c.Kind = KindDir
	}
	if c.Kind == KindDir && c.Dir == "" {
		c.Dir = DefaultDir
	}
	if c.Kind == KindS3 && c.SpoolDir == "" {
		c.SpoolDir = DefaultSpoolDir
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	return c
}

// Validate checks the configuration (after defaults), naming the bad field.
func (c Config) Validate() error {
	c = c.withDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if c.CapacityBytes < 0 {
		return bad("capacity_bytes %d is negative", c.CapacityBytes)
	}
	if c.MaxRetries < 0 {
		return bad("max_retries %d is negative", c.MaxRetries)
	}
	switch c.Kind {
	case KindDir:
		return nil
	case KindS3:
	default:
		return bad("kind %q: want %q or %q", c.Kind, KindDir, KindS3)
	}
	if c.Endpoint == "" {
		return bad("endpoint is required for kind s3")
	}
	if strings.Contains(c.Endpoint, "://") || strings.Contains(c.Endpoint, "/") {
		return bad("endpoint %q: want host:port without scheme or path (set tls for https)", c.Endpoint)
	}
	if _, err := url.Parse("http://" + c.Endpoint); err != nil {
		return bad("endpoint %q: %v", c.Endpoint, err)
	}
	if c.Bucket == "" {
		return bad("bucket is required for kind s3")
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return bad("access_key and secret_key are required for kind s3")
	}
	if c.Prefix != "" {
		if err := validatePrefix(c.Prefix); err != nil {
			return bad("prefix: %v", err)
		}
	}
	return nil
}

// New opens the configured store. For S3 it checks that the bucket exists
// (creating it when Config.CreateBucket allows), so a wrong endpoint or
// credentials fail here rather than at the first commit.
func New(ctx context.Context, c Config) (Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	if c.Kind == KindS3 {
		return newS3(ctx, c)
	}
	return newDir(c)
}
