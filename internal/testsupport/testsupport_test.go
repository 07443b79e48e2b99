package testsupport_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	// The condition holds on its third evaluation; the timeout is far beyond
	// any machine's speed because nothing here waits on a component.
	testsupport.Eventually(t, time.Hour, "the third call", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("cond evaluated %d times, want 3", n)
	}
}

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder in its own goroutine, as the testing package
// runs a test, so that Skipf and Fatalf can end it.
func run(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestNeed(t *testing.T) {
	missing := errors.New("not found")
	for _, tc := range []struct {
		name        string
		ci          string
		err         error
		skip, fails bool
	}{
		{name: "present locally", err: nil},
		{name: "present under CI", ci: "true", err: nil},
		{name: "missing locally skips", err: missing, skip: true},
		{name: "missing under CI fails", ci: "true", err: missing, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := run(t, func(tb testing.TB) { testsupport.Need(tb, "sipp", "Debian package sip-tester", tc.err) })
			if r.skipped != tc.skip || r.failed != tc.fails {
				t.Fatalf("skipped=%v failed=%v, want %v %v (%s)", r.skipped, r.failed, tc.skip, tc.fails, r.msg)
			}
			if (tc.skip || tc.fails) && !strings.Contains(r.msg, "sip-tester") {
				t.Fatalf("message %q does not say how to install the part", r.msg)
			}
		})
	}
}

func TestToolFindsAnInstalledBinary(t *testing.T) {
	if p := testsupport.Tool(t, "sh", "dash"); p == "" {
		t.Fatal("no path for sh")
	}
}

func TestAddrInUse(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"wrapped errno", fmt.Errorf("start: %w", syscall.EADDRINUSE), true},
		{"text only", errors.New("listen udp 127.0.0.1:1: bind: address already in use"), true},
		{"other", errors.New("permission denied"), false},
	}
	for _, tt := range tests {
		if got := testsupport.AddrInUse(tt.err); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
