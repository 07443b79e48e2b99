package sipserver

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
	"golang.org/x/time/rate"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// catalogParent is what catalogSync needs of the Server: the clock, queries
// and the SUBSCRIBE transaction to devices, and background work that Close
// waits for.
type catalogParent interface {
	querier
	now() time.Time
	nextSN() int
	sendSubscribe(ctx context.Context, d deviceSnapshot, sub subscription, body []byte, expires time.Duration) (*sip.Response, error)
	applyHeartbeat(ctx context.Context, deviceID string, secs, count int)
	background(fn func(ctx context.Context))
	// spawn runs fn in a goroutine Close waits for; false once Close began.
	spawn(fn func()) bool
}

// catalogStore is what catalogSync writes: device information and channels.
type catalogStore interface {
	UpdateDeviceInfo(ctx context.Context, id, name, manufacturer, model, firmware string) error
	SyncCatalog(ctx context.Context, deviceID string, items []store.Channel) (store.CatalogSyncResult, error)
	UpsertChannels(ctx context.Context, deviceID string, items []store.Channel) (added, updated int, err error)
	DeleteChannels(ctx context.Context, deviceID string, ids []string) (int, error)
	SetLastCatalog(ctx context.Context, id string, at time.Time) error
}

// catalogSync keeps the channels table equal to what devices report: it
// queries DeviceInfo and Catalog after a registration, subscribes to catalog
// changes, applies NOTIFYs, and re-queries devices that refuse SUBSCRIBE.
//
// Queued devices are started at Config.QueryRate per second, each in a
// goroutine of its own with its queries sent together: a device that never
// answers holds only its own goroutine until its queries time out, never a
// slot other devices wait for.
type catalogSync struct {
	// Config gives the catalog settings (catalog_subscribe, its expiry,
	// catalog_interval) and the request timeout.
	Config  config.SIP
	Store   catalogStore
	Devices *registry
	// Writer queues the channels' status transitions; the catalog flushes
	// it before storing a new device's channels.
	Writer *stateWriter
	Log    *slog.Logger
	Parent catalogParent

	mu     sync.Mutex
	queued map[string]catalogJob
	queue  []string
	// busy holds the devices a worker is on, so maintenance does not queue
	// them again meanwhile.
	busy map[string]bool
	// again holds the job asked for a device while it was busy: it is
	// queued when the running one is done, so no device runs twice at once.
	again map[string]catalogJob
	wake  chan struct{}
	// running counts started jobs, for the metrics.
	running atomic.Int64
}

// catalogJob is the work queued for a device; a full refresh includes the
// subscription.
type catalogJob int

const (
	jobSubscribe catalogJob = iota + 1
	jobRefresh
)

func (c *catalogSync) initialize() {
	c.queued = map[string]catalogJob{}
	c.busy = map[string]bool{}
	c.again = map[string]catalogJob{}
	c.wake = make(chan struct{}, 1)
}

// enqueue schedules a full refresh (DeviceInfo, Catalog, SUBSCRIBE) of a device.
func (c *catalogSync) enqueue(id string) { c.schedule(id, jobRefresh) }

// schedule queues job for a device once; a queued subscription is upgraded
// to a full refresh if one is asked for.
func (c *catalogSync) schedule(id string, job catalogJob) {
	c.mu.Lock()
	if c.busy[id] {
		c.again[id] = max(c.again[id], job)
		c.mu.Unlock()
		return
	}
	switch cur, ok := c.queued[id]; {
	case !ok:
		c.queued[id] = job
		c.queue = append(c.queue, id)
	case job > cur:
		c.queued[id] = job
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// pending reports whether a device is queued or being worked on.
func (c *catalogSync) pending(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, queued := c.queued[id]
	return queued || c.busy[id] // a busy device's again is run after it
}

// queuedCount is the number of devices waiting for their jobs to start.
func (c *catalogSync) queuedCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

func (c *catalogSync) next() (string, catalogJob, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return "", 0, false
	}
	id := c.queue[0]
	c.queue = c.queue[1:]
	job := c.queued[id]
	delete(c.queued, id)
	c.busy[id] = true
	return id, job, true
}

func (c *catalogSync) done(id string) {
	c.mu.Lock()
	delete(c.busy, id)
	job, again := c.again[id]
	delete(c.again, id)
	c.mu.Unlock()
	if again {
		c.schedule(id, job)
	}
}

// run starts queued jobs at the configured rate, and the periodic
// maintenance, until ctx is done; Close waits for the started jobs.
func (c *catalogSync) run(ctx context.Context) {
	pace := rate.NewLimiter(rate.Limit(c.Config.QueryRate), c.Config.QueryBurst())
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		id, job, ok := c.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-c.wake:
			case <-t.C:
				c.maintain()
			}
			continue
		}
		if err := pace.Wait(ctx); err != nil {
			c.done(id)
			return
		}
		c.running.Add(1)
		started := c.Parent.spawn(func() {
			defer c.running.Add(-1)
			defer c.done(id)
			if job == jobRefresh {
				c.refresh(ctx, id)
			} else {
				c.subscribe(ctx, id)
			}
		})
		if !started {
			c.running.Add(-1)
			c.done(id)
			return
		}
		select {
		case <-t.C:
			c.maintain()
		default:
		}
	}
}

// maintain queues: catalogs never synchronised (a query
// that failed), subscriptions that end soon, and periodic re-queries of
// devices without a subscription. Devices already queued or being worked
// on are left alone, so a registration storm does not double the work.
func (c *catalogSync) maintain() {
	now := c.Parent.now()
	cfg := c.Config
	c.Devices.each(func(d *device) {
		snap := d.snapshot()
		if !snap.Registered || !snap.Online || c.pending(snap.ID) {
			return
		}
		subscribing := cfg.CatalogSubscribe && !snap.SubscribeRefused
		switch {
		case snap.CatalogAt.IsZero():
			c.schedule(snap.ID, jobRefresh)
		case subscribing && now.Add(cfg.CatalogSubscribeExpires.Std()/5).After(snap.SubscribedUntil):
			c.schedule(snap.ID, jobSubscribe)
		case !subscribing && cfg.CatalogInterval > 0 && now.Sub(snap.CatalogAt) >= cfg.CatalogInterval.Std():
			c.schedule(snap.ID, jobRefresh)
		}
	})
}

// refresh queries a device's information and catalog, subscribes to it
// and asks for its keepalive settings. The four are independent and sent
// together, so one the device ignores delays none of the others; a device
// configured for one request at a time gets them one after the other.
func (c *catalogSync) refresh(ctx context.Context, id string) {
	log := c.Log.With("device", id)
	// The device's row must exist before its channels and info are stored.
	c.Writer.syncDevice(ctx, id)
	steps := []func(){
		func() {
			a, err := c.Parent.query(ctx, id, id, &manscdp.DeviceInfoQuery{})
			if err != nil {
				log.Warn("DeviceInfo query", "err", err)
				return
			}
			if info, ok := a.msg.(*manscdp.DeviceInfoResponse); ok {
				if err := c.Store.UpdateDeviceInfo(ctx, id, info.DeviceName, info.Manufacturer, info.Model, info.Firmware); err != nil {
					log.Warn("store device info", "err", err)
				}
			}
		},
		func() {
			if _, err := c.queryCatalog(ctx, id); err != nil {
				log.Warn("Catalog query", "err", err)
			}
		},
	}
	if c.Config.CatalogSubscribe {
		steps = append(steps, func() { c.subscribe(ctx, id) })
	}
	steps = append(steps,
		func() {
			// Many devices do not answer it: their own keepalive settings.
			basic := &manscdp.ConfigDownloadQuery{ConfigType: "BasicParam"}
			if cfg, err := queryOne[*manscdp.ConfigDownloadResponse](ctx, c.Parent, id, id, basic); err != nil {
				log.Debug("ConfigDownload query", "err", err)
			} else if cfg.BasicParam != nil {
				c.Parent.applyHeartbeat(ctx, id, cfg.BasicParam.HeartBeatInterval, cfg.BasicParam.HeartBeatCount)
			}
		})
	if c.Config.OneRequestPerDevice {
		for _, step := range steps {
			step()
		}
		return
	}
	var wg sync.WaitGroup
	for _, step := range steps {
		wg.Go(step)
	}
	wg.Wait()
}

// queryCatalog asks for the whole catalog and applies it.
func (c *catalogSync) queryCatalog(ctx context.Context, id string) (store.CatalogSyncResult, error) {
	a, err := c.Parent.query(ctx, id, id, &manscdp.CatalogQuery{})
	if err != nil {
		return store.CatalogSyncResult{}, err
	}
	if a.result == nil {
		return store.CatalogSyncResult{}, fmt.Errorf("catalog of %s: unexpected answer", id)
	}
	return c.apply(ctx, id, a.result)
}

// accepts reports whether a catalog notification from d (whose source
// was checked) may be applied: only while we hold a catalog subscription
// to it, or are setting one up (a device may send its first NOTIFY before
// our SUBSCRIBE's 200 arrives). Devices we do not subscribe to get their
// catalog re-queried instead.
func (c *catalogSync) accepts(d *device, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.subPending != "" || (d.sub != nil && now.Before(d.subscribedUntil))
}

// apply stores a reassembled catalog. A partial one (the device stopped
// sending pages) only adds and updates; removing what was not received
// would delete channels that merely got lost in transit.
func (c *catalogSync) apply(ctx context.Context, id string, res *manscdp.Result) (store.CatalogSyncResult, error) {
	if !res.Partial && res.SumNum == 0 && len(res.Catalog) == 0 {
		// Some devices answer SumNum 0 while still booting; keep what we have
		// and ask again at the next periodic query.
		c.markSynced(id, c.Parent.now())
		return store.CatalogSyncResult{}, nil
	}
	// Concurrent applies of the same device (the query's answer and an
	// unsolicited push) are serialised by the store's transaction.
	channels := make([]store.Channel, 0, len(res.Catalog))
	for _, it := range res.Catalog {
		if it.DeviceID == "" {
			continue
		}
		channels = append(channels, channelFromItem(id, it))
	}
	var r store.CatalogSyncResult
	var err error
	if res.Partial || res.Truncated {
		r.Added, r.Updated, err = c.Store.UpsertChannels(ctx, id, channels)
	} else {
		r, err = c.Store.SyncCatalog(ctx, id, channels)
	}
	if err != nil {
		return r, err
	}
	now := c.Parent.now()
	if !res.Partial && !res.Truncated {
		c.forgetOthers(id, channels)
	}
	c.channelStatus(id, channels, "catalog", now)
	c.markSynced(id, now)
	if err := c.Store.SetLastCatalog(ctx, id, now); err != nil {
		c.Log.Warn("store catalog time", "device", id, "err", err)
	}
	c.Log.Info("catalog synchronised", "device", id, "items", len(channels), "sum_num", res.SumNum,
		"partial", res.Partial, "added", r.Added, "updated", r.Updated, "removed", r.Removed)
	return r, nil
}

func (c *catalogSync) markSynced(id string, at time.Time) {
	if d := c.Devices.get(id); d != nil {
		d.mu.Lock()
		d.catalogAt = at
		d.mu.Unlock()
	}
}

// channelStatus queues the catalog status of channels as transitions.
func (c *catalogSync) channelStatus(id string, channels []store.Channel, cause string, at time.Time) {
	changes := make([]store.StatusChange, len(channels))
	for i, ch := range channels {
		changes[i] = store.StatusChange{DeviceID: id, ChannelID: ch.ID, Online: ch.Online, Cause: cause, At: at}
	}
	c.queueStatus(id, changes, nil)
}

// forgetOthers drops the remembered status of channels a full catalog no
// longer lists (SyncCatalog removed them).
func (c *catalogSync) forgetOthers(id string, channels []store.Channel) {
	d := c.Devices.get(id)
	if d == nil {
		return
	}
	keep := make(map[string]bool, len(channels))
	for _, ch := range channels {
		keep[ch.ID] = true
	}
	d.mu.Lock()
	for ch := range d.channelOnline {
		if !keep[ch] {
			delete(d.channelOnline, ch)
		}
	}
	d.mu.Unlock()
}

// queueStatus queues the channel transitions whose status differs from the
// last one applied, so a re-sent catalog of 100,000 devices costs PostgreSQL
// nothing; removed channels are forgotten.
func (c *catalogSync) queueStatus(id string, changes []store.StatusChange, removed []string) {
	c.queueStatusOf(id, changes, removed, true)
}

// queueStatusOf is queueStatus; stored false says the channels' rows may
// not exist yet (a status NOTIFY racing the catalog answer): a channel not
// seen before is then queued but not remembered, so the catalog's own
// status for it, applied once its row exists, is not taken for a repeat.
func (c *catalogSync) queueStatusOf(id string, changes []store.StatusChange, removed []string, stored bool) {
	d := c.Devices.get(id)
	if d == nil {
		return
	}
	d.mu.Lock()
	if d.channelOnline == nil {
		d.channelOnline = map[string]bool{}
	}
	for _, ch := range removed {
		delete(d.channelOnline, ch)
	}
	n := 0
	for _, ch := range changes {
		if was, known := d.channelOnline[ch.ChannelID]; !known || was != ch.Online {
			if known || stored {
				d.channelOnline[ch.ChannelID] = ch.Online
			}
			changes[n] = ch
			n++
		}
	}
	d.mu.Unlock()
	for _, ch := range changes[:n] {
		c.Writer.status(ch)
	}
}

// onNotify applies a catalog change notification (9.11): ADD and UPDATE
// carry the whole item, DEL removes it, ON/OFF/VLOST/DEFECT change status.
func (c *catalogSync) onNotify(id string, m *manscdp.CatalogNotify, now time.Time) {
	var upserts []store.Channel
	var deletes []string
	// changes of the upserted channels; statusOnly of channels that may
	// not be stored yet.
	var changes, statusOnly []store.StatusChange
	if m.DeviceList == nil {
		return
	}
	for _, it := range m.DeviceList.Items {
		if it.DeviceID == "" {
			continue
		}
		ev := strings.ToUpper(strings.TrimSpace(it.Event))
		switch ev {
		case "ADD", "UPDATE", "":
			ch := channelFromItem(id, it)
			upserts = append(upserts, ch)
			changes = append(changes, store.StatusChange{DeviceID: id, ChannelID: ch.ID, Online: ch.Online, Cause: "notify", At: now})
		case "DEL":
			deletes = append(deletes, it.DeviceID)
		case "ON", "OFF", "VLOST", "DEFECT":
			statusOnly = append(statusOnly, store.StatusChange{
				DeviceID: id, ChannelID: it.DeviceID, Online: ev == "ON",
				Cause: "notify_" + strings.ToLower(ev), At: now,
			})
		default:
			c.Log.Info("catalog notify with an unknown event; ignored", "device", id, "channel", it.DeviceID, "event", it.Event)
		}
	}
	c.Parent.background(func(ctx context.Context) {
		if len(upserts) > 0 {
			if _, _, err := c.Store.UpsertChannels(ctx, id, upserts); err != nil {
				c.Log.Warn("apply catalog notify", "device", id, "err", err)
				return
			}
		}
		if len(deletes) > 0 {
			if _, err := c.Store.DeleteChannels(ctx, id, deletes); err != nil {
				c.Log.Warn("apply catalog notify", "device", id, "err", err)
			}
		}
		c.queueStatus(id, changes, deletes)
		c.queueStatusOf(id, statusOnly, nil, false)
		c.Log.Info("catalog notify applied", "device", id,
			"upserts", len(upserts), "deletes", len(deletes), "status", len(statusOnly))
	})
}

// subscription is the dialog of a catalog SUBSCRIBE, kept for in-dialog refreshes.
type subscription struct {
	callID  string
	fromTag string
	toTag   string
	cseq    uint32
	eventID string
}

// subscribe creates or refreshes the catalog subscription of a device.
func (c *catalogSync) subscribe(ctx context.Context, id string) {
	d := c.Devices.get(id)
	if d == nil {
		return
	}
	snap := d.snapshot()
	if !snap.Registered {
		return
	}
	d.mu.Lock()
	sub := d.sub
	if sub == nil {
		sub = &subscription{callID: sip.GenerateTagN(24), fromTag: sip.GenerateTagN(16), eventID: strconv.Itoa(c.Parent.nextSN())}
	} else {
		cp := *sub
		sub = &cp
	}
	sub.cseq++
	d.mu.Unlock()

	expires := c.Config.CatalogSubscribeExpires.Std()
	q := &manscdp.CatalogQuery{Header: manscdp.Header{SN: c.Parent.nextSN(), DeviceID: id}}
	body, err := manscdp.Encode(q, manscdp.Options{Charset: charsetOf(snap.Charset)})
	if err != nil {
		c.Log.Error("encode catalog subscription", "device", id, "err", err)
		return
	}

	ctx, cancel := context.WithTimeout(ctx, c.Config.RequestTimeout.Std())
	defer cancel()
	d.mu.Lock()
	d.subPending = sub.callID
	d.mu.Unlock()
	res, err := c.Parent.sendSubscribe(ctx, snap, *sub, body, expires)
	now := c.Parent.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.subPending == sub.callID {
		d.subPending = ""
	}
	switch {
	case err != nil:
		c.Log.Warn("catalog SUBSCRIBE got no answer", "device", id, "err", err)
	case res.IsSuccess():
		if t := res.To(); t != nil {
			sub.toTag, _ = t.Params.Get("tag")
		}
		granted := expires
		if h := res.GetHeader("Expires"); h != nil {
			if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
				granted = time.Duration(n) * time.Second
			}
		}
		d.sub, d.subscribedUntil, d.subscribeRefused = sub, now.Add(granted), false
	default:
		// Many devices do not implement SUBSCRIBE: fall back to periodic queries.
		d.sub, d.subscribedUntil, d.subscribeRefused = nil, time.Time{}, true
		c.Log.Info("device refused the catalog subscription; its catalog will be re-queried periodically",
			"device", id, "status", res.StatusCode, "every", c.Config.CatalogInterval)
	}
}

// channelFromItem converts a catalog item into a channel row.
func channelFromItem(deviceID string, it manscdp.CatalogItem) store.Channel {
	ch := store.Channel{
		DeviceID: deviceID, ID: it.DeviceID, Name: it.Name, Manufacturer: it.Manufacturer, Model: it.Model,
		Owner: it.Owner, CivilCode: it.CivilCode, Address: it.Address, Parental: it.Parental == 1,
		ParentID: it.ParentID, BusinessGroupID: it.EffectiveBusinessGroupID(), Secrecy: it.Secrecy == 1,
		IPAddress: it.IPAddress, Port: it.Port, Status: manscdp.NormalizeStatus(it.Status), Online: it.Online(),
	}
	if it.Longitude != 0 || it.Latitude != 0 {
		lon, lat := it.Longitude, it.Latitude
		ch.Longitude, ch.Latitude = &lon, &lat
	}
	extra := map[string]string{}
	put := func(k, v string) {
		if v != "" {
			extra[k] = v
		}
	}
	put("Block", it.Block)
	if it.RegisterWay != 0 {
		put("RegisterWay", strconv.Itoa(it.RegisterWay))
	}
	if it.Info != nil {
		first, _, _ := strings.Cut(it.Info.PTZType, "/")
		ch.PTZType, _ = strconv.Atoi(strings.TrimSpace(first))
		put("Resolution", it.Info.Resolution)
		put("DownloadSpeed", it.Info.DownloadSpeed)
		put("StreamNumberList", it.Info.StreamNumberList)
	}
	ch.Extra = extra
	return ch
}
