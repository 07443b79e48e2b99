package mediagw

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
)

// webhookQueue bounds the events waiting for delivery; beyond it events are
// dropped (and counted) rather than slowing the gateway down.
const webhookQueue = 1024

// webhookAttempts is how often one event is tried.
const webhookAttempts = 3

// Webhook POSTs each event as JSON to URL, in order, from one goroutine.
// With a Secret, the body is signed: X-Sharpeyes-Signature: sha256=<hex
// HMAC-SHA256 of the body>.
type Webhook struct {
	// URL receives the events.
	URL string
	// Secret signs the bodies; empty sends them unsigned.
	Secret string
	// Events filters the event types; empty sends all.
	Events []string
	// Timeout bounds one attempt.
	Timeout time.Duration
	// Log receives delivery failures.
	Log *slog.Logger

	queue  chan Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	delivered, failed, dropped atomic.Uint64
	lastErr                    atomic.Value // string
}

// Initialize starts the delivery goroutine.
func (w *Webhook) Initialize() error {
	if w.Timeout <= 0 {
		w.Timeout = 5 * time.Second
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	w.queue = make(chan Event, webhookQueue)
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.done = make(chan struct{})
	go w.run()
	return nil
}

// Close stops delivering; queued events are dropped.
func (w *Webhook) Close() {
	w.cancel()
	<-w.done
}

// Emit queues e without blocking.
func (w *Webhook) Emit(e Event) {
	if len(w.Events) > 0 && !slices.Contains(w.Events, e.Type) {
		return
	}
	select {
	case w.queue <- e:
	default:
		if w.dropped.Add(1)%100 == 1 {
			w.Log.Warn("webhook queue full, dropping events", "url", w.URL, "dropped", w.dropped.Load())
		}
	}
}

// Stats returns the counters.
func (w *Webhook) Stats() mediaapi.WebhookStats {
	s := mediaapi.WebhookStats{
		URL: w.URL, Events: w.Events, Signed: w.Secret != "",
		Delivered: w.delivered.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load(), Queued: len(w.queue),
	}
	if e, ok := w.lastErr.Load().(string); ok {
		s.LastError = e
	}
	return s
}

func (w *Webhook) run() {
	defer close(w.done)
	for {
		select {
		case e := <-w.queue:
			w.deliver(e)
		case <-w.ctx.Done():
			return
		}
	}
}

func (w *Webhook) deliver(e Event) {
	body, err := json.Marshal(e)
	if err != nil {
		return
	}
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := w.post(body)
		if err == nil {
			w.delivered.Add(1)
			return
		}
		if attempt == webhookAttempts {
			w.failed.Add(1)
			w.lastErr.Store(err.Error())
			w.Log.Warn("webhook delivery failed", "url", w.URL, "event", e.Type, "path", e.Path, "attempts", attempt, "error", err)
			return
		}
		select {
		case <-time.After(backoff):
			backoff *= 2
		case <-w.ctx.Done():
			return
		}
	}
}

func (w *Webhook) post(body []byte) error {
	ctx, cancel := context.WithTimeout(w.ctx, w.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if w.Secret != "" {
		m := hmac.New(sha256.New, []byte(w.Secret))
		m.Write(body)
		req.Header.Set("X-Sharpeyes-Signature", "sha256="+hex.EncodeToString(m.Sum(nil)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
