package objstore_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/objstore/miniotest"
)

// segmentBytes is a one-minute segment of a 2 Mbit/s stream.
const segmentBytes = 15 << 20

// BenchmarkCommit measures making a written one-minute segment an object:
// an fsync for the directory store, an upload for S3 (a local MinIO).
func BenchmarkCommit(b *testing.B) {
	data := payload(segmentBytes)
	for _, bk := range []struct {
		name string
		cfg  func(b *testing.B) objstore.Config
	}{
		{"dir", func(b *testing.B) objstore.Config { return objstore.Config{Dir: b.TempDir()} }},
		{"s3", func(b *testing.B) objstore.Config {
			srv := miniotest.Start(b)
			return srv.Config(srv.Bucket(b, "bench"), filepath.Join(b.TempDir(), "spool"))
		}},
	} {
		b.Run(bk.name, func(b *testing.B) {
			ctx := context.Background()
			s, err := objstore.New(ctx, bk.cfg(b))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.SetBytes(segmentBytes)
			for i := 0; b.Loop(); i++ {
				key := fmt.Sprintf("c/2026/12/07/%06d.000.mp4", i)
				p, err := s.WritePath(key)
				if err != nil {
					b.Fatal(err)
				}
				if err := os.WriteFile(p, data, 0o644); err != nil {
					b.Fatal(err)
				}
				if err := s.Commit(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadAt measures reading a committed segment in 1 MiB ranges, as
// playback and export do.
func BenchmarkReadAt(b *testing.B) {
	ctx := context.Background()
	srv := miniotest.Start(b)
	c := srv.Config(srv.Bucket(b, "bench"), filepath.Join(b.TempDir(), "spool"))
	s, err := objstore.New(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const key = "c/2026/12/07/000000.000.mp4"
	p, err := s.WritePath(key)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(p, payload(segmentBytes), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := s.Commit(ctx, key); err != nil {
		b.Fatal(err)
	}
	o, err := s.Open(ctx, key)
	if err != nil {
		b.Fatal(err)
	}
	defer o.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(segmentBytes)
	for b.Loop() {
		if _, err := io.CopyBuffer(io.Discard, io.NewSectionReader(o, 0, o.Size()), buf); err != nil {
			b.Fatal(err)
		}
	}
}
