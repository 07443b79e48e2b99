package vod

import (
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// TestLayouts: the least recently used scans go first, by count and by
// fragments; one larger than the whole bound is not kept.
func TestLayouts(t *testing.T) {
	var c layouts
	half := segment.Layout{Fragments: make([]segment.Fragment, maxLayoutFragments/2)}
	c.put(1, half)
	c.put(2, half)
	if _, ok := c.get(1); !ok { // 1 is now the most recent
		t.Fatal("1 not kept")
	}
	c.put(3, half)
	if _, ok := c.get(2); ok {
		t.Error("2, the least recently used, kept past the fragment bound")
	}
	if _, ok := c.get(1); !ok {
		t.Error("1 dropped")
	}
	c.put(4, segment.Layout{Fragments: make([]segment.Fragment, maxLayoutFragments+1)})
	if _, ok := c.get(4); ok {
		t.Error("a scan larger than the bound kept")
	}
	for id := int64(10); id < 10+maxLayouts+1; id++ {
		c.put(id, segment.Layout{})
	}
	if len(c.m) != maxLayouts || c.lru.Len() != maxLayouts {
		t.Errorf("%d kept, want %d", len(c.m), maxLayouts)
	}
}
