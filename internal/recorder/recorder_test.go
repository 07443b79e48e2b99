package recorder

import (
	"net"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

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
