package recorder

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestNodeNamed: a directory store is named after its node in the index;
// an S3 store keeps its name.
func TestNodeNamed(t *testing.T) {
	dir, err := objstore.New(context.Background(), objstore.Config{Kind: objstore.KindDir, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if got := nodeNamed(dir, "rec-1").Name(); got != "dir://rec-1" {
		t.Errorf("dir store named %q", got)
	}
	if got := nodeNamed(s3Named{}, "rec-1").Name(); got != "s3://rec/a/" {
		t.Errorf("s3 store named %q", got)
	}
}

// s3Named is a store named as an S3 one (only Name is called).
type s3Named struct{ objstore.Store }

func (s3Named) Name() string { return "s3://rec/a/" }

func TestAdvertised(t *testing.T) {
	for addr, want := range map[string]string{
		"0.0.0.0:8082":   "rec-1:8082",
		"[::]:8082":      "rec-1:8082",
		"10.0.0.7:8082":  "10.0.0.7:8082",
		"127.0.0.1:8082": "127.0.0.1:8082",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := advertised(a, "rec-1"); got != want {
			t.Errorf("advertised(%s) = %s, want %s", addr, got, want)
		}
	}
}

// TestStagger: each channel's stagger is below the segment duration, the
// same every time, and channels with consecutive IDs spread over it.
func TestStagger(t *testing.T) {
	const seg = time.Minute
	var buckets [6]int
	for i := range 600 {
		id := fmt.Sprintf("340200000013200%05d", i)
		s := stagger(id, seg)
		if s < 0 || s >= seg || s != stagger(id, seg) {
			t.Fatalf("stagger(%s) = %v", id, s)
		}
		buckets[s/(10*time.Second)]++
	}
	for i, n := range buckets {
		if n < 60 || n > 140 { // 100 expected in each 10 s
			t.Errorf("%d of 600 channels cut %d–%d s after the minute: %v", n, 10*i, 10*i+10, buckets)
		}
	}
	if stagger("x", 0) != 0 {
		t.Error("no stagger without a segment duration")
	}
}
