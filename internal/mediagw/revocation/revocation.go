// Package revocation ends the video of users whose play tokens the console
// revoked after issuing them: a user disabled, deleted, given another role
// or department, or whose sessions an admin revoked. A play token is valid
// until it expires and mediagw checks it only when a viewer opens, so
// without this a disabled user's WHEP, HLS and RTSP viewers would play on.
//
// The Watch learns the tokens of the viewers mediagw serves (Admit for
// every authorized request, Track for every hub reader) and every Interval
// asks the console (auditapi.PathViewersCheck) which of them are revoked.
// It closes the readers of those (the outputs end: WHEP and RTSP sessions
// close, an HLS muxer stops) and refuses their tokens from then on, so an
// HLS player's next request fails too. It asks nothing while there are no
// viewers, and an unreachable console cuts nobody: the failure is logged
// and counted, and the next round asks again.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
)

// Defaults of Watch.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 3 * time.Second
)

// forgetAfter is how long past its expiry a revoked token is remembered:
// longer than any signer's leeway, after which the token is refused anyway.
const forgetAfter = time.Minute

// ErrRevoked is the error of Admit and Track for a revoked token.
var ErrRevoked = errors.New("revocation: play token revoked")

// Checker asks the console which viewers hold revoked tokens
// (mediagw.AuditClient). It gets at most auditapi.MaxViewers viewers.
type Checker interface {
	CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error)
}

// Stats are the Watch's counters for metrics.
type Stats struct {
	// Checks and Failed count the rounds that asked the console and those
	// of them that got no answer.
	Checks, Failed uint64
	// Revoked counts the tokens found revoked, Closed the readers closed.
	Revoked, Closed uint64
	// Tracked is the number of readers watched now.
	Tracked int
}

// key names a token as the console decides on it: user and issue time.
type key struct {
	user string
	iat  int64
}

func keyOf(c playtoken.Claims) key { return key{c.Subject, c.IssuedAt} }

func (k key) viewer() auditapi.Viewer {
	return auditapi.Viewer{User: k.user, IssuedAt: time.Unix(k.iat, 0).UTC()}
}

// tracked is a watched reader and its token's key.
type tracked struct {
	key key
	exp int64
}

// Watch closes the viewers of revoked play tokens. Only tokens of users
// (playtoken.Claims.Revocable) are watched.
type Watch struct {
	// Checker asks the console.
	Checker Checker
	// Interval is the time between two rounds; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds one round's calls; 0 means DefaultTimeout.
	Timeout time.Duration
	// Log receives the revocations and the failed rounds.
	Log *slog.Logger
	// Tick starts the rounds; nil means a time.Ticker of Interval (tests
	// send their own ticks).
	Tick <-chan time.Time
	// Now is the clock that expires remembered revocations; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex
	// seen holds the tokens presented since the last round, by key, with
	// their latest expiry.
	seen    map[key]int64
	readers map[*hub.Reader]tracked
	// revoked holds the tokens found revoked, with their expiry.
	revoked map[key]int64
	stats   Stats

	ticker *time.Ticker
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Initialize checks the configuration and starts the run goroutine.
func (w *Watch) Initialize() error {
	if w.Checker == nil {
		return fmt.Errorf("initialize revocation watch: no checker")
	}
	if w.Interval <= 0 {
		w.Interval = DefaultInterval
	}
	if w.Timeout <= 0 {
		w.Timeout = DefaultTimeout
	}
	if w.Log == nil {
		w.Log = slog.New(slog.DiscardHandler)
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Tick == nil {
		w.ticker = time.NewTicker(w.Interval)
		w.Tick = w.ticker.C
	}
	w.seen = make(map[key]int64)
	w.readers = make(map[*hub.Reader]tracked)
	w.revoked = make(map[key]int64)
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.done = make(chan struct{})
	go w.run()
	return nil
}

// Close stops the rounds (one under way is cancelled) and waits for them.
func (w *Watch) Close() {
	w.cancel()
	<-w.done
	if w.ticker != nil {
		w.ticker.Stop()
	}
}

func (w *Watch) run() {
	defer close(w.done)
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.Tick:
			w.round()
		}
	}
}

// Admit records a token a viewer presented and refuses it (ErrRevoked)
// when it was found revoked. Tokens of no user pass unrecorded.
func (w *Watch) Admit(c playtoken.Claims) error {
	if !c.Revocable() {
		return nil
	}
	k := keyOf(c)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.revoked[k]; ok {
		return fmt.Errorf("%w: %s's token of %s", ErrRevoked, c.Subject, time.Unix(c.IssuedAt, 0).UTC().Format(time.RFC3339))
	}
	w.seen[k] = max(w.seen[k], c.Expires)
	return nil
}

// Track watches r, the reader of a viewer holding c, until it ends: it is
// closed once c is found revoked. A token already revoked is ErrRevoked
// and r is not taken.
func (w *Watch) Track(r *hub.Reader, c playtoken.Claims) error {
	if !c.Revocable() {
		return nil
	}
	k := keyOf(c)
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.revoked[k]; ok {
		return fmt.Errorf("%w: %s's token of %s", ErrRevoked, c.Subject, time.Unix(c.IssuedAt, 0).UTC().Format(time.RFC3339))
	}
	w.readers[r] = tracked{key: k, exp: c.Expires}
	return nil
}

// Revoke records c as revoked, as the console said when it refused a media
// open (auditapi.ErrRevoked), and closes the readers holding it.
func (w *Watch) Revoke(c playtoken.Claims) {
	if !c.Revocable() {
		return
	}
	w.closeRevoked(map[key]int64{keyOf(c): c.Expires})
}

// Stats returns the counters.
func (w *Watch) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stats
	s.Tracked = len(w.readers)
	return s
}

// round asks the console about the tokens of the live readers and those
// presented since the last round, and closes the revoked ones' readers.
func (w *Watch) round() {
	ask := w.collect()
	if len(ask) == 0 {
		return // no viewer: nothing to ask
	}
	keys := make([]key, 0, len(ask))
	for k := range ask {
		keys = append(keys, k)
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.Timeout)
	defer cancel()
	found := make(map[key]int64)
	for start := 0; start < len(keys); start += auditapi.MaxViewers {
		batch := keys[start:min(start+auditapi.MaxViewers, len(keys))]
		viewers := make([]auditapi.Viewer, len(batch))
		for i, k := range batch {
			viewers[i] = k.viewer()
		}
		revoked, err := w.Checker.CheckViewers(ctx, viewers)
		w.mu.Lock()
		w.stats.Checks++
		if err != nil {
			w.stats.Failed++
			// Asked again next round: readers stay tracked, and the tokens
			// seen in this round are kept.
			for k, exp := range ask {
				w.seen[k] = max(w.seen[k], exp)
			}
		}
		w.mu.Unlock()
		if err != nil {
			w.Log.Warn("cannot check viewers' play tokens with the console; nobody is cut",
				"viewers", len(keys), "error", err)
			break
		}
		for _, v := range revoked {
			k := key{v.User, v.IssuedAt.Unix()}
			if exp, ok := ask[k]; ok { // the console answers about what was asked only
				found[k] = exp
			}
		}
	}
	if len(found) > 0 {
		w.closeRevoked(found)
	}
}

// collect returns the keys to ask about, with their expiry: those of the
// live readers and those presented since the last round. It forgets the
// readers that ended and the revoked tokens long expired.
func (w *Watch) collect() map[key]int64 {
	now := w.Now().Add(-forgetAfter).Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, exp := range w.revoked {
		if exp < now {
			delete(w.revoked, k)
		}
	}
	ask := w.seen
	w.seen = make(map[key]int64)
	for r, t := range w.readers {
		if r.Err() != nil {
			delete(w.readers, r)
			continue
		}
		ask[t.key] = max(ask[t.key], t.exp)
	}
	return ask
}

// closeRevoked records keys as revoked and closes their readers.
func (w *Watch) closeRevoked(keys map[key]int64) {
	closing := make(map[*hub.Reader]key)
	w.mu.Lock()
	for k, exp := range keys {
		if _, ok := w.revoked[k]; !ok {
			w.stats.Revoked++
		}
		w.revoked[k] = max(w.revoked[k], exp)
		delete(w.seen, k)
	}
	for r, t := range w.readers {
		if _, ok := keys[t.key]; ok {
			closing[r] = t.key
			delete(w.readers, r)
		}
	}
	w.stats.Closed += uint64(len(closing))
	w.mu.Unlock()
	for k := range keys {
		w.Log.Warn("play token revoked: its viewers are closed and it opens nothing more", "user", k.user,
			"issued_at", time.Unix(k.iat, 0).UTC().Format(time.RFC3339))
	}
	// Closed outside mu: the hub takes its stream's lock and logs.
	for r, k := range closing {
		w.Log.Info("viewer closed: play token revoked", "path", r.Path(), "reader", r.Name(), "user", k.user)
		r.Close()
	}
}
