package ingest

import (
	"log/slog"
	"time"
)

// warnInterval is how often one receiver or transport may log a problem
// with its input: garbage arrives per packet, logs must not.
const warnInterval = time.Minute

// warnLimiter logs at most one warning per warnInterval and reports how
// many were suppressed in between.
type warnLimiter struct {
	last       time.Time
	suppressed int
}

func (w *warnLimiter) warn(log *slog.Logger, msg string, args ...any) {
	now := timeNow()
	if !w.last.IsZero() && now.Sub(w.last) < warnInterval {
		w.suppressed++
		return
	}
	w.last = now
	if w.suppressed > 0 {
		args = append(args, "suppressed", w.suppressed)
		w.suppressed = 0
	}
	log.Warn(msg, args...)
}
