package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// size is the number of keys held or waited for.
func (k *keyLocks) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.locks)
}

// refs is the number of parties holding or waiting for key.
func (k *keyLocks) refs(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	if l := k.locks[key]; l != nil {
		return l.refs
	}
	return 0
}

func TestKeyLocks(t *testing.T) {
	var k keyLocks
	unlockA, err := k.lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	// Another key is free meanwhile.
	unlockB, err := k.lock(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	unlockB()
	// The same key is not: a waiter gives up with its context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := k.lock(ctx, "a"); !errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("lock of a held key with a cancelled context: %v, want ErrBusy", err)
	}
	// A waiter gets the key once it is unlocked, and not before.
	type result struct {
		unlock func()
		err    error
	}
	got := make(chan result, 1)
	go func() {
		unlock, err := k.lock(context.Background(), "a")
		got <- result{unlock, err}
	}()
	// Counted under the map's lock right before it waits: from then on it
	// is waiting for the key, never past it while unlockA is not called.
	testsupport.Eventually(t, Patience(t), "the second party waits for the key", func() bool { return k.refs("a") == 2 })
	select {
	case r := <-got:
		t.Fatalf("the waiter got a held key (err %v)", r.err)
	default:
	}
	unlockA()
	r := <-got
	if r.err != nil {
		t.Fatalf("the waiter: %v", r.err)
	}
	r.unlock()
	if n := k.size(); n != 0 {
		t.Errorf("%d keys left after every unlock, want none", n)
	}
}
