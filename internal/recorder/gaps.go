package recorder

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
)

// index is the recordings index as every part of the recorder writes it
// (capture, repair, scheduler): each gap any of them opens is logged and
// counted here, once — a gap extended (the same hole going on) is logged
// but not counted again.
type index struct {
	*recordingdb.DB
	gaps *prometheus.CounterVec
	log  *slog.Logger
}

// newGapCounter creates recorder_gaps_total and registers it in reg (nil:
// not registered, for tests).
func newGapCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "recorder_gaps_total",
		Help: "Gaps opened in channels' recordings, by cause.",
	}, []string{"cause"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return c
}

// OpenGap implements capture.Index, repair.Index and scheduler.DB.
func (x index) OpenGap(ctx context.Context, g recordingdb.Gap) (int64, bool, error) {
	id, extended, err := x.DB.OpenGap(ctx, g)
	if err != nil {
		return id, extended, err
	}
	args := []any{"channel_id", g.ChannelID, "gap_id", id, "cause", g.Cause, "start", g.Start, "node", g.Node}
	if !g.End.IsZero() {
		args = append(args, "end", g.End)
	}
	if extended {
		x.log.Info("gap extended", args...)
		return id, extended, nil
	}
	x.gaps.WithLabelValues(string(g.Cause)).Inc()
	x.log.Info("gap opened", append(args, "detail", g.Detail)...)
	return id, extended, nil
}
