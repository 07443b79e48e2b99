package capacity

import (
	"math"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/objstore"
)

// Estimate is one reading of the storage's headroom.
type Estimate struct {
	// At is when it was taken (the guard's clock).
	At time.Time
	// Written is the bytes of the segments started within Window before At;
	// BytesPerDay the write rate it makes.
	Written     int64
	BytesPerDay float64
	// Space is the store's capacity and free bytes (-1: unknown).
	Space objstore.Space
	// HeadroomDays is how many days of writing at BytesPerDay the free
	// space holds: +Inf when nothing is written, NaN when the free space
	// is unknown (an S3 store without a configured capacity).
	HeadroomDays float64
	// Shortfall is the bytes missing to the reserve (ReserveDays of
	// writing free); 0 when there is enough, or the free space is unknown.
	Shortfall int64
}

// Known reports whether the headroom could be estimated.
func (e Estimate) Known() bool { return !math.IsNaN(e.HeadroomDays) }

// minRateWindow is the shortest time a write rate is taken over: less is
// the first fragments' noise.
const minRateWindow = time.Minute

// rateWindow is the time the bytes written since now-window were written
// in: window, or the time since the store's first segment in it when that
// is later — on a new install five minutes of writing over 24 h would
// make the rate 288 times too low and the headroom as much too high. A
// pause in recording early in the window shortens it too: the rate is
// overstated then, the safe side. Never under minRateWindow.
func rateWindow(now, first time.Time, window time.Duration) time.Duration {
	if first.IsZero() {
		return window
	}
	return min(window, max(now.Sub(first), minRateWindow))
}

// estimate computes the headroom from written bytes over window and the
// store's space, and the shortfall to reserveDays of writing.
//
// Deletions to come are left out on purpose: in steady state the sweeper
// frees what is written and the headroom is constant — it is the margin
// the store has if the sweeper stopped, or the retention grew.
func estimate(at time.Time, written int64, window time.Duration, space objstore.Space, reserveDays float64) Estimate {
	e := Estimate{At: at, Written: written, Space: space}
	if window > 0 {
		e.BytesPerDay = float64(written) * float64(24*time.Hour) / float64(window)
	}
	switch {
	case space.Free < 0:
		e.HeadroomDays = math.NaN()
		return e
	case e.BytesPerDay <= 0:
		e.HeadroomDays = math.Inf(1)
	default:
		e.HeadroomDays = float64(space.Free) / e.BytesPerDay
	}
	if need := reserveDays*e.BytesPerDay - float64(space.Free); need > 0 {
		e.Shortfall = int64(math.Ceil(need))
	}
	return e
}
