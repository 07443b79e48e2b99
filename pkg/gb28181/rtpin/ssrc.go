package rtpin

// SSRCFilter accepts the packets of one synchronisation source. Devices
// behind NAT or misconfigured ones may send other SSRCs to the same port;
// those are counted and dropped.
type SSRCFilter struct {
	// SSRC is the source to accept (GB/T 28181: the y= value of the SDP).
	SSRC uint32
	// AcceptAny locks onto the SSRC of the first packet instead of SSRC.
	AcceptAny bool

	locked  bool
	foreign uint64
}

// Accept reports whether a packet with this SSRC belongs to the stream.
func (f *SSRCFilter) Accept(ssrc uint32) bool {
	if f.AcceptAny && !f.locked {
		f.SSRC = ssrc
		f.locked = true
	}
	if ssrc == f.SSRC {
		return true
	}
	f.foreign++
	return false
}

// Locked returns the accepted SSRC and whether it is known yet.
func (f *SSRCFilter) Locked() (uint32, bool) {
	return f.SSRC, f.locked || !f.AcceptAny
}

// Foreign returns how many packets with another SSRC were rejected.
func (f *SSRCFilter) Foreign() uint64 {
	return f.foreign
}

// Unlock forgets the SSRC locked by AcceptAny, e.g. after a device restart.
func (f *SSRCFilter) Unlock() {
	f.locked = false
}

// Set accepts ssrc from now on; 0 locks onto the next SSRC seen. The count
// of foreign packets is kept.
func (f *SSRCFilter) Set(ssrc uint32) {
	f.SSRC = ssrc
	f.AcceptAny = ssrc == 0
	f.locked = false
}
