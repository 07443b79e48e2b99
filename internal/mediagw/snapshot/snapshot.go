// Package snapshot copies the values of a map a mutex guards, so that the
// caller can read each one (take its own lock, compute its statistics)
// after the mutex is released: the registries of mediagw (the hub's
// streams, the WHEP sessions, the HLS muxers, the transcodes) list
// themselves this way.
package snapshot

import (
	"maps"
	"slices"
	"sync"
)

// Values returns m's values, in no particular order, read under mu.
func Values[K comparable, V any](mu sync.Locker, m map[K]V) []V {
	mu.Lock()
	defer mu.Unlock()
	return slices.Collect(maps.Values(m))
}
