package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
)

func TestConfigValidate(t *testing.T) {
	s3 := objstore.Config{Kind: objstore.KindS3, Endpoint: "127.0.0.1:9000", Bucket: "rec", AccessKey: "a", SecretKey: "b"}
	with := func(f func(*objstore.Config)) objstore.Config { c := s3; f(&c); return c }
	for _, tc := range []struct {
		name string
		c    objstore.Config
		bad  string // a word the error must contain; "" when valid
	}{
		{"zero value is the default dir", objstore.Config{}, ""},
		{"dir", objstore.Config{Kind: objstore.KindDir, Dir: "/x"}, ""},
		{"s3", s3, ""},
		{"s3 with prefix", with(func(c *objstore.Config) { c.Prefix = "site1/cams" }), ""},
		{"unknown kind", objstore.Config{Kind: "ftp"}, "kind"},
		{"negative capacity", objstore.Config{CapacityBytes: -1}, "capacity_bytes"},
		{"negative retries", objstore.Config{MaxRetries: -1}, "max_retries"},
		{"no endpoint", with(func(c *objstore.Config) { c.Endpoint = "" }), "endpoint"},
		{"endpoint with scheme", with(func(c *objstore.Config) { c.Endpoint = "http://h:9000" }), "endpoint"},
		{"no bucket", with(func(c *objstore.Config) { c.Bucket = "" }), "bucket"},
		{"no secret", with(func(c *objstore.Config) { c.SecretKey = "" }), "secret_key"},
		{"bad prefix", with(func(c *objstore.Config) { c.Prefix = "../up" }), "prefix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			if tc.bad == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, objstore.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.bad) {
				t.Fatalf("err = %v, want ErrInvalidConfig naming %s", err, tc.bad)
			}
			if _, err := objstore.New(context.Background(), tc.c); !errors.Is(err, objstore.ErrInvalidConfig) {
				t.Fatalf("New: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestName(t *testing.T) {
	s := newStore(t, objstore.Config{Dir: t.TempDir()})
	if s.Name() != "dir" {
		t.Errorf("dir store name %q", s.Name())
	}
	srv := miniotest.Start(t)
	c := srv.Config(srv.Bucket(t, "names"), t.TempDir())
	c.Prefix = "a/b"
	if got := newStore(t, c).Name(); got != "s3://names/a/b/" {
		t.Errorf("s3 store name %q", got)
	}
}

func TestS3Bucket(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	c := srv.Config("absent", filepath.Join(t.TempDir(), "spool"))
	if _, err := objstore.New(ctx, c); !errors.Is(err, objstore.ErrNoBucket) {
		t.Fatalf("missing bucket: %v, want ErrNoBucket", err)
	}
	c.CreateBucket = true
	newStore(t, c)
	c.CreateBucket = false
	newStore(t, c) // it exists now

	// Without a capacity S3 has no notion of free space.
	c.CapacityBytes = 0
	sp, err := newStore(t, c).Space(ctx)
	if err != nil || sp.Total != -1 || sp.Free != -1 {
		t.Fatalf("space without capacity: %+v, %v", sp, err)
	}

	bad := c
	bad.SecretKey = "wrong-secret"
	if _, err := objstore.New(ctx, bad); err == nil {
		t.Fatal("wrong credentials accepted")
	}
}

// TestS3Outage stops MinIO: a commit fails and keeps its spool file, reads
// fail with an error, and once MinIO is back the same commit succeeds.
func TestS3Outage(t *testing.T) {
	ctx := context.Background()
	srv := miniotest.Start(t)
	c := srv.Config(srv.Bucket(t, "outage"), filepath.Join(t.TempDir(), "spool"))
	c.MaxRetries = 1 // fail at once rather than after minio-go's back-off
	s := newStore(t, c)
	const before, during = "c/2026/12/07/000000.000.mp4", "c/2026/12/07/000100.000.mp4"
	write(t, s, before, payload(1000))
	if err := s.Commit(ctx, before); err != nil {
		t.Fatal(err)
	}
	o, err := s.Open(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()

	srv.Stop()
	p := write(t, s, during, payload(2000))
	if err := s.Commit(ctx, during); err == nil {
		t.Fatal("commit succeeded with MinIO stopped")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("spool file after a failed commit: %v", err)
	}
	if _, err := o.ReadAt(make([]byte, 10), 0); err == nil {
		t.Fatal("read succeeded with MinIO stopped")
	}

	srv.Restart()
	if err := s.Commit(ctx, during); err != nil {
		t.Fatalf("commit after restart: %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spool file after the commit: %v", err)
	}
	if got := readAll(t, s, during); len(got) != 2000 {
		t.Fatalf("read after restart: %d bytes", len(got))
	}
	if n, err := o.ReadAt(make([]byte, 10), 990); n != 10 || err != nil {
		t.Fatalf("object opened before the outage: %d, %v", n, err)
	}
}
