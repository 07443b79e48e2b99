package snapshot_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/snapshot"
)

func TestValues(t *testing.T) {
	cases := []struct {
		name string
		m    map[string]int
		want []int
	}{
		{"nil", nil, nil},
		{"empty", map[string]int{}, nil},
		{"some", map[string]int{"a": 1, "b": 2, "c": 3}, []int{1, 2, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			got := snapshot.Values(&mu, c.m)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Fatalf("Values = %v, want %v", got, c.want)
			}
			if !mu.TryLock() {
				t.Fatal("the mutex is still held")
			}
		})
	}
}
