package catalogview_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

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
// list, and the play check (FindChannel in the live right, and the refusal
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
				latencies(b, size, func() error {
					_, _, err := any.ListChannels(ctx, l.f)
					return err
				})
			})
		}
		b.Run(op.Name+"/devices", func(b *testing.B) {
			latencies(b, size, func() error {
				_, _, err := any.ListDevices(ctx, store.DeviceFilter{})
				return err
			})
		})
		b.Run(op.Name+"/play", func(b *testing.B) {
			latencies(b, size, func() error {
				_, err := live.FindChannel(ctx, op.Channel)
				return err
			})
		})
		b.Run(op.Name+"/refused", func(b *testing.B) {
			latencies(b, size, func() error {
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

// latencies runs f b.N times and reports the median and 99th percentile
// of its durations, and the size of the slice it reads (channels).
func latencies(b *testing.B, size int, f func() error) {
	var d []time.Duration
	for b.Loop() {
		start := time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	ms := func(q float64) float64 {
		return float64(d[int(q*float64(len(d)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
	b.ReportMetric(float64(size), "channels")
}
