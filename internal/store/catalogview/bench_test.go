package catalogview_test

import (
	"context"
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/pgtest"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/scopebench"
	"github.com/sharpeyes/sharpeyes/internal/store/storetest"
)

// BenchmarkSlices reads the catalog as each operator of the scopebench
// data set (100,000 channels, 2,000 departments, 5,000 grants) through
// catalogview, the way the console's routes do: the first page of the
// channel list with its total (plain, searching, online only), the device
// list, the whole slice (AllChannels, AllDevices: what the tree reads),
// and the play check (FindChannel in the live right, and the refusal
// of a channel outside the slice, which looks twice like grantedChannel).
// Goals (issue 13): lists p99 ≤ 50 ms, the play check ≤ 2 ms.
func BenchmarkSlices(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b, pgtest.NewDB(b), 4)
	ops, err := scopebench.Build(ctx, st.Pool)
	if err != nil {
		b.Fatal(err)
	}
	view := catalogview.New(st)
	online := true
	for _, op := range ops {
		any := view.In(catalogview.UserScope(op.ID, "", scopebench.At))
		live := view.In(catalogview.UserScope(op.ID, catalogview.RightLive, scopebench.At))
		_, size, err := any.ListChannels(ctx, store.ChannelFilter{Limit: 1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := live.FindChannel(ctx, op.Outside); !errors.Is(err, store.ErrNotFound) {
			b.Fatalf("%s sees %s: %v", op.Name, op.Outside, err)
		}
		lists := []struct {
			name string
			f    store.ChannelFilter
		}{
			{"channels", store.ChannelFilter{}},
			{"search", store.ChannelFilter{Text: "路口"}},
			{"online", store.ChannelFilter{Online: &online}},
		}
		for _, l := range lists {
			b.Run(op.Name+"/"+l.name, func(b *testing.B) {
				scopebench.Latencies(b, size, func() error {
					_, _, err := any.ListChannels(ctx, l.f)
					return err
				})
			})
		}
		b.Run(op.Name+"/devices", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				_, _, err := any.ListDevices(ctx, store.DeviceFilter{})
				return err
			})
		})
		b.Run(op.Name+"/all-channels", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				_, err := any.AllChannels(ctx, "")
				return err
			})
		})
		b.Run(op.Name+"/tree-channels", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				return any.EachTreeChannel(ctx, func(catalogview.TreeChannel) error { return nil })
			})
		})
		b.Run(op.Name+"/tree", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				return any.EachTree(ctx, func(catalogview.TreeChannel) error { return nil },
					func(catalogview.TreeDevice) error { return nil })
			})
		})
		b.Run(op.Name+"/all-devices", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				_, err := any.AllDevices(ctx)
				return err
			})
		})
		b.Run(op.Name+"/play", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				_, err := live.FindChannel(ctx, op.Channel)
				return err
			})
		})
		b.Run(op.Name+"/refused", func(b *testing.B) {
			scopebench.Latencies(b, size, func() error {
				if _, err := live.FindChannel(ctx, op.Outside); !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if _, err := any.FindChannel(ctx, op.Outside); !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return nil
			})
		})
	}
}
