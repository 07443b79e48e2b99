package recorder

import (
	"context"
	"net"
	"testing"

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
