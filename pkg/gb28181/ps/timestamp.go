package ps

const mask33 = 1<<33 - 1

// unwrap33 extends 33-bit MPEG timestamps to int64. Differences are taken
// modulo 2^33 and sign-extended so that small backward steps (B-frames, audio
// interleaved with video) stay backward while a wrap moves forward.
type unwrap33 struct {
	init bool
	last uint64
	acc  int64
}

func (u *unwrap33) unwrap(raw uint64) int64 {
	raw &= mask33
	if !u.init {
		u.init = true
		u.last = raw
		u.acc = int64(raw)
		return u.acc
	}
	d := int64((raw - u.last) & mask33)
	if d >= 1<<32 {
		d -= 1 << 33
	}
	u.last = raw
	u.acc += d
	return u.acc
}

// peek returns what unwrap(raw) would return, without updating the state.
func (u *unwrap33) peek(raw uint64) int64 {
	if !u.init {
		return int64(raw & mask33)
	}
	d := int64((raw - u.last) & mask33)
	if d >= 1<<32 {
		d -= 1 << 33
	}
	return u.acc + d
}
