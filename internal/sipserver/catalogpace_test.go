package sipserver

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// TestMuteDevicesDoNotStallCatalogs registers more devices that answer no
// query than the old worker pool had workers, then one that answers: its
// catalog must be stored while every query to the mute ones is still
// waiting (the request timeout is long), and its DeviceInfo, Catalog and
// SUBSCRIBE must not wait for one another.
func TestMuteDevicesDoNotStallCatalogs(t *testing.T) {
	cfg := testConfig()
	cfg.RequestTimeout = config.Duration(time.Minute)
	cfg.RateLimit, cfg.RateBurst = 10000, 10000
	cfg.QueryRate = 1000
	h := startServer(t, openStore(t), cfg)

	const mute = 64
	sc := simConfig(mute, 1, "udp", "34020000001320000001")
	sc.Faults.NoAnswer = mute
	sc.RegisterRate = 1000
	h.startSim(sc)
	testsupport.Eventually(t, h.settle(), "mute devices registered and their queries started", func() bool {
		_, registered, _ := h.srv.devices.counts()
		return registered >= mute && h.srv.catalog.queuedCount() == 0 &&
			h.srv.catalog.running.Load() == mute
	})

	id := "34020000001320000901"
	sc = simConfig(1, 4, "udp", id)
	sc.Faults.NoAnswer = 0
	h.startSim(sc)
	timeouts := func() float64 {
		return testutil.ToFloat64(h.srv.metrics.queries.WithLabelValues(manscdp.CmdDeviceInfo, "timeout")) +
			testutil.ToFloat64(h.srv.metrics.queries.WithLabelValues(manscdp.CmdCatalog, "timeout"))
	}
	testsupport.Eventually(t, h.settle(), "catalog of the answering device stored", func() bool { return len(h.channels(id)) == 4 })
	if n := timeouts(); n != 0 {
		t.Fatalf("the answering device's catalog was stored only after %v queries to mute devices timed out", n)
	}
	testsupport.Eventually(t, h.settle(), "device info and subscription", func() bool {
		return h.device(id).Manufacturer != "" && h.srv.devices.get(id).snapshot().SubscribedUntil.After(time.Now())
	})
	// The answering device's job ends (its last answer, ConfigDownload, may
	// come after the others); the mute ones still wait.
	testsupport.Eventually(t, h.settle(), "only the mute devices' jobs running", func() bool {
		return h.srv.catalog.running.Load() == mute && timeouts() == 0
	})
}

// TestCatalogScale measures how long answering devices wait for their
// catalog while half of all devices answer no query: SIPSERVER_SCALE
// devices (4 channels each, gbsim at SIPSERVER_REGISTER_RATE REGISTERs per
// second, default 500) register over UDP, the first half mute. It reports,
// per answering device, the time from its registration to its catalog
// being stored (devices.last_catalog_at − registered_at). Run:
//
//	SIPSERVER_SCALE=10000 go test -run CatalogScale -v ./internal/sipserver/
func TestCatalogScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("SIPSERVER_SCALE"))
	if n == 0 {
		t.Skip("set SIPSERVER_SCALE=<devices> to run")
	}
	regRate := 500.0
	if r, err := strconv.ParseFloat(os.Getenv("SIPSERVER_REGISTER_RATE"), 64); err == nil && r > 0 {
		regRate = r
	}
	// The defaults, but for the rate limit: every simulated device shares 127.0.0.1.
	cfg := testConfig()
	cfg.RequestTimeout = config.Duration(10 * time.Second)
	cfg.FlushInterval = config.Duration(200 * time.Millisecond)
	cfg.RateLimit, cfg.RateBurst = 1e6, 1e6
	st := sipdb.New(storetest.Open(t, pgtest.NewDB(t), 20))
	h := startServer(t, st, cfg)

	sc := simConfig(n, 4, "udp", "34020000001320000001")
	sc.Faults.NoAnswer = n / 2
	sc.RegisterRate = regRate
	sc.Keepalive = time.Minute
	start := time.Now()
	h.startSimLog(sc, io.Discard)
	answering := n - n/2
	ctx := context.Background()
	stored := func() int {
		var k int
		if err := h.store.Pool.QueryRow(ctx, `SELECT count(*) FROM devices WHERE last_catalog_at IS NOT NULL`).Scan(&k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	deadline := time.Duration(float64(n)/regRate*float64(time.Second)) + 2*time.Minute
	testsupport.Eventually(t, deadline, "every answering device's catalog stored", func() bool { return stored() >= answering })
	took := time.Since(start)

	rows, err := h.store.Pool.Query(ctx, `SELECT extract(epoch FROM last_catalog_at - registered_at) FROM devices
		WHERE last_catalog_at IS NOT NULL ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	waits, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		t.Fatal(err)
	}
	var channels int
	if err := h.store.Pool.QueryRow(ctx, `SELECT count(*) FROM channels`).Scan(&channels); err != nil {
		t.Fatal(err)
	}
	pick := func(q float64) float64 { return waits[min(len(waits)-1, int(q*float64(len(waits))))] }
	t.Logf("%d devices (%d mute) at %.0f REGISTERs/s: %d catalogs (%d channels) stored in %v", n, n/2, regRate,
		len(waits), channels, took.Round(time.Millisecond))
	t.Logf("registration → catalog stored: p50 %.3f s, p99 %.3f s, max %.3f s", pick(0.5), pick(0.99), waits[len(waits)-1])
	if len(waits) != answering || channels != 4*answering {
		t.Fatalf("%d catalogs and %d channels stored, want %d and %d", len(waits), channels, answering, 4*answering)
	}
}
