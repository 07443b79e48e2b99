package auth_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// counting wraps VerifyPassword and counts its calls.
type counting struct{ n atomic.Int64 }

func (c *counting) verify(phc, password string) (bool, error) {
	c.n.Add(1)
	return auth.VerifyPassword(phc, password)
}

func (c *counting) take() int64 { return c.n.Swap(0) }

func addUser(t *testing.T, st *consoledb.DB, name, password string) store.User {
	t.Helper()
	h, err := auth.HashPassword(password, cheap)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(context.Background(), store.User{Username: name, PasswordHash: h, Role: store.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// breakAudit makes every audit_log insert fail, as a full disk or a
// revoked grant would.
func breakAudit(t *testing.T, st *consoledb.DB) {
	t.Helper()
	_, err := st.Pool.Exec(context.Background(), `
CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit_log is read-only in this test'; END $$;
CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestLoginFailuresAlike checks that an unknown user, a wrong password and a
// locked (user, address) pair — with the wrong or the right password — do
// the same work (one password hash each) and return the same error.
func TestLoginFailuresAlike(t *testing.T) {
	ctx := context.Background()
	var hashes counting
	s, st, _ := fixture(t, func(s *auth.Service) {
		s.MaxFailures = 2
		auth.SetCheckHash(s, hashes.verify)
	})
	addUser(t, st, "alice", "alice-password")
	addUser(t, st, "bob", "bob-password")
	// Lock bob for 10.0.0.1.
	for range 2 {
		if _, err := s.Login(ctx, "bob", "nope", "10.0.0.1"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	hashes.take()

	var first string
	for _, tc := range []struct{ name, user, password string }{
		{"unknown user", "mallory", "alice-password"},
		{"wrong password", "alice", "nope"},
		{"locked, wrong password", "bob", "nope"},
		{"locked, right password", "bob", "bob-password"},
		{"unknown user with a bad name", "ma\x00l\xffory", "x"},
		{"unknown user with a long name", strings.Repeat("m", 300), "x"},
	} {
		_, err := s.Login(ctx, tc.user, tc.password, "10.0.0.1")
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("%s: %v, want ErrInvalidCredentials", tc.name, err)
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("%s: %q, the first failure said %q", tc.name, err, first)
		}
		if n := hashes.take(); n != 1 {
			t.Errorf("%s: %d password hashes, want 1", tc.name, n)
		}
	}
	// Each failure counted in the address's counter, unknown users too.
	ip, err := st.AuthFailureOf(ctx, store.AuthKey{Scope: store.FailLoginIP, Remote: "10.0.0.1"})
	if err != nil || ip.Failures != 8 {
		t.Fatalf("address counter %+v %v, want 8 failures", ip, err)
	}
	mallory, err := st.AuthFailureOf(ctx, store.AuthKey{Scope: store.FailLogin, Username: "mallory", Remote: "10.0.0.1"})
	if err != nil || mallory.Failures != 1 {
		t.Fatalf("unknown user's counter %+v %v", mallory, err)
	}
	if got := reasons(t, st, "login_failed"); got["unknown user"] != 3 || got["locked"] != 2 || got["wrong password"] != 3 {
		t.Errorf("audited reasons %v", got)
	}
}

func TestLoginAddressLimit(t *testing.T) {
	ctx := context.Background()
	var hashes counting
	s, st, clk := fixture(t, func(s *auth.Service) {
		s.MaxFailures, s.IPMaxFailures, s.IPWindow = 5, 3, 10*time.Minute
		auth.SetCheckHash(s, hashes.verify)
	})
	addUser(t, st, "alice", "alice-password")
	// Spraying: one guess per username.
	for _, name := range []string{"admin", "root", "operator"} {
		if _, err := s.Login(ctx, name, "123456", "10.0.0.5"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	hashes.take()
	var many *auth.TooManyAttemptsError
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.5"); !errors.As(err, &many) || !many.Until.Equal(clk.Now().Add(10*time.Minute)) {
		t.Fatalf("login from the spraying address: %v, want TooManyAttemptsError", err)
	}
	if n := hashes.take(); n != 0 {
		t.Errorf("a refused address cost %d hashes", n)
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.6"); err != nil {
		t.Fatalf("login from another address: %v", err)
	}
	clk.Add(10 * time.Minute)
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.5"); err != nil {
		t.Fatalf("login after the window: %v", err)
	}
	// A login refused for its username counts towards the limit too.
	for range 3 {
		if err := s.RefuseLogin(ctx, "ad\x00min", "10.0.0.7", "username is not text"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "10.0.0.7"); !errors.As(err, &many) {
		t.Fatalf("after refused logins: %v", err)
	}
	// IPv6 addresses share the limit of their /64.
	for _, a := range []string{"2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::c"} {
		if _, err := s.Login(ctx, "nobody", "x", a); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("guess from %s: %v", a, err)
		}
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "2001:db8:1:2::d"); !errors.As(err, &many) {
		t.Fatalf("login from the same /64: %v, want TooManyAttemptsError", err)
	}
	if _, err := s.Login(ctx, "alice", "alice-password", "2001:db8:1:3::d"); err != nil {
		t.Fatalf("login from the next /64: %v", err)
	}
	entries, _, err := st.ListAudit(ctx, store.AuditFilter{Action: "login_failed", Username: "ad\uFFFDmin"})
	if err != nil || len(entries) != 3 || entries[0].Detail["username_quoted"] != `"ad\x00min"` {
		t.Fatalf("refused logins audited as %+v %v", entries, err)
	}
}

// TestLoginFailsClosed checks that a login whose audit row cannot be
// written is refused and leaves no session behind — by a Service that says
// nothing about the audit log: failing closed is the zero value — and that
// with AuditFailOpen it goes through.
func TestLoginFailsClosed(t *testing.T) {
	ctx := context.Background()
	for _, failClosed := range []bool{true, false} {
		var opts []func(*auth.Service)
		if !failClosed {
			opts = append(opts, func(s *auth.Service) { s.AuditFailOpen = true })
		}
		s, st, _ := fixture(t, opts...)
		u := addUser(t, st, "alice", "alice-password")
		breakAudit(t, st)
		res, err := s.Login(ctx, "alice", "alice-password", "10.0.0.1")
		if failClosed {
			if !errors.Is(err, auth.ErrAuditUnavailable) {
				t.Fatalf("fail closed: %v, want ErrAuditUnavailable", err)
			}
			if n, err := st.DeleteUserSessions(ctx, u.ID, nil); err != nil || n != 0 {
				t.Errorf("an unaudited login left %d sessions (%v)", n, err)
			}
			continue
		}
		if err != nil || res.Token == "" {
			t.Fatalf("fail open: %v", err)
		}
	}
}

func TestProxies(t *testing.T) {
	p := auth.Proxies{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct {
		name, peer string
		xff        []string
		proto      string
		tls        bool
		client     string
		secure     bool
	}{
		{"direct", "192.0.2.1:5000", nil, "", false, "192.0.2.1", false},
		{"untrusted peer's headers ignored", "192.0.2.1:5000", []string{"203.0.113.9"}, "https", false, "192.0.2.1", false},
		{"own TLS", "192.0.2.1:5000", nil, "", true, "192.0.2.1", true},
		{"trusted proxy", "10.1.1.1:5000", []string{"203.0.113.9"}, "https", false, "203.0.113.9", true},
		{"proxy chain", "10.1.1.1:5000", []string{"198.51.100.7, 203.0.113.9", "10.2.2.2"}, "https,http", false, "203.0.113.9", true},
		{"spoofed left part", "10.1.1.1:5000", []string{"1.1.1.1, 203.0.113.9"}, "http", false, "203.0.113.9", false},
		{"garbage stops the walk", "10.1.1.1:5000", []string{"203.0.113.9, junk, 10.3.3.3"}, "", false, "10.3.3.3", false},
		{"address with port", "10.1.1.1:5000", []string{"203.0.113.9:4711"}, "HTTPS", false, "203.0.113.9", true},
		{"all trusted", "10.1.1.1:5000", []string{"10.9.9.9"}, "", false, "10.9.9.9", false},
		{"no header", "10.1.1.1:5000", nil, "", false, "10.1.1.1", false},
		{"IPv6 proxy", "[::1]:5000", []string{"2001:db8::5"}, "https", false, "2001:db8::5", true},
		{"mapped IPv4 peer", "[::ffff:10.1.1.1]:5000", []string{"203.0.113.9"}, "", false, "203.0.113.9", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := p.ClientAddr(r); got != tc.client {
				t.Errorf("client %q, want %q", got, tc.client)
			}
			if got := p.Secure(r); got != tc.secure {
				t.Errorf("secure %v, want %v", got, tc.secure)
			}
		})
	}
	if got := (auth.Proxies{}).ClientAddr(&http.Request{RemoteAddr: "not-an-address"}); got != "not-an-address" {
		t.Errorf("unparsable peer: %q", got)
	}
}

// FuzzClientAddr checks that any forwarding headers from a trusted proxy
// give the peer or a valid IP, never a panic or a piece of the header.
func FuzzClientAddr(f *testing.F) {
	for _, seed := range [][2]string{
		{"203.0.113.9", "https"},
		{"198.51.100.7, 203.0.113.9, 10.2.2.2", "https,http"},
		{"junk, 10.3.3.3", ""},
		{"[2001:db8::1]:443, fe80::1%eth0", "HTTPS"},
		{"::ffff:1.2.3.4", "http"},
		{",,,", ","},
	} {
		f.Add(seed[0], seed[1])
	}
	p := auth.Proxies{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	f.Fuzz(func(t *testing.T, xff, proto string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "10.1.1.1:5000"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header.Set("X-Forwarded-Proto", proto)
		got := p.ClientAddr(r)
		a, err := netip.ParseAddr(got)
		if err != nil || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("X-Forwarded-For %q gave %q", xff, got)
		}
		_ = p.Secure(r)
	})
}
