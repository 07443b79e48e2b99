package gbsim

import (
	"errors"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// TestRebindReregisters moves a device to a new source port against a
// platform that accepts a device's requests only from its registered
// source: the next request (a keepalive, or an alarm MESSAGE) is refused
// with 403, the device registers again at once from the new port, and its
// requests are accepted from there.
func TestRebindReregisters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network string
		alarm   bool // the refused request is an alarm, not a keepalive
	}{
		{"udp-keepalive", "udp", false},
		{"tcp-keepalive", "tcp", false},
		{"udp-alarm", "udp", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlatform(t, tc.network)
			p.checkSource.Store(true)
			s, _ := startSim(t, p, func(c *Config) {
				c.Keepalive = 200 * time.Millisecond
				if tc.alarm {
					c.Faults.NoKeepalive = 1 // only alarms are sent
					c.Faults.AlarmInterval = 200 * time.Millisecond
				}
			})
			isKind := func(m manscdp.Message) bool {
				if tc.alarm {
					_, ok := m.(*manscdp.AlarmNotify)
					return ok
				}
				_, ok := m.(*manscdp.Keepalive)
				return ok
			}
			first := p.waitReg(t, false)
			dev := first.deviceID
			p.waitAccepted(t, first.source, isKind)

			if err := s.Rebind(dev); err != nil {
				t.Fatal(err)
			}
			moved, ok := s.LocalAddr(dev)
			if !ok || moved == first.source {
				t.Fatalf("after Rebind the device is at %q (ok %v), registered from %s", moved, ok, first.source)
			}
			refused := p.waitRefusal(t)
			if refused.source != moved || !isKind(refused.msg) {
				t.Fatalf("refused %T from %s, want from %s", refused.msg, refused.source, moved)
			}
			again := p.waitReg(t, false)
			if again.deviceID != dev || again.source != moved {
				t.Fatalf("registered again from %s, want %s", again.source, moved)
			}
			p.waitAccepted(t, moved, isKind)
			if st := s.Stats(); st.Rebinds != 1 || st.Reregistrations < 1 || st.Registered != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestNATRebindFault runs the -fault-nat-rebind fault: the device keeps
// moving to new ports and registers again from each.
func TestNATRebindFault(t *testing.T) {
	p := newPlatform(t, "udp")
	p.checkSource.Store(true)
	s, _ := startSim(t, p, func(c *Config) {
		c.Keepalive = 100 * time.Millisecond
		c.Faults.NATRebind = 300 * time.Millisecond
	})
	seen := map[string]bool{p.waitReg(t, false).source: true}
	for len(seen) < 3 {
		seen[p.waitReg(t, false).source] = true
	}
	testsupport.Eventually(t, eventTimeout, "two rebinds and re-registrations counted", func() bool {
		st := s.Stats()
		return st.Rebinds >= 2 && st.Reregistrations >= 2
	})
}

func TestRebindErrors(t *testing.T) {
	p := newPlatform(t, "udp")
	s := newSim(t, p, nil)
	if err := s.Rebind("34020000001320000099"); !errors.Is(err, ErrUnknownDevice) {
		t.Fatalf("unknown device: %v", err)
	}
	if err := s.Rebind("34020000001320000001"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("device not started: %v", err)
	}
}

// waitAccepted waits for a MESSAGE the platform accepted from source for
// which keep returns true.
func (p *platform) waitAccepted(t *testing.T, source string, keep func(manscdp.Message) bool) {
	t.Helper()
	timeout := time.After(eventTimeout)
	for {
		select {
		case m := <-p.accepted:
			if m.source == source && keep(m.msg) {
				return
			}
		case <-timeout:
			t.Fatalf("no message accepted from %s", source)
		}
	}
}

// waitRefusal returns the next request refused for its source.
func (p *platform) waitRefusal(t *testing.T) sourced {
	t.Helper()
	select {
	case r := <-p.refusals:
		return r
	case <-time.After(eventTimeout):
		t.Fatal("no request refused")
		return sourced{}
	}
}
