package sipserver

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestNATRebinding: a device whose NAT gives it a new source port is
// refused (403) from there, registers again from the new port, and keeps
// working — queries reach it at the new address — with no false offline.
// A keepalive alone never moved it.
func TestNATRebinding(t *testing.T) {
	h := startServer(t, openStore(t), testConfig())
	for _, tc := range []struct {
		transport, id string
	}{
		{"udp", "34020000001320001001"},
		{"tcp", "34020000001320001002"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			sim := h.startSim(simConfig(1, 2, tc.transport, tc.id))
			testsupport.Eventually(t, h.settle(), "registered and catalogued", func() bool {
				return h.device(tc.id).Online && len(h.channels(tc.id)) == 2
			})
			before, _ := sim.LocalAddr(tc.id)
			if got := h.srv.devices.get(tc.id).snapshot().RemoteAddr; got != before {
				t.Fatalf("registered at %s, device at %s", got, before)
			}
			refused := testutil.ToFloat64(h.srv.metrics.foreignSource.WithLabelValues("MESSAGE"))
			if err := sim.Rebind(tc.id); err != nil {
				t.Fatal(err)
			}
			after, _ := sim.LocalAddr(tc.id)
			if after == before {
				t.Fatalf("rebind kept %s", after)
			}
			testsupport.Eventually(t, h.settle(), "registration from the new port", func() bool {
				return h.srv.devices.get(tc.id).snapshot().RemoteAddr == after
			})
			// gbsim counts the registration once its 200 arrived.
			testsupport.Eventually(t, h.settle(), "gbsim counted its registration again", func() bool { return sim.Stats().Reregistrations >= 1 })
			// What made it register again was a refusal, not a move.
			if got := testutil.ToFloat64(h.srv.metrics.foreignSource.WithLabelValues("MESSAGE")); got <= refused {
				t.Fatalf("no request from the new port was refused (foreign_source %v → %v)", refused, got)
			}
			// A query reaches the device at its new address.
			ctx, cancel := context.WithTimeout(context.Background(), 3*h.cfg.RequestTimeout.Std())
			defer cancel()
			if _, err := h.srv.QueryDeviceInfo(ctx, tc.id); err != nil {
				t.Fatalf("DeviceInfo after the rebinding: %v", err)
			}
			testsupport.Eventually(t, h.settle(), "stored address follows the registration", func() bool { return h.device(tc.id).RemoteAddr == after })
			if got := h.deviceLog(tc.id); strings.Join(got, ",") != "+register" {
				t.Fatalf("status log %v: a false offline", got)
			}
			if !h.srv.devices.get(tc.id).snapshot().Online {
				t.Fatal("device offline after the rebinding")
			}
		})
	}
}
