package ingest

import (
	"fmt"
	"sync"
)

// Default port range of a PortAllocator.
const (
	DefaultMinPort = 30000
	DefaultMaxPort = 30999
)

// PortAllocator hands out the ports of a range, round robin so that a port
// just released (whose late packets may still arrive) is reused last.
// It is safe for concurrent use.
type PortAllocator struct {
	// Min and Max bound the range, both included; 0 means DefaultMinPort
	// and DefaultMaxPort.
	Min, Max int

	mu   sync.Mutex
	used map[int]struct{}
	next int
}

func (a *PortAllocator) bounds() (lo, hi int) {
	lo, hi = a.Min, a.Max
	if lo <= 0 {
		lo = DefaultMinPort
	}
	if hi <= 0 {
		hi = DefaultMaxPort
	}
	return lo, hi
}

// Allocate reserves a free port, or returns ErrNoPorts.
func (a *PortAllocator) Allocate() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	lo, hi := a.bounds()
	if a.used == nil {
		a.used = make(map[int]struct{})
	}
	if a.next < lo || a.next > hi {
		a.next = lo
	}
	for range hi - lo + 1 {
		p := a.next
		a.next++
		if a.next > hi {
			a.next = lo
		}
		if _, ok := a.used[p]; !ok {
			a.used[p] = struct{}{}
			return p, nil
		}
	}
	return 0, fmt.Errorf("allocate port in %d-%d: %w", lo, hi, ErrNoPorts)
}

// Release returns a port to the range.
func (a *PortAllocator) Release(port int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.used, port)
}

// bind allocates ports until listen succeeds on one: ports of the range may
// be taken by other processes. The port stays reserved until Release.
func bind[T any](a *PortAllocator, listen func(port int) (T, error)) (T, int, error) {
	lo, hi := a.bounds()
	var zero T
	var lastErr error
	for range hi - lo + 1 {
		port, err := a.Allocate()
		if err != nil {
			if lastErr != nil {
				err = fmt.Errorf("%w (last bind error: %w)", err, lastErr)
			}
			return zero, 0, err
		}
		l, err := listen(port)
		if err == nil {
			return l, port, nil
		}
		a.Release(port)
		lastErr = err
	}
	return zero, 0, fmt.Errorf("bind a port in %d-%d: %w (last error: %w)", lo, hi, ErrNoPorts, lastErr)
}
