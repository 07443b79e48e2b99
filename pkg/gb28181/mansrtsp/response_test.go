package mansrtsp_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

func TestResponse(t *testing.T) {
	r := mansrtsp.NewResponse(2, mansrtsp.StatusOK)
	if got := string(r.Marshal()); got != "RTSP/1.0 200 OK\r\nCSeq: 2\r\n" {
		t.Fatalf("Marshal = %q", got)
	}
	tests := []struct {
		name string
		in   string
		want *mansrtsp.Response
	}{
		{"ok", "RTSP/1.0 200 OK\r\nCSeq: 2\r\n\r\n", mansrtsp.NewResponse(2, 200)},
		{"LF, no CSeq, extra headers", "RTSP/1.0 200 OK\nRTP-Info: seq=1\ncseq: 9\n", &mansrtsp.Response{
			Version: "RTSP/1.0", StatusCode: 200, Reason: "OK", CSeq: 9, HasCSeq: true,
			Headers: []mansrtsp.Header{{Name: "RTP-Info", Value: "seq=1"}},
		}},
		{"no reason, no CSeq", "MANSRTSP/1.0   457  ", &mansrtsp.Response{Version: "MANSRTSP/1.0", StatusCode: 457}},
		{"long reason", "RTSP/1.0 455  Method Not Valid in This State \r\nCSeq: 4\r\nCSeq: 5\r\n", &mansrtsp.Response{
			Version: "RTSP/1.0", StatusCode: 455, Reason: "Method Not Valid in This State", CSeq: 4, HasCSeq: true,
			Headers: []mansrtsp.Header{{Name: "CSeq", Value: "5"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mansrtsp.ParseResponse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			again, err := mansrtsp.ParseResponse(got.Marshal())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip: %+v, %v", again, err)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", mansrtsp.ErrEmpty},
		{"request", "PLAY RTSP/1.0\r\nCSeq: 1\r\n", mansrtsp.ErrBadVersion},
		{"http", "HTTP/1.1 200 OK\r\n", mansrtsp.ErrBadVersion},
		{"no code", "RTSP/1.0\r\n", mansrtsp.ErrBadStatus},
		{"short code", "RTSP/1.0 20 OK\r\n", mansrtsp.ErrBadStatus},
		{"text code", "RTSP/1.0 abc OK\r\n", mansrtsp.ErrBadStatus},
		{"leading zero code", "RTSP/1.0 099 OK\r\n", mansrtsp.ErrBadStatus},
		{"bad CSeq", "RTSP/1.0 200 OK\r\nCSeq: x\r\n", mansrtsp.ErrBadCSeq},
		{"bad header", "RTSP/1.0 200 OK\r\nnonsense\r\n", mansrtsp.ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := mansrtsp.ParseResponse([]byte(tt.in))
			if !errors.Is(err, tt.want) || r != nil {
				t.Fatalf("ParseResponse = %+v, %v; want %v", r, err, tt.want)
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	for code, want := range map[int]string{
		200: "OK", 400: "Bad Request", 454: "Session Not Found", 455: "Method Not Valid in This State",
		457: "Invalid Range", 500: "Internal Server Error", 501: "Not Implemented", 299: "",
	} {
		if got := mansrtsp.StatusText(code); got != want {
			t.Errorf("StatusText(%d) = %q", code, got)
		}
	}
}
