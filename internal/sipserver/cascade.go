package sipserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/sipserver/uplink"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/cascadeview"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// restoreRetry is how soon taking back the last run's upward sessions is
// tried again when the database or mediagw did not answer.
const restoreRetry = 5 * time.Second

// cascadeReload is how often the superior platforms are re-read even
// without a change notification (the listener may have missed one).
const cascadeReload = time.Minute

// cascadeStore is what cascadeLinks needs of the database.
type cascadeStore interface {
	Platforms(ctx context.Context) ([]cascadeview.Platform, error)
	SetPlatformStatus(ctx context.Context, id int64, st sipdb.PlatformStatus) error
	Listen(ctx context.Context, channels []string, fn func(channel, payload string)) error
	SaveUpwardSession(ctx context.Context, u sipdb.UpwardSession) error
	DeleteUpwardSession(ctx context.Context, callID string) error
	UpwardSessions(ctx context.Context) ([]sipdb.UpwardSession, error)
	PlatformNames(ctx context.Context, platform int64) ([]cascadeview.ExposedName, error)
	PlatformVirtualOrg(ctx context.Context, platform int64) (cascadeview.VirtualOrg, error)
}

// cascadeLinks runs one uplink.Link per enabled superior platform of
// cascade_platforms and follows its changes: a platform added or enabled
// is registered to, one changed is registered to again with the new
// settings, one disabled or deleted is unregistered from.
type cascadeLinks struct {
	Store cascadeStore
	// LocalID and LocalDomain: our SIP ID and domain, for platforms that
	// do not name another.
	LocalID, LocalDomain string
	// ContactHost and ContactPort are our SIP address for the superiors.
	ContactHost string
	ContactPort int
	Client      uplink.Requester
	// RequestTimeout bounds each SIP transaction of a link.
	RequestTimeout time.Duration
	// RetryMin and RetryMax bound a link's back-off (defaults 1 s, 1 min).
	RetryMin, RetryMax time.Duration
	Log                *slog.Logger
	Now                func() time.Time
	// Items returns a platform's slice of our catalog, as its Catalog
	// queries are answered.
	Items func(ctx context.Context, rl *runningLink) ([]manscdp.CatalogItem, error)
	// CloseUp stops an upward session (its link stopped) and, with bye,
	// tells its superior.
	CloseUp func(ctx context.Context, u *upSession, reason string, bye bool)
	// Restore takes back the upward sessions a previous run left, once
	// the links started (run at start, again until it reports done).
	Restore func(ctx context.Context) bool
	// Allowed reports whether an upward session's platform may still play
	// its channel (its grants now).
	Allowed func(ctx context.Context, u *upSession) bool

	mu    sync.Mutex
	links map[int64]*runningLink
	wake  chan struct{}
	// notifyWake asks for the shared catalogs to be compared (a change).
	notifyWake chan struct{}
	// ups are the upward sessions by Call-ID.
	ups map[string]*upSession
	// endedEarly are the platforms' playbacks and downloads that ended
	// before their upward session was recorded, by session ID.
	endedEarly map[string]endedSession
	// endedReplays are the paths of upward replays that ended lately:
	// mediagw's word that such a receiver ended may come after its
	// sender's, which ended the upward session.
	endedReplays map[string]time.Time
	// restored is closed once the last run's upward sessions were taken
	// back (Restore): a superior's BYE or INFO for one of them that comes
	// earlier waits for it.
	restored chan struct{}
}

func (c *cascadeLinks) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// runningLink is a link and the configuration it was started with.
type runningLink struct {
	cfg  cascadeview.Platform
	link *uplink.Link
	// ips are the superior's addresses: its requests come from one.
	ips []netip.Addr

	mu sync.Mutex
	// sub is the superior's catalog subscription, nil without one;
	// alarmSub and posSub its alarm and mobile-position subscriptions.
	sub              *upSubscription
	alarmSub, posSub *upEventSub
	// names is the platform's renumbering of our channels, nil before it
	// was read (cascade_names.go); vorg its virtual organisation
	// (cascade_vorg.go).
	names *platformNames
	vorg  *virtualOrg
	// told is what the superior knows of its slice: our last complete
	// Catalog answer and the NOTIFYs since; nil before the first answer.
	told map[string]manscdp.CatalogItem
}

func (c *cascadeLinks) initialize() {
	c.links = map[int64]*runningLink{}
	c.wake = make(chan struct{}, 1)
	c.notifyWake = make(chan struct{}, 1)
	c.ups = map[string]*upSession{}
	c.endedEarly = map[string]endedSession{}
	c.endedReplays = map[string]time.Time{}
	c.restored = make(chan struct{})
}

// waitRestored waits, at most d, for the last run's upward sessions to be
// taken back, and reports whether it had to (a lookup that missed before
// may find its session now).
func (c *cascadeLinks) waitRestored(d time.Duration) bool {
	select {
	case <-c.restored:
		return false
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.restored:
		return true
	case <-t.C:
		return false
	}
}

// poke asks for a reload.
func (c *cascadeLinks) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run follows the configuration until ctx ends, then unregisters every link.
func (c *cascadeLinks) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() {
		// A grant, a catalog or a status change may change what a
		// subscribed superior sees.
		channels := []string{store.ChannelCascade, store.ChannelCatalog, store.ChannelStatus}
		_ = c.Store.Listen(ctx, channels, func(channel, _ string) {
			// A platform written before the listener listened got no
			// notification to us: read them again once it does.
			if channel == store.ChannelCascade || channel == store.ChannelListening {
				c.poke()
			}
			c.pokeNotify()
		})
	})
	wg.Go(func() { c.runNotify(ctx) })
	t := time.NewTicker(cascadeReload)
	defer t.Stop()
	for restored := false; ; {
		// The last run's sessions are taken back once the links run: not
		// after a reload that failed (they would all look orphaned), and
		// again after restoreRetry until mediagw answered.
		if c.reload(ctx) && !restored && ctx.Err() == nil && c.Restore(ctx) {
			restored = true
			close(c.restored)
		}
		var retry <-chan time.Time
		var rt *time.Timer
		if !restored {
			rt = time.NewTimer(restoreRetry)
			retry = rt.C
		}
		select {
		case <-ctx.Done():
			if rt != nil {
				rt.Stop()
			}
			wg.Wait()
			c.closeAll()
			return
		case <-c.wake:
		case <-retry:
		case <-t.C:
			c.pokeNotify() // grants expire and daily hours end without a notification
		}
		if rt != nil {
			rt.Stop()
		}
	}
}

// closeAll stops every link at shutdown without unregistering and leaves
// the upward sessions running: their senders keep sending, their rows
// stay, and the next start takes them back (Restore). A restart of the
// sipserver is invisible to the superiors.
func (c *cascadeLinks) closeAll() {
	c.mu.Lock()
	links := c.links
	c.links, c.ups = map[int64]*runningLink{}, map[string]*upSession{}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, rl := range links {
		wg.Go(rl.link.Leave)
	}
	wg.Wait()
}

// link returns the running link of platform id, nil without one.
func (c *cascadeLinks) link(id int64) *runningLink {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.links[id]
}

// reload starts, restarts and stops links to match cascade_platforms,
// and reports whether it could read them.
func (c *cascadeLinks) reload(ctx context.Context) bool {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	ps, err := c.Store.Platforms(qctx)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			c.Log.Warn("read superior platforms", "err", err)
		}
		return false
	}
	want := make(map[int64]cascadeview.Platform, len(ps))
	for _, p := range ps {
		want[p.ID] = p
	}
	c.mu.Lock()
	var stop []*runningLink
	for id, rl := range c.links {
		if p, ok := want[id]; !ok || !p.Enabled || !sameLink(rl.cfg, p) {
			stop = append(stop, rl)
			delete(c.links, id)
		}
	}
	c.mu.Unlock()
	for _, rl := range stop {
		rl.link.Close()
		for _, u := range c.dropUps(rl) {
			c.CloseUp(ctx, u, "link_stopped", false)
		}
	}
	for _, p := range ps {
		if !p.Enabled {
			if p.Status != cascadeview.StatusDisabled {
				c.setStatus(ctx, p.ID, sipdb.PlatformStatus{Status: cascadeview.StatusDisabled, LocalID: c.localID(p)})
			}
			continue
		}
		c.mu.Lock()
		rl, running := c.links[p.ID]
		c.mu.Unlock()
		switch {
		case running:
			// A renumbering or virtual organisation changed, perhaps (their
			// triggers poked us).
			c.loadNames(ctx, rl)
		case ctx.Err() == nil:
			c.start(ctx, p)
		}
	}
	return true
}

// sameLink reports whether a running link's configuration still holds:
// anything but the name and the bookkeeping fields restarts it.
func sameLink(a, b cascadeview.Platform) bool {
	return a.ServerID == b.ServerID && a.Domain == b.Domain && a.Host == b.Host && a.Port == b.Port &&
		a.Transport == b.Transport && a.Password == b.Password && a.LocalID == b.LocalID &&
		a.GBVersion == b.GBVersion && a.Charset == b.Charset && a.Expires == b.Expires &&
		a.KeepaliveInterval == b.KeepaliveInterval && a.KeepaliveCount == b.KeepaliveCount
}

// localID is the SIP ID we register to p as.
func (c *cascadeLinks) localID(p cascadeview.Platform) string {
	if p.LocalID != "" {
		return p.LocalID
	}
	return c.LocalID
}

func (c *cascadeLinks) setStatus(ctx context.Context, id int64, st sipdb.PlatformStatus) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.Store.SetPlatformStatus(wctx, id, st); err != nil {
		c.Log.Warn("store the state of a cascade link", "platform_id", id, "err", err)
	}
}

// start begins the link to p.
func (c *cascadeLinks) start(ctx context.Context, p cascadeview.Platform) {
	local := c.localID(p)
	domain := c.LocalDomain
	if local != c.LocalID && len(local) >= 10 {
		domain = local[:10]
	}
	l := &uplink.Link{
		Target: uplink.Target{
			ServerID: p.ServerID, Domain: p.Domain, Addr: net.JoinHostPort(p.Host, strconv.Itoa(p.Port)),
			Transport: p.Transport, Password: p.Password, Charset: p.Charset, GBVersion: p.GBVersion,
			Expires: time.Duration(p.Expires) * time.Second, KeepaliveInterval: time.Duration(p.KeepaliveInterval) * time.Second,
			KeepaliveCount: p.KeepaliveCount,
		},
		LocalID: local, LocalDomain: domain, ContactHost: c.ContactHost, ContactPort: c.ContactPort,
		Client: c.Client, RequestTimeout: c.RequestTimeout, RetryMin: c.RetryMin, RetryMax: c.RetryMax,
		Log: c.Log.With("platform_id", p.ID), Now: c.Now,
	}
	id := p.ID
	l.Report = func(st uplink.Status) { c.setStatus(ctx, id, c.linkStatus(id, local, st)) }
	// In the table before it registers: the superior queries us at once.
	rl := &runningLink{cfg: p, link: l, ips: resolveIPs(ctx, p.Host)}
	if !c.loadNames(ctx, rl) {
		// Registered without its renumbering, the superior would be shown
		// our own IDs: the next reload tries again.
		c.setStatus(ctx, id, sipdb.PlatformStatus{
			Status: cascadeview.StatusFailing, LocalID: local,
			LastError: "not started: its exposed IDs or virtual organisation could not be read",
		})
		return
	}
	c.mu.Lock()
	c.links[p.ID] = rl
	c.mu.Unlock()
	if err := l.Initialize(); err != nil {
		c.mu.Lock()
		delete(c.links, p.ID)
		c.mu.Unlock()
		c.Log.Warn("cascade link not started", "platform_id", p.ID, "err", err)
		c.setStatus(ctx, id, sipdb.PlatformStatus{
			Status: cascadeview.StatusFailing, LocalID: local, LastError: fmt.Sprintf("not started: %v", err),
		})
	}
}

// linkStatus is the row of a link's state: st and its upward sessions.
func (c *cascadeLinks) linkStatus(id int64, local string, st uplink.Status) sipdb.PlatformStatus {
	ps := sipdb.PlatformStatus{Status: st.State, LocalID: local, LastError: st.LastError}
	if !st.RegisteredAt.IsZero() {
		ps.RegisteredAt = &st.RegisteredAt
	}
	if !st.LastKeepalive.IsZero() {
		ps.LastKeepalive = &st.LastKeepalive
	}
	c.mu.Lock()
	for _, u := range c.ups {
		if u.rl.cfg.ID == id {
			ps.UpwardStreams++
		}
	}
	c.mu.Unlock()
	return ps
}

// reportUp writes rl's state after its upward sessions changed.
func (c *cascadeLinks) reportUp(ctx context.Context, rl *runningLink) {
	if st := rl.link.Status(); st.State != "" {
		c.setStatus(ctx, rl.cfg.ID, c.linkStatus(rl.cfg.ID, rl.link.LocalID, st))
	}
}

// dropUps forgets and returns rl's upward sessions.
func (c *cascadeLinks) dropUps(rl *runningLink) []*upSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*upSession
	for _, u := range c.ups {
		if u.rl == rl {
			out = append(out, u)
			c.dropLocked(u)
		}
	}
	return out
}
