package vod

import (
	"container/list"
	"sync"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// maxLayouts and maxLayoutFragments bound the scans of closed segments
// kept: a few hours of a few dozen channels' playback (a 1-minute segment
// of 1 s fragments is some KiB; an hour-long one of short fragments
// hundreds).
const (
	maxLayouts         = 512
	maxLayoutFragments = 1 << 17
)

// layouts keeps the scans (segment.Fragments) of closed segments, which
// never change, by recording ID: an H.264 stretch that is not cached would
// otherwise read its whole segment again to find its fragments.
type layouts struct {
	mu        sync.Mutex
	m         map[int64]*list.Element
	lru       list.List // of layoutEntry, most recent at the front
	fragments int       // of the layouts kept
}

type layoutEntry struct {
	id int64
	l  segment.Layout
}

func (c *layouts) get(id int64) (segment.Layout, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return segment.Layout{}, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(layoutEntry).l, true
}

func (c *layouts) put(id int64, l segment.Layout) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int64]*list.Element{}
	}
	if e, ok := c.m[id]; ok {
		c.lru.MoveToFront(e)
		return
	}
	if len(l.Fragments) > maxLayoutFragments {
		return
	}
	c.m[id] = c.lru.PushFront(layoutEntry{id, l})
	c.fragments += len(l.Fragments)
	for c.lru.Len() > maxLayouts || c.fragments > maxLayoutFragments {
		old := c.lru.Remove(c.lru.Back()).(layoutEntry)
		delete(c.m, old.id)
		c.fragments -= len(old.l.Fragments)
	}
}
