package consoledb_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
)

// TestProbesAndFaults: findings are kept in order, append-only; each
// fault opens an interval at the probe that first shows it and the first
// probe without it closes it; a late finding (older than the channel's
// latest) leaves the intervals alone; the thumbnail is the latest.
func TestProbesAndFaults(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	const ch = "34020000001310000001"
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	add := func(at time.Duration, thumb string, faults ...string) {
		t.Helper()
		p := consoledb.Probe{
			ChannelID: ch, At: t0.Add(at), Reachable: !slices.Contains(faults, "unreachable"), Faults: faults,
			Trigger: consoledb.ProbeSchedule,
		}
		var jpeg []byte
		if thumb != "" {
			jpeg = []byte(thumb)
		}
		if _, err := db.AddProbe(ctx, p, jpeg); err != nil {
			t.Fatal(err)
		}
	}
	add(0, "a", "black")
	add(time.Hour, "b", "black", "frozen")
	add(2*time.Hour, "c")
	add(90*time.Minute, "late", "dark") // late: no interval, no thumbnail
	add(3*time.Hour, "", "unreachable")

	got, err := db.FaultIntervals(ctx, ch, t0.Add(-time.Hour), t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	type iv struct {
		fault      string
		from, till time.Duration // till -1: open
	}
	var have []iv
	for _, f := range got {
		till := time.Duration(-1)
		if f.ClosedAt != nil {
			till = f.ClosedAt.Sub(t0)
		}
		have = append(have, iv{f.Fault, f.OpenedAt.Sub(t0), till})
	}
	want := []iv{{"black", 0, 2 * time.Hour}, {"frozen", time.Hour, 2 * time.Hour}, {"unreachable", 3 * time.Hour, -1}}
	if !slices.Equal(have, want) {
		t.Fatalf("intervals %v, want %v", have, want)
	}
	if in, _ := db.FaultIntervals(ctx, ch, t0.Add(150*time.Minute), t0.Add(170*time.Minute)); len(in) != 0 {
		t.Errorf("intervals between the faults: %v", in)
	}

	probes, err := db.Probes(ctx, ch, t0, t0.Add(24*time.Hour))
	if err != nil || len(probes) != 5 || !probes[2].At.Equal(t0.Add(90*time.Minute)) {
		t.Fatalf("probes %v %v", len(probes), err)
	}
	for _, q := range []string{`UPDATE probes SET error = 'x'`, `DELETE FROM probes`, `TRUNCATE probes CASCADE`} {
		if _, err := db.Pool.Exec(ctx, q); err == nil {
			t.Errorf("%s: allowed", q)
		}
	}
	jpeg, at, err := db.Thumbnail(ctx, ch)
	if err != nil || string(jpeg) != "c" || !at.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("thumbnail %q at %v: %v", jpeg, at, err)
	}
}
