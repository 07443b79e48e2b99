package mansrtsp_test

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

func TestBuilderGolden(t *testing.T) {
	var b2016 mansrtsp.Builder
	b2011 := mansrtsp.Builder{Dialect: mansrtsp.Dialect2011}
	compact := mansrtsp.Builder{CompactScale: true}
	must := func(r *mansrtsp.Request, err error) *mansrtsp.Request {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name string
		req  *mansrtsp.Request
		want string
	}{
		{"resume", b2016.Play(2), "PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=now-\r\n"},
		{"pause", b2016.Pause(3), "PAUSE RTSP/1.0\r\nCSeq: 3\r\nPauseTime: now\r\n"},
		{"scale", must(b2016.Scale(4, 2)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 2.000000\r\n"},
		{"scale quarter", must(b2016.Scale(4, 0.25)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.250000\r\n"},
		{"scale reverse", must(b2016.Scale(4, -1)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: -1.000000\r\n"},
		{"scale beyond %.6f", must(b2016.Scale(4, 0.0000001)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.0000001\r\n"},
		{"scale compact", must(compact.Scale(4, 2)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 2.0\r\n"},
		{"scale compact fraction", must(compact.Scale(4, 0.5)), "PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.5\r\n"},
		{"seek", must(b2016.Seek(5, 125*time.Second)), "PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=125-\r\n"},
		{"seek zero", must(b2016.Seek(5, 0)), "PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=0-\r\n"},
		{"seek fractional", must(b2016.Seek(5, 125500*time.Millisecond)), "PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=125.5-\r\n"},
		{"seek ns", must(b2016.Seek(5, time.Second+time.Nanosecond)), "PLAY RTSP/1.0\r\nCSeq: 5\r\nRange: npt=1.000000001-\r\n"},
		{"teardown", b2016.Teardown(6), "TEARDOWN RTSP/1.0\r\nCSeq: 6\r\n"},
		{"2011 pause", b2011.Pause(7), "PAUSE MANSRTSP/1.0\r\nCSeq: 7\r\n"},
		{"2011 resume", b2011.Play(8), "PLAY MANSRTSP/1.0\r\nCSeq: 8\r\nRange: npt=now-\r\n"},
		{"2011 teardown", b2011.Teardown(9), "TEARDOWN MANSRTSP/1.0\r\nCSeq: 9\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.req.Marshal())
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			back, err := mansrtsp.ParseRequest([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			// CompactScale is a writing choice, not part of the message.
			back.CompactScale = tt.req.CompactScale
			if !reflect.DeepEqual(back, tt.req) {
				t.Fatalf("parse(marshal) = %+v, want %+v", back, tt.req)
			}
		})
	}
}

func TestBuilderInvalid(t *testing.T) {
	var b mansrtsp.Builder
	if _, err := b.Seek(1, -time.Second); !errors.Is(err, mansrtsp.ErrInvalidArgument) {
		t.Errorf("negative seek: %v", err)
	}
	for _, x := range []float64{0, math.Inf(1), math.Inf(-1), math.NaN()} {
		if _, err := b.Scale(1, x); !errors.Is(err, mansrtsp.ErrInvalidArgument) {
			t.Errorf("scale %v: %v", x, err)
		}
	}
}
