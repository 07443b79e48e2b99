package mediaapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// seen is what the fake node received.
type seen struct{ method, uri, auth, body string }

// fakeNode answers every request with status and body (the JSON of answer)
// and keeps the last request.
type fakeNode struct {
	srv    *httptest.Server
	mu     sync.Mutex
	last   seen
	status int
	answer any
}

func newFakeNode(t *testing.T) *fakeNode {
	f := &fakeNode{status: http.StatusOK, answer: map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.last = seen{r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), string(b)}
		svcapi.WriteJSON(w, f.status, f.answer)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNode) got() seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fakeNode) answerWith(status int, answer any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status, f.answer = status, answer
}

// TestClient checks each call's method, path, token and body.
func TestClient(t *testing.T) {
	f := newFakeNode(t)
	c := &mediaapi.Client{BaseURL: f.srv.URL, Token: "tok", Timeout: time.Minute}
	ctx := t.Context()
	ssrc := "0100000001"
	const bearer = "Bearer tok"
	for _, tc := range []struct {
		name string
		call func() error
		want seen
	}{
		{"open", func() error {
			_, err := c.Open(ctx, mediaapi.OpenRequest{Path: "live/c1", SSRC: ssrc, Transport: mediaapi.TransportUDP})
			return err
		}, seen{"POST", "/internal/v1/receivers", bearer, `{"path":"live/c1","ssrc":"0100000001","transport":"udp","shared":false}`}},
		{"patch", func() error {
			_, err := c.Patch(ctx, "r/1", mediaapi.PatchRequest{SSRC: &ssrc})
			return err
		}, seen{"PATCH", "/internal/v1/receivers/r%2F1", bearer, `{"ssrc":"0100000001"}`}},
		{"connect", func() error {
			_, err := c.Connect(ctx, "r1", mediaapi.ConnectRequest{IP: "10.0.0.1", Port: 5000})
			return err
		}, seen{"POST", "/internal/v1/receivers/r1/connect", bearer, `{"ip":"10.0.0.1","port":5000}`}},
		{"close", func() error { return c.Close(ctx, "r1") }, seen{"DELETE", "/internal/v1/receivers/r1", bearer, ""}},
		{"receiver", func() error { _, err := c.Receiver(ctx, "r1"); return err }, seen{"GET", "/internal/v1/receivers/r1", bearer, ""}},
		{"receivers", func() error { _, err := c.Receivers(ctx); return err }, seen{"GET", "/internal/v1/receivers", bearer, ""}},
		{"streams", func() error { _, err := c.Streams(ctx); return err }, seen{"GET", "/internal/v1/streams", bearer, ""}},
		{
			"stream", func() error { _, err := c.Stream(ctx, "live/c 1"); return err },
			seen{"GET", "/internal/v1/streams/live/c%201", bearer, ""},
		},
		{"webhook", func() error { _, err := c.Webhook(ctx); return err }, seen{"GET", "/internal/v1/webhook", bearer, ""}},
		// The liveness route is open: no token goes with it.
		{"health", func() error { return c.Health(ctx) }, seen{"GET", "/healthz", "", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err != nil {
				t.Fatal(err)
			}
			if got := f.got(); got != tc.want {
				t.Errorf("sent %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestClientErrors: mediagw's codes reach the caller as sentinels, and a
// client without a token makes no control call.
func TestClientErrors(t *testing.T) {
	f := newFakeNode(t)
	c := &mediaapi.Client{BaseURL: f.srv.URL, Token: "tok"}
	ctx := t.Context()

	f.answerWith(http.StatusConflict, svcapi.Error{Error: "live/c1 has a receiver", Code: mediaapi.CodePathBusy})
	if _, err := c.Open(ctx, mediaapi.OpenRequest{Path: "live/c1"}); !errors.Is(err, mediaapi.ErrPathBusy) {
		t.Errorf("path busy: %v, want ErrPathBusy", err)
	}

	if _, err := (&mediaapi.Client{BaseURL: f.srv.URL}).Receivers(ctx); !errors.Is(err, svcapi.ErrUnreachable) {
		t.Errorf("no token: %v, want ErrUnreachable", err)
	}
}

// TestClientHealth: Health needs no token, reports a failing node's answer
// and a node that does not answer as unreachable.
func TestClientHealth(t *testing.T) {
	f := newFakeNode(t)
	ctx := t.Context()
	noToken := &mediaapi.Client{BaseURL: f.srv.URL}
	if err := noToken.Health(ctx); err != nil {
		t.Fatalf("healthy node without a token: %v", err)
	}

	f.answerWith(http.StatusServiceUnavailable, svcapi.Error{Error: "stopping", Code: svcapi.CodeUnavailable})
	err := noToken.Health(ctx)
	var se *svcapi.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusServiceUnavailable {
		t.Errorf("failing node: %v, want its 503", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := noToken.Health(cancelled); !errors.Is(err, svcapi.ErrUnreachable) {
		t.Errorf("no answer: %v, want ErrUnreachable", err)
	}
}
