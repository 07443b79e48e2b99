package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestRunFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-help"}, 0, "-fault-wrong-password"},
		{[]string{"-help"}, 0, "-fault-nat-rebind"},
		{[]string{"-fault-nat-rebind", "-1s"}, 1, "fault-nat-rebind"},
		{[]string{"-no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"-log-level", "loud"}, 2, "-log-level"},
		{[]string{"-sip-transport", "sctp"}, 1, "invalid configuration"},
	} {
		var out bytes.Buffer
		if code := run(tc.args, &out); code != tc.code || !strings.Contains(out.String(), tc.out) {
			t.Errorf("run(%v) = %d, output %q; want %d and %q", tc.args, code, out.String(), tc.code, tc.out)
		}
	}
}

// TestMain fails the tests when they leave goroutines running.
func TestMain(m *testing.M) { leakcheck.Main(m) }
