package sipserver

import (
	"slices"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
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
	// A device being worked on is not queued again by maintenance; a new
	// registration meanwhile runs it again, but only once it is done.
	id, _, _ := c.next()
	c.maintain()
	if _, again := c.queued[id]; again {
		t.Fatalf("%s queued again while busy", id)
	}
	c.enqueue(id)
	if _, again := c.queued[id]; again {
		t.Fatalf("%s queued while busy", id)
	}
	c.done(id)
	if c.queued[id] != jobRefresh {
		t.Fatalf("%s not queued after its job ended", id)
	}
}

// fixedClock is a catalogParent whose clock stands still; maintenance calls
// nothing else of it (the embedded interface is nil).
type fixedClock struct {
	catalogParent
	at time.Time
}

func (f fixedClock) now() time.Time { return f.at }

// TestStatusBeforeCatalog: a status NOTIFY for a channel the catalog has
// not stored yet must not make the catalog's own status look like a repeat
// (the NOTIFY's change found no row and changed nothing).
func TestStatusBeforeCatalog(t *testing.T) {
	const dev, ch = "34020000001320000001", "34020000001310000001"
	now := time.Now()
	w := &stateWriter{}
	w.initialize()
	c := &catalogSync{Config: testConfig(), Devices: newRegistry(), Writer: w, Parent: fixedClock{at: now}}
	c.initialize()
	c.Devices.getOrCreate(dev, func(d *device) { d.registered, d.online = true, true })
	on := []store.StatusChange{{DeviceID: dev, ChannelID: ch, Online: true, Cause: "notify_on", At: now}}
	queued := func() int {
		w.mu.Lock()
		defer w.mu.Unlock()
		n := len(w.changes)
		w.changes = nil
		return n
	}
	for _, step := range []struct {
		name   string
		stored bool
		want   int
	}{
		{"status NOTIFY of an unseen channel", false, 1},
		{"the catalog's status, once stored", true, 1},
		{"the same status again", true, 0},
		{"a status NOTIFY repeating it", false, 0},
	} {
		c.queueStatusOf(dev, slices.Clone(on), nil, step.stored)
		if got := queued(); got != step.want {
			t.Fatalf("%s: %d changes queued, want %d", step.name, got, step.want)
		}
	}
}
