package ps

import (
	"bytes"
	"fmt"
)

const tsPacketSize = 188

// tsStream is the PES reassembly state of one elementary PID.
type tsStream struct {
	pid        int
	streamType uint8
	buf        []byte
	active     bool // inside a PES whose start was seen
}

// tsReader is the minimal MPEG-TS fallback (pitfall 11): PAT, first PMT,
// PES reassembly; the PES then go through the same track logic as PS.
type tsReader struct {
	buf     []byte
	synced  bool
	pmtPID  int
	streams [maxTracks]tsStream
	ns      int
}

func (r *tsReader) write(d *Demuxer, p []byte) {
	r.buf = append(r.buf, p...)
	b := r.buf
	for len(b) >= tsPacketSize {
		if b[0] != 0x47 {
			r.synced = false
			i := bytes.IndexByte(b, 0x47)
			if i < 0 {
				b = b[:0]
				break
			}
			b = b[i:]
			continue
		}
		if !r.synced {
			// Out of sync, a packet counts only if the next one starts with a
			// sync byte too.
			if len(b) < 2*tsPacketSize {
				break
			}
			if b[tsPacketSize] != 0x47 {
				b = b[1:]
				continue
			}
			r.synced = true
		}
		r.packet(d, b[:tsPacketSize])
		b = b[tsPacketSize:]
	}
	r.buf = r.buf[:copy(r.buf, b)]
}

func (r *tsReader) packet(d *Demuxer, b []byte) {
	if b[1]&0x80 != 0 {
		return // transport_error_indicator
	}
	pid := int(b[1]&0x1F)<<8 | int(b[2])
	pusi := b[1]&0x40 != 0
	afc := b[3] >> 4 & 3
	off := 4
	if afc&2 != 0 {
		off += 1 + int(b[4])
	}
	if afc&1 == 0 || off >= tsPacketSize {
		return
	}
	pl := b[off:]
	switch pid {
	case 0:
		if pusi {
			r.parsePAT(pl)
		}
	case r.pmtPID:
		if pusi {
			r.parsePMT(d, pl)
		}
	default:
		for i := range r.ns {
			if r.streams[i].pid == pid {
				r.esPayload(d, &r.streams[i], pusi, pl)
				return
			}
		}
	}
}

// section returns the PSI section after the pointer field, cut to its
// section_length (CRC excluded).
func section(pl []byte, tableID byte) []byte {
	p := 1 + int(pl[0])
	if p+3 > len(pl) || pl[p] != tableID {
		return nil
	}
	s := pl[p:]
	end := 3 + (int(s[1]&0x0F)<<8 | int(s[2])) - 4
	if end > len(s) {
		end = len(s)
	}
	if end < 3 {
		return nil
	}
	return s[:end]
}

func (r *tsReader) parsePAT(pl []byte) {
	s := section(pl, 0)
	for p := 8; p+4 <= len(s); p += 4 {
		if s[p] != 0 || s[p+1] != 0 { // program_number 0 is the NIT
			r.pmtPID = int(s[p+2]&0x1F)<<8 | int(s[p+3])
			return
		}
	}
}

func (r *tsReader) parsePMT(d *Demuxer, pl []byte) {
	s := section(pl, 2)
	if len(s) < 12 {
		return
	}
	p := 12 + (int(s[10]&0x0F)<<8 | int(s[11]))
	for p+5 <= len(s) {
		st := s[p]
		pid := int(s[p+1]&0x1F)<<8 | int(s[p+2])
		p += 5 + (int(s[p+3]&0x0F)<<8 | int(s[p+4]))
		r.addStream(d, pid, st)
	}
}

func (r *tsReader) addStream(d *Demuxer, pid int, st uint8) {
	for i := range r.ns {
		if r.streams[i].pid == pid {
			r.streams[i].streamType = st
			for j := range d.ntracks {
				if d.tracks[j].key == 0x100+pid {
					d.tracks[j].applyType(st)
				}
			}
			return
		}
	}
	if r.ns < maxTracks {
		r.streams[r.ns] = tsStream{pid: pid, streamType: st}
		r.ns++
	}
}

func (r *tsReader) esPayload(d *Demuxer, s *tsStream, pusi bool, pl []byte) {
	if pusi {
		if s.active {
			r.emit(d, s)
		}
		s.buf = s.buf[:0]
		s.active = true
	}
	if !s.active {
		return
	}
	if len(s.buf)+len(pl) > d.maxFrame() {
		d.setErr(fmt.Errorf("PID %d: PES larger than %d bytes: %w", s.pid, d.maxFrame(), ErrFrameTooLarge))
		s.buf = s.buf[:0]
		s.active = false
		return
	}
	s.buf = append(s.buf, pl...)
	if len(s.buf) >= 6 {
		// A bounded PES (audio) is complete without waiting for the next one.
		if l := int(s.buf[4])<<8 | int(s.buf[5]); l > 0 && len(s.buf) >= 6+l {
			r.emit(d, s)
		}
	}
}

// emit hands a complete PES to the demuxer's track logic.
func (r *tsReader) emit(d *Demuxer, s *tsStream) {
	b := s.buf
	s.buf = s.buf[:0]
	s.active = false
	if len(b) < 9 || b[0] != 0 || b[1] != 0 || b[2] != 1 || (!isVideoID(b[3]) && !isAudioID(b[3])) {
		return
	}
	h, st := parsePESHeader(b)
	if st != hdrOK {
		return
	}
	pay := b[h.hdrLen:]
	if h.payLen >= 0 && h.payLen < len(pay) {
		pay = pay[:h.payLen]
	}
	t := d.trackFor(0x100+s.pid, b[3])
	if t == nil {
		return
	}
	t.applyType(s.streamType)
	d.beginPES(t, &h)
	d.payload(pay)
	d.endPES()
}

func (r *tsReader) flush(d *Demuxer) {
	for i := range r.ns {
		if s := &r.streams[i]; s.active {
			r.emit(d, s)
		}
	}
	r.buf = r.buf[:0]
}

func (r *tsReader) loss() {
	for i := range r.ns {
		r.streams[i].buf = r.streams[i].buf[:0]
		r.streams[i].active = false
	}
	r.buf = r.buf[:0]
	r.synced = false
}
