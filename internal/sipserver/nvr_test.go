package sipserver

import (
	"context"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestLargeCatalog: an NVR or lower platform with 10,000 channels sends its
// catalog over UDP (two items per MESSAGE, each after the previous one's
// 200) and over TCP (20 per MESSAGE); every channel is stored. Over TCP the
// defaults hold: 200 messages a second from one address pass, so the
// answer takes about 15 s, three times the request timeout, which bounds
// only the gaps between pages. Over UDP the rate limit is raised (the
// 5,000 datagrams would take 30 s, the dropped ones retransmitted).
func TestLargeCatalog(t *testing.T) {
	const channels = 10000
	for _, tc := range []struct {
		transport, first string
		rateLimit        float64
	}{
		{"udp", "34020000001110000001", 1e5},
		{"tcp", "34020000001110000001", 0},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			cfg := testConfig()
			if tc.rateLimit > 0 {
				cfg.RateLimit, cfg.RateBurst = tc.rateLimit, int(tc.rateLimit)
			}
			h := startServer(t, openStore(t), cfg)
			sc := simConfig(1, channels, tc.transport, tc.first)
			sc.Keepalive = time.Minute
			start := time.Now()
			h.startSim(sc)
			// 5,000 round trips of a page and its 200 over loopback.
			testsupport.Eventually(t, 6*h.settle(), "every channel stored", func() bool {
				_, n, err := h.store.ListChannels(context.Background(), store.ChannelFilter{DeviceID: tc.first, Limit: 1})
				return err == nil && n == channels
			})
			t.Logf("%d channels over %s stored in %v", channels, tc.transport, time.Since(start).Round(time.Millisecond))
		})
	}
}
