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

// marshaler is what requests and responses share for the round-trip check.
type marshaler interface{ Marshal() []byte }

// fuzzRoundTrip checks that parse never panics, returns nothing with an error,
// and that an accepted message survives Marshal → parse unchanged, with a
// stable Marshal.
func fuzzRoundTrip[M marshaler](f *testing.F, seeds []string, parse func([]byte) (M, error)) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parse(b)
		if err != nil {
			if !reflect.ValueOf(m).IsNil() {
				t.Fatalf("message returned with error %v", err)
			}
			return
		}
		out := m.Marshal()
		m2, err := parse(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip differs\nin  %q\nout %q\n%+v\n%+v", b, out, m, m2)
		}
		if out2 := m2.Marshal(); !bytes.Equal(out, out2) {
			t.Fatalf("Marshal not stable: %q vs %q", out, out2)
		}
	})
}

// FuzzParseRequest round-trips MANSRTSP requests.
func FuzzParseRequest(f *testing.F) { fuzzRoundTrip(f, requestSeeds, mansrtsp.ParseRequest) }

// FuzzParseResponse round-trips MANSRTSP responses.
func FuzzParseResponse(f *testing.F) { fuzzRoundTrip(f, responseSeeds, mansrtsp.ParseResponse) }
