package sipserver

import (
	"reflect"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/mansrtsp"
)

// TestUpControls: a superior's MANSRTSP maps to our playback controls.
func TestUpControls(t *testing.T) {
	for _, tc := range []struct {
		body string
		want []upControl
	}{
		{"PAUSE RTSP/1.0\r\nCSeq: 1\r\nPauseTime: now\r\n\r\n", []upControl{{action: "pause"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 2\r\nRange: npt=now-\r\n\r\n", []upControl{{action: "resume"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 3\r\n\r\n", []upControl{{action: "resume"}}},
		{"PLAY RTSP/1.0\r\nCSeq: 4\r\nScale: 0.5\r\n\r\n", []upControl{{action: "scale", scale: 0.5}}},
		{"PLAY RTSP/1.0\r\nCSeq: 5\r\nScale: 64\r\n\r\n", []upControl{{action: "scale", scale: 16}}},
		{"PLAY RTSP/1.0\r\nCSeq: 6\r\nRange: npt=90.5-\r\n\r\n", []upControl{{action: "seek", position: 90500 * time.Millisecond}}},
		{
			"PLAY MANSRTSP/1.0\r\nCSeq: 7\r\nRange: npt=10-\r\nScale: 2.0\r\n\r\n",
			[]upControl{{action: "seek", position: 10 * time.Second}, {action: "scale", scale: 2}},
		},
	} {
		r, err := mansrtsp.ParseRequest([]byte(tc.body))
		if err != nil {
			t.Fatalf("%q: %v", tc.body, err)
		}
		if got := upControls(r); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.body, got, tc.want)
		}
	}
}

// TestUpSpeed: a superior's download speed becomes one devices take.
func TestUpSpeed(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 7: 4, 8: 8, 16: 8, 255: 8} {
		if got := upSpeed(in); got != want {
			t.Errorf("upSpeed(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestSIPStatusOf: errors of ours and the device's become the SIP answer
// a superior gets.
func TestSIPStatusOf(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{&RejectedError{Method: "INVITE", Code: 486, Reason: "Busy Here"}, 486},
		{&RejectedError{Method: "INFO", Code: 481, Reason: "Call Does Not Exist"}, 502},
		{&RejectedError{Method: "INVITE", Code: 401, Reason: "Unauthorized"}, 502},
		{ErrNoSession, 404},
		{ErrOffline, 480},
		{badRequest("t= 0 0"), 400},
		{ErrTimeout, 408},
		{ErrMediaUnavailable, 503},
	} {
		if code, _ := sipStatusOf(tc.err); code != tc.code {
			t.Errorf("%v: %d, want %d", tc.err, code, tc.code)
		}
	}
}
