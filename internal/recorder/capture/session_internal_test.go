package capture

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
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

// TestSessionNoData: a feed that goes quiet ends the session after the
// read timeout with ErrNoData, which the gap's detail shows.
func TestSessionNoData(t *testing.T) {
	quiet := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fw := unitfeed.NewWriter(w, 1024)
		_ = fw.WriteHeader(unitfeed.Header{Tracks: []string{unitfeed.CodecH264}})
		_ = fw.WriteUnit(unitfeed.Unit{Key: true, Payload: []byte{0, 0, 0, 1, 0x65, 0x88}})
		_ = fw.Flush()
		w.(http.Flusher).Flush()
		select { // then nothing, until the client or the test leaves
		case <-r.Context().Done():
		case <-quiet:
		}
	}))
	defer srv.Close()
	defer close(quiet)
	const timeout = 200 * time.Millisecond
	s, err := openSession(context.Background(), feedURL(srv.URL, "34020000001310000001", "x"), timeout, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := s.next(); err != nil {
		t.Fatalf("the unit sent: %v", err)
	}
	if _, err := s.next(); !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), timeout.String()) {
		t.Fatalf("a quiet feed: %v, want ErrNoData after %s", err, timeout)
	}
}
