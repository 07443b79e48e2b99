package rtptcp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/rtptcp"
)

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

func TestWriter(t *testing.T) {
	var out countingWriter
	w := rtptcp.NewWriter(&out)
	pkts := [][]byte{rtpPacket(1, 1, 12), rtpPacket(2, 1, 300), rtpPacket(3, 1, rtptcp.MaxPacketSize)}
	var want []byte
	for _, p := range pkts {
		if err := w.WritePacket(p); err != nil {
			t.Fatal(err)
		}
		want = append(want, byte(len(p)>>8), byte(len(p)))
		want = append(want, p...)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatal("framing differs")
	}
	if out.writes != len(pkts) {
		t.Fatalf("%d Write calls for %d packets", out.writes, len(pkts))
	}
	// The first bytes are the big-endian length.
	if b := out.Bytes(); b[0] != 0 || b[1] != 12 {
		t.Fatalf("header % X", b[:2])
	}
}

func TestWriterErrors(t *testing.T) {
	var out bytes.Buffer
	w := rtptcp.NewWriter(&out)
	wantErr(t, w.WritePacket(nil), rtptcp.ErrEmptyPacket)
	wantErr(t, w.WritePacket(make([]byte, rtptcp.MaxPacketSize+1)), rtptcp.ErrPacketTooLarge)
	if out.Len() != 0 {
		t.Fatalf("%d bytes written for rejected packets", out.Len())
	}
	if _, err := rtptcp.AppendFrame(nil, nil); !errors.Is(err, rtptcp.ErrEmptyPacket) {
		t.Fatalf("AppendFrame(nil) = %v", err)
	}

	boom := errors.New("boom")
	w = rtptcp.NewWriter(errWriter{boom})
	wantErr(t, w.WritePacket(rtpPacket(1, 1, 20)), boom)
}

type errWriter struct{ err error }

func (e errWriter) Write([]byte) (int, error) { return 0, e.err }

func TestWriterDoesNotAllocate(t *testing.T) {
	var out bytes.Buffer
	out.Grow(1 << 20)
	w := rtptcp.NewWriter(&out)
	p := rtpPacket(1, 1, 1400)
	if err := w.WritePacket(p); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		out.Reset()
		_ = w.WritePacket(p)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per WritePacket", allocs)
	}
}
