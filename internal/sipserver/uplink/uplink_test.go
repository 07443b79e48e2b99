package uplink

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/internal/digestauth"
	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// superior is a scripted superior platform: it challenges every REGISTER
// without credentials, checks the password of those with, and answers
// keepalives with keepaliveCode (0: no answer).
type superior struct {
	mu            sync.Mutex
	password      string
	keepaliveCode int
	registers     []int // Expires of the accepted REGISTERs
	keepalives    int
}

func (s *superior) Do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.Method {
	case sip.REGISTER:
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", digestauth.Challenge("3402000000", "nonce", false)))
			return res, nil
		}
		c, err := digestauth.ParseAuthorization(h.Value())
		if err != nil || !c.Verify("REGISTER", s.password) {
			return sip.NewResponseFromRequest(req, 403, "Forbidden", nil), nil
		}
		exp := req.GetHeader("Expires").Value()
		n := 0
		for _, r := range exp {
			n = n*10 + int(r-'0')
		}
		s.registers = append(s.registers, n)
		return sip.NewResponseFromRequest(req, 200, "OK", nil), nil
	case sip.MESSAGE:
		if !strings.Contains(string(req.Body()), "<CmdType>Keepalive</CmdType>") {
			return nil, errors.New("unexpected MESSAGE")
		}
		s.keepalives++
		if s.keepaliveCode == 0 {
			return nil, context.DeadlineExceeded
		}
		return sip.NewResponseFromRequest(req, s.keepaliveCode, "", nil), nil
	}
	return nil, errors.New("unexpected " + req.Method.String())
}

func (s *superior) set(f func(*superior)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *superior) get() (registers []int, keepalives int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.registers...), s.keepalives
}

func newLink(sup *superior, reports chan<- Status) *Link {
	return &Link{
		Target: Target{
			ServerID: "34020000002000000009", Domain: "3402000000", Addr: "127.0.0.1:5061", Transport: "udp",
			Password: "pw", Charset: "GB2312", GBVersion: "2016", Expires: time.Hour,
			KeepaliveInterval: 10 * time.Millisecond, KeepaliveCount: 3,
		},
		LocalID: "34020000002000000001", LocalDomain: "3402000000", ContactHost: "127.0.0.1", ContactPort: 5060,
		Client: sup, RequestTimeout: time.Second, RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond,
		Report: func(st Status) { reports <- st },
	}
}

// await returns the first report satisfying ok.
func await(t *testing.T, reports <-chan Status, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-reports:
			if ok(st) {
				return st
			}
		case <-deadline:
			t.Fatalf("no report: %s", what)
		}
	}
}

// TestLinkLifecycle: registers with digest, keeps alive, registers again
// when the superior forgets us (404 to a keepalive) or stops answering
// (keepalive_count unanswered), and unregisters on Close.
func TestLinkLifecycle(t *testing.T) {
	sup := &superior{password: "pw", keepaliveCode: 200}
	reports := make(chan Status, 1024)
	l := newLink(sup, reports)
	if err := l.Initialize(); err != nil {
		t.Fatal(err)
	}
	await(t, reports, "registered", func(s Status) bool { return s.State == StateRegistered })
	await(t, reports, "keepalive answered", func(s Status) bool { return !s.LastKeepalive.IsZero() })

	sup.set(func(s *superior) { s.keepaliveCode = 404 })
	st := await(t, reports, "lost on 404", func(s Status) bool { return s.State == StateFailing })
	if !strings.Contains(st.LastError, "404") {
		t.Fatalf("last error %q", st.LastError)
	}
	sup.set(func(s *superior) { s.keepaliveCode = 0 })
	await(t, reports, "registered again", func(s Status) bool { return s.State == StateRegistered })
	st = await(t, reports, "lost on silence", func(s Status) bool { return s.State == StateFailing })
	if !strings.Contains(st.LastError, "3 in a row") {
		t.Fatalf("last error %q", st.LastError)
	}
	sup.set(func(s *superior) { s.keepaliveCode = 200 })
	await(t, reports, "registered once more", func(s Status) bool { return s.State == StateRegistered })
	l.Close()
	regs, _ := sup.get()
	if len(regs) < 4 || regs[0] != 3600 || regs[len(regs)-1] != 0 {
		t.Fatalf("REGISTER expiries %v: want 3600 first and the 0 of Close last", regs)
	}
}

// TestLinkWrongPassword: a refused password is failing with the reason,
// retried with back-off, and Close sends no unregistration.
func TestLinkWrongPassword(t *testing.T) {
	sup := &superior{password: "other"}
	reports := make(chan Status, 1024)
	l := newLink(sup, reports)
	if err := l.Initialize(); err != nil {
		t.Fatal(err)
	}
	st := await(t, reports, "failing", func(s Status) bool { return s.State == StateFailing })
	if !strings.Contains(st.LastError, "403") {
		t.Fatalf("last error %q", st.LastError)
	}
	await(t, reports, "retried", func(s Status) bool { return s.State == StateFailing })
	l.Close()
	if regs, _ := sup.get(); len(regs) != 0 {
		t.Fatalf("accepted REGISTERs %v", regs)
	}
}

func TestLinkConfig(t *testing.T) {
	for name, mod := range map[string]func(*Link){
		"short expiry": func(l *Link) { l.Target.Expires = time.Second },
		"bad address":  func(l *Link) { l.Target.Addr = "nohost" },
		"no keepalive": func(l *Link) { l.Target.KeepaliveCount = 0 },
	} {
		l := newLink(&superior{}, make(chan Status, 1))
		mod(l)
		if err := l.Initialize(); err == nil {
			l.Close()
			t.Errorf("%s: accepted", name)
		}
	}
}
