package rtpin

// TimestampUnwrapper extends 32-bit RTP timestamps to int64 so that they
// keep increasing across the wrap. Steps of less than 2^31 in either
// direction are taken as they are. The zero value is ready to use.
type TimestampUnwrapper struct {
	init bool
	last uint32
	acc  int64
}

// Unwrap returns the extended value of ts. The first call returns ts.
func (u *TimestampUnwrapper) Unwrap(ts uint32) int64 {
	if !u.init {
		u.init = true
		u.last = ts
		u.acc = int64(ts)
		return u.acc
	}
	u.acc += int64(int32(ts - u.last))
	u.last = ts
	return u.acc
}

// Reset forgets the history.
func (u *TimestampUnwrapper) Reset() {
	*u = TimestampUnwrapper{}
}
