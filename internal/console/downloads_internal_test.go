package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store"
)

// TestDownloadsCloseWaitsForStart checks that Close waits for a Start in
// flight (one whose sipserver call is still open) instead of letting it
// start a recorder after Close returned: the Start is refused with
// ErrShuttingDown and its session ended before Close returns.
func TestDownloadsCloseWaitsForStart(t *testing.T) {
	created := make(chan struct{})
	proceed := make(chan struct{})
	var (
		mu    sync.Mutex
		calls []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Method == http.MethodPost && r.URL.Path == "/internal/v1/sessions" {
			close(created)
			<-proceed
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"download-1","kind":"download","path":"download/download-1","state":"active"}`)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	signer, err := playtoken.NewSigner([]byte("play-secret-0123456789-0123456789-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	d := &Downloads{
		Dir: t.TempDir(), FFmpeg: "ffmpeg", RTSPURL: "rtsp://127.0.0.1:8554", Signer: signer,
		Sip: &sipapi.Client{BaseURL: srv.URL, Token: "service-token-0123456789", Timeout: sipCallTimeout}, Log: slog.New(slog.DiscardHandler),
	}
	if err := d.Initialize(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	started := make(chan error, 1)
	go func() {
		_, err := d.Start(context.Background(), "olga", store.Channel{ID: "34020000001310000001"}, start, start.Add(time.Hour), 1, nil)
		started <- err
	}()
	<-created
	closed := make(chan struct{})
	go func() {
		d.Close()
		close(closed)
	}()
	// Close has begun (and waits) before sipserver answers the Start.
	deadline, bounded := t.Deadline()
	for d.ctx.Err() == nil {
		if bounded && time.Now().After(deadline.Add(-10*time.Second)) {
			close(proceed)
			t.Fatal("Close did not begin before the test's deadline")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(proceed)
	<-closed
	mu.Lock()
	ended := slices.Contains(calls, "DELETE /internal/v1/sessions/download-1")
	mu.Unlock()
	if !ended {
		t.Errorf("Close returned before the Start in flight ended its session: sipserver got %v", calls)
	}
	if err := <-started; !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Start in flight during Close: %v, want ErrShuttingDown", err)
	}
	if _, err := d.Start(context.Background(), "olga", store.Channel{ID: "34020000001310000001"}, start, start.Add(time.Hour), 1, nil); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Start after Close: %v, want ErrShuttingDown", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(calls); n != 2 {
		t.Errorf("sipserver got %v, want the one session made and ended", calls)
	}
}
