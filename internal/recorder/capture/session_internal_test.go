package capture

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestOpenSessionHidesToken: a stream URL the RTSP parser refuses gives an
// error without the URL, whose play token would reach the log and the
// gap's detail.
func TestOpenSessionHidesToken(t *testing.T) {
	for _, raw := range []string{
		streamURL("rtsp://[::1", "34020000001310000001", "secret-token"),
		"rtsp://127.0.0.1:8554/live/x?token=secret-token%zz",
		"\x00rtsp://h/live/x?token=secret-token",
	} {
		_, err := openSession(context.Background(), raw, time.Second)
		if err == nil {
			t.Fatalf("%q: opened", raw)
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%q: the error shows the token: %v", raw, err)
		}
	}
}
