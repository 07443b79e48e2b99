package vod

import (
	"container/list"
	"sync"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// maxLayouts bounds the scans of closed segments kept: a few hours of a
// few dozen channels' H.265 playback, some KiB each.
const maxLayouts = 512

// layouts keeps the scans (segment.Fragments) of closed segments, which
// never change, by recording ID: an H.264 stretch that is not cached would
// otherwise read its whole segment again to find its fragments.
type layouts struct {
	mu  sync.Mutex
	m   map[int64]*list.Element
	lru list.List // of layoutEntry, most recent at the front
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
	c.m[id] = c.lru.PushFront(layoutEntry{id, l})
	for c.lru.Len() > maxLayouts {
		delete(c.m, c.lru.Remove(c.lru.Back()).(layoutEntry).id)
	}
}
