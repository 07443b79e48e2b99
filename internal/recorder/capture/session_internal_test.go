package capture

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOpenSessionHidesToken: a stream URL that cannot be parsed or reached,
// or that mediagw refuses, gives an error without the URL, whose play
// token would reach the log and the gap's detail.
func TestOpenSessionHidesToken(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
	}))
	defer refuse.Close()
	for _, raw := range []string{
		feedURL("http://[::1", "34020000001310000001", "secret-token"),
		"http://127.0.0.1:8888/feed/live/x?token=secret-token%zz",
		"\x00http://h/feed/live/x?token=secret-token",
		feedURL("http://127.0.0.1:1", "34020000001310000001", "secret-token"),
		feedURL(refuse.URL, "34020000001310000001", "secret-token"),
	} {
		_, err := openSession(context.Background(), raw, time.Second, time.Now)
		if err == nil {
			t.Fatalf("%q: opened", raw)
		}
		if strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%q: the error shows the token: %v", raw, err)
		}
	}
}

func TestScalePTS(t *testing.T) {
	for _, tc := range []struct{ in, rate, want int64 }{
		{0, 8000, 0},
		{90000, 8000, 8000},
		{1800, 8000, 160},
		{1, 8000, 0},
		{-1, 8000, -1},
		{-90000, 48000, -48000},
		{90000 * 3600 * 24, 44100, 44100 * 3600 * 24},
	} {
		if got := scalePTS(tc.in, tc.rate); got != tc.want {
			t.Errorf("scalePTS(%d, %d) = %d, want %d", tc.in, tc.rate, got, tc.want)
		}
	}
}
