package mansrtsp_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *mansrtsp.Request
	}{
		{"resume LF", "PLAY RTSP/1.0\nCSeq: 2\nRange: npt=now-\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, Version: "RTSP/1.0", CSeq: 2, Range: &mansrtsp.Range{Now: true},
		}},
		{"pause CRLF blank line", "PAUSE RTSP/1.0\r\nCSeq: 3\r\nPauseTime: now\r\n\r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPause, Version: "RTSP/1.0", CSeq: 3, PauseTime: "now",
		}},
		{"2011 pause", "PAUSE MANSRTSP/1.0\r\nCSeq: 3\r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPause, Version: "MANSRTSP/1.0", CSeq: 3,
		}},
		{"header case and spaces", "  play   RTSP/1.0  \r\ncseq:5\r\n  RANGE :  npt = 125 -  \r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, Version: "RTSP/1.0", CSeq: 5, Range: &mansrtsp.Range{Start: 125 * time.Second},
		}},
		{"fractional seek with end", "PLAY RTSP/1.0\nCSeq: 5\nRange: NPT=1.25-3600\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, Version: "RTSP/1.0", CSeq: 5,
			Range: &mansrtsp.Range{Start: 1250 * time.Millisecond, End: time.Hour, HasEnd: true},
		}},
		{"scale", "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 2.0\r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, Version: "RTSP/1.0", CSeq: 4, Scale: 2,
		}},
		{"scale short forms", "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: .5\r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, Version: "RTSP/1.0", CSeq: 4, Scale: 0.5,
		}},
		{"unknown and repeated headers kept", "TEARDOWN RTSP/1.0\r\nCSeq: 6\r\nSession: 1234\r\nCSeq: 7\r\nX-Empty:\r\nPauseTime:\r\n", &mansrtsp.Request{
			Method: mansrtsp.MethodTeardown, Version: "RTSP/1.0", CSeq: 6,
			Headers: []mansrtsp.Header{{Name: "Session", Value: "1234"}, {Name: "CSeq", Value: "7"}, {Name: "X-Empty"}, {Name: "PauseTime"}},
		}},
		{"request URI, NUL padding, body after blank line", "\r\nPLAY rtsp://x/y RTSP/1.0\r\nCSeq: 1\r\n\r\nignored\x00\x00", &mansrtsp.Request{
			Method: mansrtsp.MethodPlay, URI: "rtsp://x/y", Version: "RTSP/1.0", CSeq: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mansrtsp.ParseRequest([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v (range %+v)\nwant %+v", got, got.Range, tt.want)
			}
			again, err := mansrtsp.ParseRequest(got.Marshal())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", mansrtsp.ErrEmpty},
		{"blank", "\r\n\r\n\x00", mansrtsp.ErrEmpty},
		{"unknown method", "OPTIONS RTSP/1.0\r\nCSeq: 1\r\n", mansrtsp.ErrUnknownMethod},
		{"describe", "DESCRIBE rtsp://x RTSP/1.0\r\nCSeq: 1\r\n", mansrtsp.ErrUnknownMethod},
		{"no version", "PLAY\r\nCSeq: 1\r\n", mansrtsp.ErrBadStartLine},
		{"too many tokens", "PLAY a b RTSP/1.0\r\nCSeq: 1\r\n", mansrtsp.ErrBadStartLine},
		{"bad version", "PLAY HTTP/1.1\r\nCSeq: 1\r\n", mansrtsp.ErrBadVersion},
		{"bare version", "PLAY RTSP/\r\nCSeq: 1\r\n", mansrtsp.ErrBadVersion},
		{"no CSeq", "PLAY RTSP/1.0\r\nRange: npt=now-\r\n", mansrtsp.ErrMissingCSeq},
		{"bad CSeq", "PLAY RTSP/1.0\r\nCSeq: two\r\n", mansrtsp.ErrBadCSeq},
		{"CSeq overflow", "PLAY RTSP/1.0\r\nCSeq: 4294967296\r\n", mansrtsp.ErrBadCSeq},
		{"negative CSeq", "PLAY RTSP/1.0\r\nCSeq: -1\r\n", mansrtsp.ErrBadCSeq},
		{"header without colon", "PLAY RTSP/1.0\r\nCSeq 1\r\n", mansrtsp.ErrBadHeader},
		{"header without name", "PLAY RTSP/1.0\r\n: 1\r\n", mansrtsp.ErrBadHeader},
		{"range clock", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: clock=20240101T000000Z-\r\n", mansrtsp.ErrBadRange},
		{"range no dash", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=5\r\n", mansrtsp.ErrBadRange},
		{"range negative", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=-5\r\n", mansrtsp.ErrBadRange},
		{"range text", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=abc-\r\n", mansrtsp.ErrBadRange},
		{"range bad end", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=1-x\r\n", mansrtsp.ErrBadRange},
		{"range dot", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=1.-\r\n", mansrtsp.ErrBadRange},
		{"range huge", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=9223372037-\r\n", mansrtsp.ErrBadRange},
		{"range huge fraction", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange: npt=9223372036.9-\r\n", mansrtsp.ErrBadRange},
		{"range empty", "PLAY RTSP/1.0\r\nCSeq: 1\r\nRange:\r\n", mansrtsp.ErrBadRange},
		{"scale zero", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 0.0\r\n", mansrtsp.ErrBadScale},
		{"scale text", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: fast\r\n", mansrtsp.ErrBadScale},
		{"scale exponent", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 1e3\r\n", mansrtsp.ErrBadScale},
		{"scale NaN", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: NaN\r\n", mansrtsp.ErrBadScale},
		{"scale double sign", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: --1\r\n", mansrtsp.ErrBadScale},
		{"scale two dots", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 1.2.3\r\n", mansrtsp.ErrBadScale},
		{"scale overflow", "PLAY RTSP/1.0\r\nCSeq: 1\r\nScale: 1" + strings.Repeat("0", 400) + "\r\n", mansrtsp.ErrBadScale},
		{"too large", "PLAY RTSP/1.0\r\nCSeq: 1\r\nX: " + strings.Repeat("a", mansrtsp.MaxSize) + "\r\n", mansrtsp.ErrTooLarge},
		{"too many headers", "PLAY RTSP/1.0\r\n" + strings.Repeat("X: 1\r\n", mansrtsp.MaxHeaders+1), mansrtsp.ErrTooManyHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := mansrtsp.ParseRequest([]byte(tt.in))
			if !errors.Is(err, tt.want) || r != nil {
				t.Fatalf("ParseRequest = %+v, %v; want %v", r, err, tt.want)
			}
		})
	}
}

func TestParseRequestEncodedSizeLimit(t *testing.T) {
	// LF-only input at MaxSize grows past it with CRLF endings.
	in := "PLAY RTSP/1.0\nCSeq: 1\n"
	for i := 0; i < mansrtsp.MaxHeaders-2; i++ {
		in += "X:1\n"
	}
	in += "Y:" + strings.Repeat("a", mansrtsp.MaxSize-len(in)-3) + "\n"
	if len(in) != mansrtsp.MaxSize {
		t.Fatalf("input is %d bytes", len(in))
	}
	if _, err := mansrtsp.ParseRequest([]byte(in)); !errors.Is(err, mansrtsp.ErrTooLarge) {
		t.Fatalf("ParseRequest = %v", err)
	}
}

func TestRangeString(t *testing.T) {
	tests := []struct {
		r    mansrtsp.Range
		want string
	}{
		{mansrtsp.Range{Now: true}, "npt=now-"},
		{mansrtsp.Range{Start: 0}, "npt=0-"},
		{mansrtsp.Range{Start: 90 * time.Second, End: 100*time.Second + 10*time.Millisecond, HasEnd: true}, "npt=90-100.01"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.r, got, tt.want)
		}
		back, err := mansrtsp.ParseRange(tt.want)
		if err != nil || back != tt.r {
			t.Errorf("ParseRange(%q) = %+v, %v", tt.want, back, err)
		}
	}
	// Digits beyond nanoseconds are dropped.
	if r, err := mansrtsp.ParseRange("npt=1.0000000019-"); err != nil || r.Start != time.Second+time.Nanosecond {
		t.Errorf("sub-ns: %+v %v", r, err)
	}
}
