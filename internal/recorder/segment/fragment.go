package segment

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
)

// Sizes of the fragment boxes, fixed so that the moof is sized up front
// and written once (append only: nothing is patched afterwards).
const (
	boxHeader      = 8
	mfhdSize       = 16
	tfhdSize       = 16
	tfdtSize       = 20
	trunHeader     = 20 // box header, version+flags, sample count, data offset
	videoEntrySize = 16 // duration, size, flags, composition offset
	audioEntrySize = 8  // duration, size
)

// trun and tfhd flags (ISO/IEC 14496-12 §8.8.7, §8.8.8).
const (
	tfhdDefaultBaseIsMoof = 0x020000
	trunDataOffset        = 0x000001
	trunDuration          = 0x000100
	trunSize              = 0x000200
	trunFlags             = 0x000400
	trunCTS               = 0x000800
	videoTrunFlags        = trunDataOffset | trunDuration | trunSize | trunFlags | trunCTS
	audioTrunFlags        = trunDataOffset | trunDuration | trunSize

	// sample_depends_on 2 (an I frame); sample_depends_on 1 plus
	// sample_is_non_sync_sample.
	syncSampleFlags    = 0x02000000
	nonSyncSampleFlags = 0x01010000
)

// placeAudio decides where an audio packet decoded at `at` goes: right
// after the previous one when within 50 ms (RTP jitter must not shift
// samples), after a hole when later (the previous sample stretched over it,
// or the next fragment's tfdt starting there), nowhere when it overlaps
// what is buffered.
func (w *Writer) placeAudio(at int64) (bool, error) {
	a := w.audio
	tol := int64(a.t.TimeScale()) / 20
	switch {
	case !a.any:
		a.next = at
		a.any = true
	case at > a.next+tol:
		if at-a.next > w.jumpAudio {
			return false, fmt.Errorf("%w: audio jumps %v", ErrTimestamp, TicksDuration(at-a.next, int64(a.t.TimeScale())))
		}
		if n := len(a.samples); n > 0 {
			a.samples[n-1].dur += uint32(at - a.next)
		}
		a.next = at
	case at < a.next-tol:
		if a.next-at > w.jumpAudio {
			return false, fmt.Errorf("%w: audio goes back %v", ErrTimestamp, TicksDuration(a.next-at, int64(a.t.TimeScale())))
		}
		return false, nil
	}
	if len(a.samples) == 0 {
		a.base = a.next
	}
	return true, nil
}

// writeFragment writes the first nVideo buffered video samples and all the
// buffered audio as one moof+mdat, and keeps the rest for the next one.
func (w *Writer) writeFragment(nVideo int) error {
	v, a := w.video, w.audio
	vBytes, vDur := 0, int64(0)
	for _, s := range v.samples[:nVideo] {
		vBytes += int(s.size)
		vDur += int64(s.dur)
	}
	nAudio, aBytes := 0, 0
	if a != nil {
		nAudio, aBytes = len(a.samples), len(a.data)
	}
	if nVideo == 0 && nAudio == 0 {
		return nil
	}
	moofSize := boxHeader + mfhdSize
	if nVideo > 0 {
		moofSize += trafSize(nVideo, videoEntrySize)
	}
	if nAudio > 0 {
		moofSize += trafSize(nAudio, audioEntrySize)
	}
	mdatSize := boxHeader + vBytes + aBytes
	if int64(moofSize)+int64(mdatSize) > math.MaxInt32 {
		return fmt.Errorf("fragment of %d bytes too large", mdatSize)
	}

	w.seq++
	m := w.moof[:0]
	m = appendBoxHeader(m, moofSize, "moof")
	m = appendBoxHeader(m, mfhdSize, "mfhd")
	m = binary.BigEndian.AppendUint32(m, 0)
	m = binary.BigEndian.AppendUint32(m, w.seq)
	if nVideo > 0 {
		m = appendTrafHeader(m, v, nVideo, videoEntrySize, videoTrunFlags, moofSize+boxHeader)
		for _, s := range v.samples[:nVideo] {
			flags := uint32(nonSyncSampleFlags)
			if s.sync {
				flags = syncSampleFlags
			}
			m = binary.BigEndian.AppendUint32(m, s.dur)
			m = binary.BigEndian.AppendUint32(m, s.size)
			m = binary.BigEndian.AppendUint32(m, flags)
			m = binary.BigEndian.AppendUint32(m, uint32(s.ctsOff))
		}
	}
	if nAudio > 0 {
		m = appendTrafHeader(m, a, nAudio, audioEntrySize, audioTrunFlags, moofSize+boxHeader+vBytes)
		for _, s := range a.samples {
			m = binary.BigEndian.AppendUint32(m, s.dur)
			m = binary.BigEndian.AppendUint32(m, s.size)
		}
	}
	m = appendBoxHeader(m, mdatSize, "mdat")
	w.moof = m

	if err := w.write(m); err != nil {
		return err
	}
	if err := w.write(v.data[:vBytes]); err != nil {
		return err
	}
	if nAudio > 0 {
		if err := w.write(a.data); err != nil {
			return err
		}
		a.written = a.next
		a.data, a.samples = a.data[:0], a.samples[:0]
	}
	v.written = v.base + vDur
	v.base = v.written
	v.data = v.data[:copy(v.data, v.data[vBytes:])]
	v.samples = v.samples[:copy(v.samples, v.samples[nVideo:])]
	return nil
}

func trafSize(n, entrySize int) int {
	return boxHeader + tfhdSize + tfdtSize + trunHeader + n*entrySize
}

// appendTrafHeader appends traf, tfhd, tfdt and the trun up to its entries.
func appendTrafHeader(m []byte, ts *trackState, n, entrySize int, flags uint32, dataOffset int) []byte {
	m = appendBoxHeader(m, trafSize(n, entrySize), "traf")
	m = appendBoxHeader(m, tfhdSize, "tfhd")
	m = binary.BigEndian.AppendUint32(m, tfhdDefaultBaseIsMoof)
	m = binary.BigEndian.AppendUint32(m, uint32(ts.t.id))
	m = appendBoxHeader(m, tfdtSize, "tfdt")
	m = binary.BigEndian.AppendUint32(m, 1<<24) // version 1: 64-bit time
	m = binary.BigEndian.AppendUint64(m, uint64(ts.base))
	m = appendBoxHeader(m, trunHeader+n*entrySize, "trun")
	m = binary.BigEndian.AppendUint32(m, flags) // version 0: offsets are never negative
	m = binary.BigEndian.AppendUint32(m, uint32(n))
	return binary.BigEndian.AppendUint32(m, uint32(dataOffset))
}

func appendBoxHeader(m []byte, size int, typ string) []byte {
	m = binary.BigEndian.AppendUint32(m, uint32(size))
	return append(m, typ...)
}

// write writes b to W; its first error sticks.
func (w *Writer) write(b []byte) error {
	n, err := w.W.Write(b)
	w.bytes += int64(n)
	if err != nil {
		w.err = fmt.Errorf("write segment: %w", err)
		return w.err
	}
	return nil
}

// G.711 to 16-bit linear PCM, a table per law built once from
// mediacommon's decoders (whose per-call allocation we avoid per packet).
var alawTable, mulawTable = g711Tables()

func g711Tables() (alaw, mulaw [256]int16) {
	in := make([]byte, 256)
	for i := range in {
		in[i] = byte(i)
	}
	var a g711.Alaw
	a.Unmarshal(in)
	var u g711.Mulaw
	u.Unmarshal(in)
	for i := range 256 {
		alaw[i] = int16(uint16(a[2*i])<<8 | uint16(a[2*i+1]))
		mulaw[i] = int16(uint16(u[2*i])<<8 | uint16(u[2*i+1]))
	}
	return alaw, mulaw
}

// DurationTicks converts d to ticks of a clock of rate Hz (rounding down),
// without overflowing for any duration a recording holds.
func DurationTicks(d time.Duration, rate int64) int64 {
	return int64(d/time.Second)*rate + int64(d%time.Second)*rate/int64(time.Second)
}

// TicksDuration converts ticks of a clock of rate Hz to a duration, without
// overflowing for any tick count a file may hold.
func TicksDuration(ticks, rate int64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(ticks/rate)*time.Second + time.Duration(ticks%rate*int64(time.Second)/rate)
}
