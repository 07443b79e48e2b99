package auth

import (
	"context"
	"errors"
	"testing"
)

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
	// A waiter gets the key once it is unlocked.
	got := make(chan func(), 1)
	go func() {
		unlock, err := k.lock(context.Background(), "a")
		if err != nil {
			t.Error(err)
		}
		got <- unlock
	}()
	unlockA()
	(<-got)()
	if n := k.size(); n != 0 {
		t.Errorf("%d keys left after every unlock, want none", n)
	}
}
