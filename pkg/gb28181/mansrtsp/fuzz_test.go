package mansrtsp_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

var requestSeeds = []string{
	"PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=now-\r\n",
	"PAUSE RTSP/1.0\r\nCSeq: 3\r\nPauseTime: now\r\n",
	"PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 2.000000\r\n",
	"PLAY RTSP/1.0\nCSeq: 5\nRange: npt=125.5-3600\n",
	"TEARDOWN RTSP/1.0\r\nCSeq: 6\r\n\r\n",
	"PAUSE MANSRTSP/1.0\r\nCSeq: 7\r\n",
	"play rtsp://x RTSP/1.0\r\ncseq:8\r\nscale: -0.5\r\nX-Vendor: a:b\r\nPauseTime:\r\n\x00",
	"OPTIONS RTSP/1.0\r\nCSeq: 1\r\n",
}

var responseSeeds = []string{
	"RTSP/1.0 200 OK\r\nCSeq: 2\r\n",
	"RTSP/1.0 200 OK\nRTP-Info: seq=1;rtptime=0\n\n",
	"MANSRTSP/1.0 457 Invalid Range\r\nCSeq: 5\r\n",
	"RTSP/1.0 200\r\n",
}

// FuzzParseRequest checks that ParseRequest never panics and that an
// accepted request survives Marshal → ParseRequest unchanged.
func FuzzParseRequest(f *testing.F) {
	for _, s := range requestSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := mansrtsp.ParseRequest(b)
		if err != nil {
			if r != nil {
				t.Fatalf("request returned with error %v", err)
			}
			return
		}
		out := r.Marshal()
		r2, err := mansrtsp.ParseRequest(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip differs\nin  %q\nout %q\n%+v\n%+v", b, out, r, r2)
		}
		if out2 := r2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable: %q vs %q", out, out2)
		}
	})
}

// FuzzParseResponse is FuzzParseRequest for responses.
func FuzzParseResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := mansrtsp.ParseResponse(b)
		if err != nil {
			if r != nil {
				t.Fatalf("response returned with error %v", err)
			}
			return
		}
		out := r.Marshal()
		r2, err := mansrtsp.ParseResponse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(r, r2) {
			t.Fatalf("round trip differs\nin  %q\nout %q\n%+v\n%+v", b, out, r, r2)
		}
		if out2 := r2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable: %q vs %q", out, out2)
		}
	})
}
