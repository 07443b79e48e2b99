package ingest

import (
	"log/slog"
	"time"
)

// warnInterval is how often one receiver or transport may log a problem
// with its input: garbage arrives per packet, logs must not.
const warnInterval = time.Minute

// warnLimiter lets a warning through at most once per warnInterval and
// counts the ones suppressed in between. The caller asks due first and
// builds the log line only when it is: a flood of bad packets then costs
// one comparison and one increment a packet, not the arguments of a line
// that is thrown away.
type warnLimiter struct {
	last       time.Time
	suppressed int
}

// due reports whether a warning may be logged at now; one that may not is
// counted as suppressed.
func (w *warnLimiter) due(now time.Time) bool {
	if !w.last.IsZero() && now.Sub(w.last) < warnInterval {
		w.suppressed++
		return false
	}
	w.last = now
	return true
}

// warn logs a warning that due let through, with the number suppressed
// since the last one.
func (w *warnLimiter) warn(log *slog.Logger, msg string, args ...any) {
	if w.suppressed > 0 {
		args = append(args, "suppressed", w.suppressed)
		w.suppressed = 0
	}
	log.Warn(msg, args...)
}
