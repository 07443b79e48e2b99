package ingest

import (
	"errors"
	"testing"
)

func TestPortAllocator(t *testing.T) {
	a := &PortAllocator{Min: 100, Max: 102}
	var got []int
	for range 3 {
		p, err := a.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	if got[0] != 100 || got[1] != 101 || got[2] != 102 {
		t.Fatalf("ports %v", got)
	}
	if _, err := a.Allocate(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("exhausted: %v", err)
	}
	a.Release(101)
	if p, err := a.Allocate(); err != nil || p != 101 {
		t.Fatalf("after release: %d, %v", p, err)
	}
	// Round robin: a released port is handed out after the others.
	a.Release(100)
	a.Release(102)
	if p, _ := a.Allocate(); p != 102 {
		t.Fatalf("round robin gave %d, want 102", p)
	}
	var d PortAllocator
	if p, err := d.Allocate(); err != nil || p != DefaultMinPort {
		t.Fatalf("default range: %d, %v", p, err)
	}
}
