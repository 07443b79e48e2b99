package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Store keeps objects in a bucket; new objects are written to files under
// spool and uploaded by Commit.
type s3Store struct {
	client    *minio.Client
	core      minio.Core // for plain ranged GETs: minio.Object runs a goroutine per open object
	transport *http.Transport
	bucket    string
	prefix    string
	spool     *tree
	capacity  int64
}

func newS3(ctx context.Context, c Config) (*s3Store, error) {
	spool, err := newTree(c.SpoolDir)
	if err != nil {
		return nil, err
	}
	// A transport of our own, closed by Close: minio-go's shared default
	// would keep idle connections (and their goroutines) past the store.
	tr, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		return nil, errors.New("objstore: http.DefaultTransport is not an *http.Transport")
	}
	tr = tr.Clone()
	client, err := minio.New(c.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:     c.TLS,
		Region:     c.Region,
		Transport:  tr,
		MaxRetries: c.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("objstore: s3 client for %s: %w", c.Endpoint, err)
	}
	s := &s3Store{
		client: client, core: minio.Core{Client: client}, transport: tr,
		bucket: c.Bucket, prefix: c.Prefix, spool: spool, capacity: c.CapacityBytes,
	}
	exists, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("objstore: check bucket %s at %s: %w", c.Bucket, c.Endpoint, err)
	}
	if !exists {
		if !c.CreateBucket {
			tr.CloseIdleConnections()
			return nil, fmt.Errorf("%w: %s at %s", ErrNoBucket, c.Bucket, c.Endpoint)
		}
		if err := client.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{Region: c.Region}); err != nil {
			tr.CloseIdleConnections()
			return nil, fmt.Errorf("objstore: create bucket %s at %s: %w", c.Bucket, c.Endpoint, err)
		}
	}
	return s, nil
}

func (s *s3Store) Name() string { return "s3://" + s.bucket + "/" + s.prefix }

func (s *s3Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

func (s *s3Store) WritePath(key string) (string, error) {
	return s.spool.writePath(key)
}

func (s *s3Store) Commit(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	p := s.spool.path(key)
	_, err := s.client.FPutObject(ctx, s.bucket, s.prefix+key, p, minio.PutObjectOptions{ContentType: contentType(key)})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Uploaded already and the spool file removed (a commit repeated
		// after a crash between the two), or never written.
		if _, serr := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{}); serr != nil {
			if isNoSuchKey(serr) {
				return fmt.Errorf("commit %s: %w", key, ErrNotFound)
			}
			return fmt.Errorf("objstore: commit %s: stat: %w", key, serr)
		}
		s.spool.done(key)
		return nil
	case err != nil:
		return fmt.Errorf("objstore: commit %s: upload: %w", key, err)
	}
	if err := s.spool.removeFile(key); err != nil {
		return fmt.Errorf("objstore: commit %s: remove spool file: %w", key, err)
	}
	return nil
}

func contentType(key string) string {
	if strings.HasSuffix(key, ".mp4") {
		return "video/mp4"
	}
	return "application/octet-stream"
}

func isNoSuchKey(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == minio.NoSuchKey || code == "NotFound"
}

func (s *s3Store) Open(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, err
	}
	// A segment not committed yet is read from its spool file.
	if o, err := openFile(s.spool.path(key), key); err == nil {
		return o, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		if isNoSuchKey(err) {
			return nil, fmt.Errorf("open %s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("objstore: open %s: %w", key, err)
	}
	return &s3Object{s: s, ctx: ctx, key: key, size: info.Size, etag: info.ETag}, nil
}

// s3Object reads an object with one ranged GET per ReadAt, pinned to the
// ETag seen at Open so that a replaced object is not read half old, half new.
type s3Object struct {
	s    *s3Store
	ctx  context.Context //nolint:containedctx // io.ReaderAt has no context; Open's bounds the reads
	key  string
	size int64
	etag string
}

func (o *s3Object) Size() int64 { return o.size }

func (o *s3Object) Close() error { return nil }

func (o *s3Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("objstore: read %s: negative offset %d", o.key, off)
	}
	if off >= o.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n == 0 {
		return 0, nil
	}
	n = min(n, o.size-off)
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return 0, fmt.Errorf("objstore: read %s: %w", o.key, err)
	}
	if err := opts.SetMatchETag(o.etag); err != nil {
		return 0, fmt.Errorf("objstore: read %s: %w", o.key, err)
	}
	body, _, _, err := o.s.core.GetObject(o.ctx, o.s.bucket, o.s.prefix+o.key, opts)
	if err != nil {
		if isNoSuchKey(err) {
			return 0, fmt.Errorf("read %s: %w", o.key, ErrNotFound)
		}
		return 0, fmt.Errorf("objstore: read %s at %d: %w", o.key, off, err)
	}
	defer body.Close()
	got, err := io.ReadFull(body, p[:n])
	if err != nil {
		return got, fmt.Errorf("objstore: read %s at %d: %w", o.key, off, err)
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}

func (s *s3Store) Delete(ctx context.Context, keys []string) error {
	var errs []error
	valid := make([]string, 0, len(keys))
	for _, key := range keys {
		if err := ValidateKey(key); err != nil {
			errs = append(errs, err)
			continue
		}
		valid = append(valid, key)
	}
	objs := make(chan minio.ObjectInfo, len(valid))
	for _, key := range valid {
		objs <- minio.ObjectInfo{Key: s.prefix + key}
	}
	close(objs)
	// RemoveObjects sends at most 1000 keys a request; S3 reports a missing
	// key as deleted, which makes a repeated deletion succeed.
	for e := range s.client.RemoveObjects(ctx, s.bucket, objs, minio.RemoveObjectsOptions{}) {
		errs = append(errs, fmt.Errorf("objstore: delete %s: %w", strings.TrimPrefix(e.ObjectName, s.prefix), e.Err))
	}
	// A segment deleted before its commit leaves no spool file behind.
	if err := s.spool.removeFiles(ctx, valid); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *s3Store) List(ctx context.Context, prefix string, fn func(key string, size int64) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	// Cancelling ends ListObjects' goroutine when fn stops the walk early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true})
	for obj := range ch {
		if obj.Err != nil {
			return fmt.Errorf("objstore: list %q: %w", prefix, obj.Err)
		}
		if err := fn(strings.TrimPrefix(obj.Key, s.prefix), obj.Size); err != nil {
			cancel()
			for range ch { //nolint:revive // drained so that ListObjects' goroutine ends before we return
			}
			return err
		}
	}
	return nil
}

// Space reports CapacityBytes and what is left of it after the objects'
// bytes, which takes a listing of the whole prefix: call it every few
// minutes, not per segment. S3 itself has no notion of free space.
func (s *s3Store) Space(ctx context.Context) (Space, error) {
	if s.capacity == 0 {
		return Space{Total: -1, Free: -1}, nil
	}
	var used int64
	if err := s.List(ctx, "", func(_ string, size int64) error { used += size; return nil }); err != nil {
		return Space{}, err
	}
	return Space{Total: s.capacity, Free: max(s.capacity-used, 0)}, nil
}
