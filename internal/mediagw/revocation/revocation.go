// Package revocation ends the video of users whose play tokens the console
// revoked after issuing them: a user disabled, deleted, given another role
// or department, or whose sessions an admin revoked. A play token is valid
// until it expires and mediagw checks it only when a viewer opens, so
// without this a disabled user's WHEP, HLS, RTSP and unit feed viewers
// would play on.
//
// Every Interval the Watch lists the viewer sessions of the outputs (WHEP,
// RTSP and HLS sessions, unit feeds, each with the play token it was
// admitted with) and asks the console (auditapi.PathViewersCheck) which of
// their users' tokens are revoked. It ends those sessions (the other viewers of the same stream
// play on) and refuses their tokens from then on (Admit), so a player's
// next request fails too. It asks nothing while there are no viewers, and
// an unreachable console cuts nobody: the failure is logged and counted,
// and the next round asks again.
package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
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

// Checker asks the console which viewers hold revoked tokens
// (mediagw.AuditClient). It gets at most auditapi.MaxViewers viewers.
type Checker interface {
	CheckViewers(ctx context.Context, viewers []auditapi.Viewer) ([]auditapi.Viewer, error)
}

// Output lists the viewer sessions of an output (whep, rtsp, hls and feed
// Servers).
type Output interface {
	Viewers() []access.Viewer
}

// Stats are the Watch's counters for metrics.
type Stats struct {
	// Checks and Failed count the calls asking the console and those of
	// them that got no answer.
	Checks, Failed uint64
	// Revoked counts the tokens found revoked, Ended the viewer sessions
	// ended for them.
	Revoked, Ended uint64
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

// Watch ends the viewer sessions of revoked play tokens. Only tokens of
// users (playtoken.Claims.Revocable) are asked about.
type Watch struct {
	// Checker asks the console.
	Checker Checker
	// Signer reads the viewers' tokens.
	Signer *playtoken.Signer
	// Outputs are the outputs whose viewers are watched.
	Outputs []Output
	// Interval is the time between two rounds; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds one round's calls; 0 means DefaultTimeout.
	Timeout time.Duration
	// Log receives the revocations and the failed rounds.
	Log *slog.Logger
	// Tick starts the rounds; nil means a time.Ticker of Interval (tests
	// send their own ticks).
	Tick <-chan time.Time
	// Now is the clock of the tokens' expiry; nil means time.Now.
	Now func() time.Time

	// mu guards revoked and stats; Admit and Revoke may be called before
	// Initialize (the gateway serves as the outputs start).
	mu sync.Mutex
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
	if w.Checker == nil || w.Signer == nil {
		return fmt.Errorf("initialize revocation watch: %w: a checker and a signer are required", ErrInvalid)
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

// Admit refuses (ErrRevoked) a token found revoked; the gateway asks on
// every request it authorizes.
func (w *Watch) Admit(c playtoken.Claims) error {
	if !c.Revocable() {
		return nil
	}
	w.mu.Lock()
	_, revoked := w.revoked[keyOf(c)]
	w.mu.Unlock()
	if revoked {
		return fmt.Errorf("%w: %s's token of %s", ErrRevoked, c.Subject, time.Unix(c.IssuedAt, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// Revoke records c as revoked, as the console said when it refused a media
// open (auditapi.ErrRevoked); its sessions end at the next round.
func (w *Watch) Revoke(c playtoken.Claims) {
	if !c.Revocable() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recordLocked(keyOf(c), c.Expires)
}

// recordLocked records k as revoked; w.mu held.
func (w *Watch) recordLocked(k key, exp int64) {
	if _, ok := w.revoked[k]; !ok {
		w.stats.Revoked++
	}
	if w.revoked == nil {
		w.revoked = make(map[key]int64)
	}
	w.revoked[k] = max(w.revoked[k], exp)
}

// Stats returns the counters.
func (w *Watch) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// watched is the viewer sessions holding one key, and the latest expiry
// of their tokens.
type watched struct {
	ends []func()
	exp  int64
}

// round asks the console about the tokens of the outputs' viewers and ends
// the sessions of the revoked ones.
func (w *Watch) round() {
	byKey := w.viewers()
	w.forget()
	if len(byKey) == 0 {
		return // no viewer: nothing to ask
	}
	revoked := make(map[key]bool)
	w.mu.Lock()
	for k := range byKey {
		if _, ok := w.revoked[k]; ok {
			revoked[k] = true // revoked by a refused media open
		}
	}
	w.mu.Unlock()
	keys := make([]key, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	ctx, cancel := context.WithTimeout(w.ctx, w.Timeout)
	defer cancel()
	for start := 0; start < len(keys); start += auditapi.MaxViewers {
		batch := keys[start:min(start+auditapi.MaxViewers, len(keys))]
		viewers := make([]auditapi.Viewer, len(batch))
		for i, k := range batch {
			viewers[i] = k.viewer()
		}
		answer, err := w.Checker.CheckViewers(ctx, viewers)
		w.mu.Lock()
		w.stats.Checks++
		if err != nil {
			w.stats.Failed++
		}
		w.mu.Unlock()
		if err != nil {
			w.Log.Warn("cannot check viewers' play tokens with the console; nobody is cut",
				"viewers", len(keys), "error", err)
			break
		}
		for _, v := range answer {
			// The console answers about what was asked only.
			if k := (key{v.User, v.IssuedAt.Unix()}); byKey[k] != nil {
				revoked[k] = true
			}
		}
	}
	w.end(revoked, byKey)
}

// viewers groups the outputs' viewer sessions by the key of their token;
// service tokens and sessions without a token are left out.
func (w *Watch) viewers() map[key]*watched {
	now := w.Now()
	claims := make(map[string]playtoken.Claims) // each token parsed once
	byKey := make(map[key]*watched)
	for _, o := range w.Outputs {
		for _, v := range o.Viewers() {
			if v.Token == "" {
				continue
			}
			c, ok := claims[v.Token]
			if !ok {
				var err error
				// An expired token is still read: expiry ends nothing
				// already playing, revocation does.
				if c, err = w.Signer.Parse(v.Token, now); err != nil && !errors.Is(err, playtoken.ErrExpired) {
					continue
				}
				claims[v.Token] = c
			}
			if !c.Revocable() {
				continue
			}
			k := keyOf(c)
			if byKey[k] == nil {
				byKey[k] = &watched{}
			}
			byKey[k].ends = append(byKey[k].ends, v.End)
			byKey[k].exp = max(byKey[k].exp, c.Expires)
		}
	}
	return byKey
}

// forget drops the revoked tokens long expired: Admit's signer refuses
// them anyway.
func (w *Watch) forget() {
	limit := w.Now().Add(-forgetAfter).Unix()
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, exp := range w.revoked {
		if exp < limit {
			delete(w.revoked, k)
		}
	}
}

// end records keys as revoked and ends their viewer sessions.
func (w *Watch) end(keys map[key]bool, byKey map[key]*watched) {
	if len(keys) == 0 {
		return
	}
	ended := 0
	w.mu.Lock()
	for k := range keys {
		w.recordLocked(k, byKey[k].exp)
		ended += len(byKey[k].ends)
	}
	w.stats.Ended += uint64(ended)
	w.mu.Unlock()
	for k := range keys {
		w.Log.Warn("play token revoked: its viewers are ended and it opens nothing more", "user", k.user,
			"issued_at", time.Unix(k.iat, 0).UTC().Format(time.RFC3339), "viewers", len(byKey[k].ends))
		for _, end := range byKey[k].ends {
			end()
		}
	}
}
