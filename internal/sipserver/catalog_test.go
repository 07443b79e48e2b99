package sipserver

import (
	"testing"
	"time"
)

func TestMaintainQueuesEachDeviceOnce(t *testing.T) {
	now := time.Now()
	c := &catalogSync{Config: testConfig(), Devices: newRegistry(), Parent: fixedClock{at: now}}
	c.initialize()
	add := func(id string, catalogAt, subscribedUntil time.Time, refused bool) {
		c.Devices.getOrCreate(id, func(d *device) {
			d.registered, d.online, d.expiresAt = true, true, now.Add(time.Hour)
			d.catalogAt, d.subscribedUntil, d.subscribeRefused = catalogAt, subscribedUntil, refused
		})
	}
	add("34020000001320000001", time.Time{}, time.Time{}, false)          // just registered, queued below
	add("34020000001320000002", time.Time{}, time.Time{}, false)          // catalog query failed
	add("34020000001320000003", now, now.Add(time.Minute), false)         // subscription ends soon
	add("34020000001320000004", now, now.Add(time.Hour), false)           // all fresh
	add("34020000001320000005", now.Add(-2*time.Hour), time.Time{}, true) // refuses SUBSCRIBE, catalog old
	add("34020000001320000006", now.Add(-time.Minute), time.Time{}, true) // refuses SUBSCRIBE, catalog fresh
	c.enqueue("34020000001320000001")

	for range 3 { // repeated maintenance must not pile up work
		c.maintain()
	}
	want := map[string]catalogJob{
		"34020000001320000001": jobRefresh,
		"34020000001320000002": jobRefresh,
		"34020000001320000003": jobSubscribe,
		"34020000001320000005": jobRefresh,
	}
	if len(c.queue) != len(want) {
		t.Fatalf("queue %v, want %d entries", c.queue, len(want))
	}
	for id, job := range want {
		if c.queued[id] != job {
			t.Errorf("%s: job %d, want %d", id, c.queued[id], job)
		}
	}
	// A device being worked on is not queued again.
	id, _, _ := c.next()
	c.maintain()
	if _, again := c.queued[id]; again {
		t.Fatalf("%s queued again while busy", id)
	}
	c.done(id)
}

// fixedClock is a catalogParent whose clock stands still; maintenance calls
// nothing else of it (the embedded interface is nil).
type fixedClock struct {
	catalogParent
	at time.Time
}

func (f fixedClock) now() time.Time { return f.at }
