package rtptcp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

func FuzzReader(f *testing.F) {
	var clean []byte
	for i := range 3 {
		clean = append(clean, frame(f, rtpPacket(uint16(i), 0x1234, 20+i))...)
	}
	f.Add(clean, uint16(rtptcp.MaxPacketSize))
	f.Add(append([]byte("junk$\x00"), clean...), uint16(1500))
	f.Add(append(interleaved(0, rtpPacket(1, 1, 30)), clean[:len(clean)-3]...), uint16(100))
	f.Add([]byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, maxSize uint16) {
		limit := min(max(int(maxSize), 12), rtptcp.MaxPacketSize)
		r := rtptcp.NewReaderSize(bytes.NewReader(data), int(maxSize))
		var got [][]byte
		var err error
		skippedAtLast := uint64(0) // SkippedBytes when the last packet was returned
		for {
			var p []byte
			if p, err = r.ReadPacket(); err != nil {
				break
			}
			got = append(got, bytes.Clone(p))
			skippedAtLast = r.Stats().SkippedBytes
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("error %v", err)
		}
		total := 0
		for _, p := range got {
			if len(p) < 12 || len(p) > limit || p[0]>>6 != 2 {
				t.Fatalf("bad packet: %d bytes, first byte %#x, limit %d", len(p), p[0], limit)
			}
			total += len(p)
		}
		// Every input byte is in a frame (payload or header) or was skipped.
		st := r.Stats()
		if st.Packets != uint64(len(got)) || st.Interleaved > st.Packets {
			t.Fatalf("stats %+v for %d packets", st, len(got))
		}
		if n := uint64(total) + 2*st.Packets + 2*st.Interleaved + st.SkippedBytes; n != uint64(len(data)) {
			t.Fatalf("accounted %d bytes of %d (stats %+v)", n, len(data), st)
		}
		// The stream ended cleanly exactly when nothing was discarded after
		// the last packet.
		if errors.Is(err, io.ErrUnexpectedEOF) != (st.SkippedBytes > skippedAtLast) {
			t.Fatalf("%v with %d bytes skipped after the last packet", err, st.SkippedBytes-skippedAtLast)
		}
		// Decisions never depend on how the input is chunked.
		r2 := rtptcp.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), int(maxSize))
		got2, err2 := readAll(r2)
		if !errors.Is(err2, err) || r2.Stats() != st {
			t.Fatalf("one-byte reads: %v %+v, whole: %v %+v", err2, r2.Stats(), err, st)
		}
		samePackets(t, got2, got)
	})
}

// FuzzRoundTrip frames packets cut from data with the Writer and reads them
// back in small chunks: every packet must come back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), uint16(12), uint16(7))
	f.Add(bytes.Repeat([]byte{0x24}, 300), uint16(100), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, size uint16, chunk uint16) {
		n := max(int(size), 12)
		var stream bytes.Buffer
		w := rtptcp.NewWriter(&stream)
		var want [][]byte
		for i := 0; len(data) > 0; i++ {
			k := min(len(data), n-12)
			p := make([]byte, 12+k)
			p[0], p[1] = 0x80, 96
			binary.BigEndian.PutUint16(p[2:], uint16(i))
			binary.BigEndian.PutUint32(p[8:], 0xFEEDF00D)
			copy(p[12:], data[:k])
			data = data[k:]
			if k == 0 {
				data = nil
			}
			want = append(want, p)
			if err := w.WritePacket(p); err != nil {
				t.Fatal(err)
			}
		}
		r := rtptcp.NewReader(&chunkReader{bytes.NewReader(stream.Bytes()), max(int(chunk), 1)})
		got, err := readAll(r)
		if !errors.Is(err, io.EOF) {
			t.Fatalf("error %v", err)
		}
		samePackets(t, got, want)
		if st := r.Stats(); st.SkippedBytes != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}
