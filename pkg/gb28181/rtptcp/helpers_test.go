package rtptcp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

// rtpPacket returns a minimal RTP v2 packet of size bytes (>= 12).
func rtpPacket(seq uint16, ssrc uint32, size int) []byte {
	p := make([]byte, size)
	p[0] = 0x80
	p[1] = 96
	binary.BigEndian.PutUint16(p[2:], seq)
	binary.BigEndian.PutUint32(p[4:], uint32(seq)*3600)
	binary.BigEndian.PutUint32(p[8:], ssrc)
	for i := 12; i < size; i++ {
		p[i] = byte(i*7 + int(seq))
	}
	return p
}

// frame returns the RFC 4571 frame of p.
func frame(t testing.TB, p []byte) []byte {
	t.Helper()
	f, err := rtptcp.AppendFrame(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// interleaved returns the RTSP-interleaved frame of p on channel ch.
func interleaved(ch byte, p []byte) []byte {
	return append([]byte{'$', ch, byte(len(p) >> 8), byte(len(p))}, p...)
}

// readAll reads packets until an error, copying each.
func readAll(r *rtptcp.Reader) ([][]byte, error) {
	var out [][]byte
	for {
		p, err := r.ReadPacket()
		if err != nil {
			return out, err
		}
		out = append(out, bytes.Clone(p))
	}
}

func samePackets(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("packet %d differs: got %d bytes % X…, want %d bytes % X…",
				i, len(got[i]), head(got[i]), len(want[i]), head(want[i]))
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

// chunkReader returns at most n bytes per Read, to exercise partial frames.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), c.n)])
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}
