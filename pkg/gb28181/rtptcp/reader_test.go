package rtptcp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"testing/iotest"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// Sizes include 0x2400..0x24FF, whose length field starts with '$' like an
// interleaved header, and the 16-bit maximum.
var roundTripSizes = []int{12, 13, 100, 1400, 0x2400, 0x2480, 0x24FF, 40000, rtptcp.MaxPacketSize, 12, 500}

func TestReaderRoundTrip(t *testing.T) {
	var stream bytes.Buffer
	w := rtptcp.NewWriter(&stream)
	var want [][]byte
	for i, n := range roundTripSizes {
		p := rtpPacket(uint16(i), 0xCAFE, n)
		want = append(want, p)
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	readers := map[string]func([]byte) io.Reader{
		"whole":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"chunks":   func(b []byte) io.Reader { return &chunkReader{bytes.NewReader(b), 777} },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := rtptcp.NewReader(mk(stream.Bytes()))
			got, err := readAll(r)
			wantErr(t, err, io.EOF)
			samePackets(t, got, want)
			st := r.Stats()
			if st.Packets != uint64(len(want)) || st.SkippedBytes != 0 || st.Resyncs != 0 || st.Interleaved != 0 {
				t.Fatalf("stats %+v", st)
			}
			// EOF is sticky.
			if _, err := r.ReadPacket(); !errors.Is(err, io.EOF) {
				t.Fatalf("second EOF: %v", err)
			}
		})
	}
}

func TestReaderEmpty(t *testing.T) {
	_, err := rtptcp.NewReader(bytes.NewReader(nil)).ReadPacket()
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
}

func TestReaderInterleaved(t *testing.T) {
	a, b, c := rtpPacket(1, 7, 200), rtpPacket(2, 7, 0x2400), rtpPacket(3, 7, 50)
	var stream []byte
	stream = append(stream, interleaved(0, a)...)
	stream = append(stream, frame(t, b)...)
	stream = append(stream, interleaved(0, c)...)
	stream = append(stream, frame(t, a)...)
	r := rtptcp.NewReader(bytes.NewReader(stream))
	got, err := readAll(r)
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{a, b, c, a})
	if st := r.Stats(); st.Interleaved != 2 || st.Packets != 4 {
		t.Fatalf("stats %+v", st)
	}
}

// RTSP-interleaved streams may carry two SSRCs on two channels.
func TestReaderInterleavedTwoStreams(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := range 20 {
		ch, ssrc := byte(0), uint32(0xAAAA)
		if i%2 == 1 {
			ch, ssrc = 2, 0xBBBB
		}
		p := rtpPacket(uint16(i), ssrc, 100+i)
		want = append(want, p)
		stream = append(stream, interleaved(ch, p)...)
	}
	for _, chunk := range []int{1 << 20, 1} {
		r := rtptcp.NewReader(&chunkReader{bytes.NewReader(stream), chunk})
		got, err := readAll(r)
		wantErr(t, err, io.EOF)
		samePackets(t, got, want)
	}
}

func TestReaderTruncated(t *testing.T) {
	a, b := rtpPacket(1, 9, 100), rtpPacket(2, 9, 100)
	full := append(frame(t, a), frame(t, b)...)
	cuts := []struct {
		name string
		n    int
	}{
		{"one length byte", len(frame(t, a)) + 1},
		{"header only", len(frame(t, a)) + 2},
		{"mid payload", len(frame(t, a)) + 50},
		{"one byte short", len(full) - 1},
	}
	for _, c := range cuts {
		t.Run(c.name, func(t *testing.T) {
			r := rtptcp.NewReader(bytes.NewReader(full[:c.n]))
			got, err := readAll(r)
			wantErr(t, err, io.ErrUnexpectedEOF)
			samePackets(t, got, [][]byte{a})
			if _, err := r.ReadPacket(); !errors.Is(err, io.EOF) {
				t.Fatalf("after ErrUnexpectedEOF: %v", err)
			}
			if st := r.Stats(); st.SkippedBytes != uint64(c.n-len(frame(t, a))) {
				t.Fatalf("skipped %d, want %d", st.SkippedBytes, c.n-len(frame(t, a)))
			}
		})
	}
}

// safeGarbage returns bytes that cannot start a plausible frame: never '$',
// and never with the RTP version bits, so no length/payload pair formed from
// them (or from them and the next frame's length bytes, see
// safeLengthPacket) passes the version check.
func safeGarbage(rng *rand.Rand, n int) []byte {
	g := make([]byte, n)
	for i := range g {
		for {
			g[i] = byte(rng.IntN(0x40))
			if g[i] != '$' {
				break
			}
		}
	}
	return g
}

// safeLengthPacket returns a packet whose length bytes are not 10xxxxxx, so a
// candidate frame that starts in the garbage before it and reads its length
// bytes as the first payload byte fails the version check.
func safeLengthPacket(rng *rand.Rand, seq uint16, ssrc uint32) []byte {
	for {
		n := 12 + rng.IntN(3000)
		if n&0xC0 != 0x80 && (n>>8)&0xC0 != 0x80 {
			return rtpPacket(seq, ssrc, n)
		}
	}
}

// Frames from the Writer with garbage injected between them are all
// recovered when the garbage cannot form a plausible frame, and every
// garbage byte is counted.
func TestReaderGarbageRecovery(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var stream bytes.Buffer
	w := rtptcp.NewWriter(&stream)
	var want [][]byte
	garbage, runs := 0, 0
	for i := range 300 {
		if i%3 == 0 {
			g := safeGarbage(rng, 1+rng.IntN(40))
			stream.Write(g)
			garbage += len(g)
			runs++
		}
		p := safeLengthPacket(rng, uint16(i), 0x1234)
		want = append(want, p)
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, chunk := range []int{1 << 20, 1000, 1} {
		r := rtptcp.NewReader(&chunkReader{bytes.NewReader(stream.Bytes()), chunk})
		got, err := readAll(r)
		wantErr(t, err, io.EOF)
		samePackets(t, got, want)
		st := r.Stats()
		if st.SkippedBytes != uint64(garbage) || st.Resyncs != uint64(runs) {
			t.Fatalf("chunk %d: stats %+v, want %d bytes in %d runs", chunk, st, garbage, runs)
		}
	}
}

// With arbitrary random garbage the SSRC rule still recovers every frame
// (for this seed; the garbage could in principle contain a frame).
func TestReaderRandomGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var stream []byte
	var want [][]byte
	for i := range 500 {
		g := make([]byte, rng.IntN(64)*min(i, 1)) // the first packet comes first
		for j := range g {
			g[j] = byte(rng.Uint32())
		}
		stream = append(stream, g...)
		p := rtpPacket(uint16(i), 0xDEADBEEF, 12+rng.IntN(2000))
		for j := 12; j < len(p); j++ {
			p[j] = byte(rng.Uint32()) // random payload, as PS data looks
		}
		want = append(want, p)
		stream = append(stream, frame(t, p)...)
	}
	for _, chunk := range []int{1 << 20, 777, 1} {
		r := rtptcp.NewReader(&chunkReader{bytes.NewReader(stream), chunk})
		got, err := readAll(r)
		wantErr(t, err, io.EOF)
		samePackets(t, got, want)
	}
}

// A frame whose payload is not RTP v2 is skipped as garbage.
func TestReaderRejectsNonRTP(t *testing.T) {
	good := rtpPacket(1, 5, 40)
	bad := []struct {
		name string
		p    []byte
	}{
		{"version 0", func() []byte { p := rtpPacket(9, 5, 40); p[0] = 0x00; return p }()},
		{"version 3", func() []byte { p := rtpPacket(9, 5, 40); p[0] = 0xC0; return p }()},
		{"CSRC list too long", func() []byte { p := rtpPacket(9, 5, 40); p[0] = 0x8F; return p }()},
		{"extension header missing", func() []byte { p := rtpPacket(9, 5, 14); p[0] = 0x90; return p }()},
		{"extension too long", func() []byte {
			p := rtpPacket(9, 5, 40)
			p[0] = 0x90
			binary.BigEndian.PutUint16(p[14:], 10)
			return p
		}()},
		{"zero padding", func() []byte { p := rtpPacket(9, 5, 40); p[0] = 0xA0; p[39] = 0; return p }()},
		{"padding too long", func() []byte { p := rtpPacket(9, 5, 40); p[0] = 0xA0; p[39] = 30; return p }()},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			var stream []byte
			stream = append(stream, frame(t, good)...)
			stream = append(stream, frame(t, tt.p)...)
			stream = append(stream, frame(t, good)...)
			r := rtptcp.NewReader(bytes.NewReader(stream))
			got, err := readAll(r)
			wantErr(t, err, io.EOF)
			samePackets(t, got, [][]byte{good, good})
			if st := r.Stats(); st.SkippedBytes != uint64(len(tt.p)+2) || st.Resyncs != 1 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// Header extension and padding that fit are accepted.
func TestReaderAcceptsExtensionAndPadding(t *testing.T) {
	ext := rtpPacket(1, 5, 40)
	ext[0] = 0x91 // extension, one CSRC
	binary.BigEndian.PutUint16(ext[18:], 2)
	pad := rtpPacket(2, 5, 40)
	pad[0] = 0xA0
	pad[39] = 28 // exactly the payload
	var stream []byte
	for _, p := range [][]byte{ext, pad, ext} {
		stream = append(stream, frame(t, p)...)
	}
	got, err := readAll(rtptcp.NewReader(bytes.NewReader(stream)))
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{ext, pad, ext})
}

func TestReaderMaxSize(t *testing.T) {
	small, big := rtpPacket(1, 5, 1000), rtpPacket(2, 5, 2000)
	var stream []byte
	for _, p := range [][]byte{small, big, small} {
		stream = append(stream, frame(t, p)...)
	}
	r := rtptcp.NewReaderSize(bytes.NewReader(stream), 1500)
	got, err := readAll(r)
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{small, small})
	if st := r.Stats(); st.SkippedBytes != uint64(len(big)+2) {
		t.Fatalf("stats %+v", st)
	}

	// The bound is clamped to 12..65535.
	tiny := rtpPacket(3, 5, 12)
	got, err = readAll(rtptcp.NewReaderSize(bytes.NewReader(append(frame(t, tiny), frame(t, small)...)), 0))
	wantErr(t, err, io.ErrUnexpectedEOF)
	samePackets(t, got, [][]byte{tiny})
	huge := rtpPacket(4, 5, rtptcp.MaxPacketSize)
	got, err = readAll(rtptcp.NewReaderSize(bytes.NewReader(frame(t, huge)), 1<<30))
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{huge})
}

// Garbage before the first frame: the reader has no SSRC yet and must chain
// two frames to trust the first.
func TestReaderGarbageAtStart(t *testing.T) {
	a, b := rtpPacket(1, 77, 300), rtpPacket(2, 77, 300)
	stream := append([]byte("GET / HTTP/1.1\r\n\r\n"), frame(t, a)...)
	stream = append(stream, frame(t, b)...)
	r := rtptcp.NewReader(bytes.NewReader(stream))
	got, err := readAll(r)
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{a, b})
	if st := r.Stats(); st.SkippedBytes != 18 {
		t.Fatalf("stats %+v", st)
	}
}

// A single trustworthy-looking frame after garbage is accepted when the
// stream ends exactly after it.
func TestReaderResyncAtEOF(t *testing.T) {
	a := rtpPacket(1, 77, 300)
	stream := append([]byte{0x01, 0x02, 0x03}, frame(t, a)...)
	got, err := readAll(rtptcp.NewReader(bytes.NewReader(stream)))
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{a})

	// Followed by a partial frame it is not trusted: nothing confirms it.
	stream = append(stream, 0x00)
	got, err = readAll(rtptcp.NewReader(bytes.NewReader(stream)))
	wantErr(t, err, io.ErrUnexpectedEOF)
	samePackets(t, got, nil)
}

// With garbage between all frames from the start, the first frame is
// confirmed by the next one beyond the garbage, the others by its SSRC.
func TestReaderGarbageEverywhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var stream []byte
	var want [][]byte
	for i := range 100 {
		stream = append(stream, safeGarbage(rng, 1+rng.IntN(20))...)
		p := rtpPacket(uint16(i), 0x5555, 12+rng.IntN(500))
		want = append(want, p)
		stream = append(stream, frame(t, p)...)
	}
	stream = append(stream, 0x01) // trailing garbage
	r := rtptcp.NewReader(bytes.NewReader(stream))
	got, err := readAll(r)
	wantErr(t, err, io.ErrUnexpectedEOF)
	samePackets(t, got, want)
}

// An SSRC change is followed once the new SSRC repeats.
func TestReaderSSRCChange(t *testing.T) {
	want := [][]byte{rtpPacket(1, 1, 100), rtpPacket(2, 1, 100), rtpPacket(3, 2, 100), rtpPacket(4, 2, 100)}
	var stream []byte
	for _, p := range want {
		stream = append(stream, frame(t, p)...)
	}
	got, err := readAll(rtptcp.NewReader(bytes.NewReader(stream)))
	wantErr(t, err, io.EOF)
	samePackets(t, got, want)
}

type flakyReader struct {
	data  []byte
	calls int
	err   error
}

// Read returns the data in two halves, the first together with an error,
// then fails once more with no data before delivering the rest.
func (f *flakyReader) Read(p []byte) (int, error) {
	f.calls++
	switch f.calls {
	case 1:
		n := copy(p, f.data[:len(f.data)/2])
		f.data = f.data[n:]
		return n, f.err
	case 2:
		return 0, f.err
	}
	if len(f.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A transient error (a read deadline) is returned, and reading can go on.
func TestReaderTransientError(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := range 10 {
		p := rtpPacket(uint16(i), 3, 97)
		want = append(want, p)
		stream = append(stream, frame(t, p)...)
	}
	timeout := errors.New("i/o timeout")
	r := rtptcp.NewReader(&flakyReader{data: stream, err: timeout})
	var got [][]byte
	errs := 0
	for {
		p, err := r.ReadPacket()
		if errors.Is(err, timeout) {
			errs++
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, bytes.Clone(p))
	}
	samePackets(t, got, want)
	if errs != 2 {
		t.Fatalf("%d errors returned, want 2", errs)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

type badCountReader struct{}

func (badCountReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestReaderBrokenSource(t *testing.T) {
	_, err := rtptcp.NewReader(zeroReader{}).ReadPacket()
	wantErr(t, err, io.ErrNoProgress)
	_, err = rtptcp.NewReader(badCountReader{}).ReadPacket()
	if err == nil {
		t.Fatal("no error for an invalid read count")
	}
}

// The returned slice aliases the buffer and stays valid until the next call.
func TestReaderSteadyStateAllocs(t *testing.T) {
	src := newLoopReader(t, 1400)
	r := rtptcp.NewReader(src)
	for range 100 { // warm up: the buffer grows to its final size
		if _, err := r.ReadPacket(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadPacket(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per packet", allocs)
	}
}

// loopReader replays a framed stream forever.
type loopReader struct {
	data []byte
	off  int
}

func newLoopReader(t testing.TB, size int) *loopReader {
	var data []byte
	for i := range 64 {
		data = append(data, frame(t, rtpPacket(uint16(i), 0xABCD, size))...)
	}
	return &loopReader{data: data}
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func BenchmarkReader(b *testing.B) {
	for _, size := range []int{200, 1400, 8000} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			r := rtptcp.NewReader(newLoopReader(b, size))
			b.SetBytes(int64(size + 2))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.ReadPacket(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// RTCP on an odd interleaved channel is not RTP: it is skipped.
func TestReaderInterleavedRTCPSkipped(t *testing.T) {
	a, b := rtpPacket(1, 9, 100), rtpPacket(2, 9, 100)
	rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	var stream []byte
	stream = append(stream, interleaved(0, a)...)
	stream = append(stream, interleaved(1, rtcp)...)
	stream = append(stream, interleaved(0, b)...)
	r := rtptcp.NewReader(bytes.NewReader(stream))
	got, err := readAll(r)
	wantErr(t, err, io.EOF)
	samePackets(t, got, [][]byte{a, b})
	if st := r.Stats(); st.SkippedBytes != uint64(len(rtcp)+4) {
		t.Fatalf("stats %+v", st)
	}
}
