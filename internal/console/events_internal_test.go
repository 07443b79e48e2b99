package console

import (
	"log/slog"
	"strconv"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/store"
)

func TestEventsDropSlowSubscriber(t *testing.T) {
	e := &Events{Buffer: 4, Log: slog.New(slog.DiscardHandler), subs: map[*subscription]struct{}{}}
	slow := e.subscribe()
	fast := e.subscribe()
	var got []Event
	for i := range 10 {
		e.publish(store.ChannelStatus, `{"n":`+strconv.Itoa(i)+`}`)
		// The fast subscriber keeps up; the slow one never reads.
		for len(fast.ch) > 0 {
			got = append(got, <-fast.ch)
		}
	}
	if len(got) != 10 || got[9].Name != EventStatus || got[9].Data != `{"n":9}` {
		t.Fatalf("fast subscriber got %+v", got)
	}
	// The slow one got its buffer's worth, then its queue was closed.
	n := 0
	for range slow.ch {
		n++
	}
	if n != 4 || e.Clients() != 1 {
		t.Fatalf("slow subscriber: %d queued, %d clients", n, e.Clients())
	}
	e.unsubscribe(slow) // already dropped: must not close twice
	e.publish("unknown_channel", "{}")
	if len(fast.ch) != 0 {
		t.Error("an unknown channel's notification was delivered")
	}
	e.publish(store.ChannelSession, `{"id":"s1"}`)
	if ev := <-fast.ch; ev.Name != EventSession {
		t.Errorf("session event named %q", ev.Name)
	}
	e.publish(store.ChannelCatalog, `{}`)
	if ev := <-fast.ch; ev.Name != EventCatalog {
		t.Errorf("catalog event named %q", ev.Name)
	}
	e.Close()
	if _, ok := <-fast.ch; ok {
		t.Error("Close left a subscriber open")
	}
	if late := e.subscribe(); late != nil {
		if _, ok := <-late.ch; ok {
			t.Error("subscribe after Close returned an open queue")
		}
	}
}
