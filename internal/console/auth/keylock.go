package auth

import (
	"context"
	"fmt"
	"sync"
)

// keyLocks serializes work per key: the password checks of one client
// address (or of one user's password changes) run one after the other,
// from reading the failure counters to counting the failure, so that each
// sees the failures of the one before. Work on other keys runs meanwhile.
// An entry lives while someone holds or waits for its key.
type keyLocks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

type keyLock struct {
	// held has a token in it while the key is held.
	held chan struct{}
	// refs counts the holder and the waiters.
	refs int
}

// lock waits for key (or ctx: ErrBusy) and returns its unlock.
func (k *keyLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyLock{held: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.refs++
	k.mu.Unlock()
	select {
	case l.held <- struct{}{}:
		return func() {
			<-l.held
			k.put(key, l)
		}, nil
	case <-ctx.Done():
		k.put(key, l)
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// put drops a reference to l, and l itself with the last one.
func (k *keyLocks) put(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l.refs--; l.refs == 0 {
		delete(k.locks, key)
	}
}
