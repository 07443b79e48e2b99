package sipserver

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// device is the in-memory state of one device. The keepalive path touches
// only lastKeepalive and touched (atomics) unless something changes, so a
// keepalive costs a map lookup and two atomic stores.
type device struct {
	id string

	lastKeepalive atomic.Int64 // unix nanoseconds
	touched       atomic.Bool  // keepalive since the last flush to PostgreSQL

	mu         sync.Mutex
	transport  string // "UDP" or "TCP", as sipgo names them
	remoteAddr string
	gbVersion  string
	charset    string
	password   *string
	// sourceCheck is store.SourceStrict or store.SourceIP (devices.source_check).
	sourceCheck  string
	registered   bool
	registeredAt time.Time
	expiresAt    time.Time
	online       bool
	// sub is the catalog subscription dialog; nil if none.
	sub *subscription
	// interval × count without a keepalive means offline.
	interval time.Duration
	count    int
	// subscribedUntil is when the catalog subscription ends; zero if none.
	subscribedUntil time.Time
	// subPending is the Call-ID of a SUBSCRIBE not answered yet.
	subPending string
	// subscribeRefused is set when the device answered SUBSCRIBE with an error;
	// its catalog is then re-queried periodically instead.
	subscribeRefused bool
	catalogAt        time.Time
	// channelOnline is the last status applied per channel, so that only
	// changes are written.
	channelOnline map[string]bool

	// busy holds a token while a query is outstanding (sip.one_request_per_device).
	busy chan struct{}
}

// deviceSnapshot is a consistent copy of a device's state.
type deviceSnapshot struct {
	ID               string
	Transport        string
	RemoteAddr       string
	GBVersion        string
	Charset          string
	Registered       bool
	Online           bool
	ExpiresAt        time.Time
	LastKeepalive    time.Time
	Interval         time.Duration
	Count            int
	SubscribedUntil  time.Time
	SubscribeRefused bool
	CatalogAt        time.Time
}

func (d *device) snapshot() deviceSnapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return deviceSnapshot{
		ID: d.id, Transport: d.transport, RemoteAddr: d.remoteAddr, GBVersion: d.gbVersion, Charset: d.charset,
		Registered: d.registered, Online: d.online, ExpiresAt: d.expiresAt,
		LastKeepalive: time.Unix(0, d.lastKeepalive.Load()), Interval: d.interval, Count: d.count,
		SubscribedUntil: d.subscribedUntil, SubscribeRefused: d.subscribeRefused, CatalogAt: d.catalogAt,
	}
}

const registryShards = 64

// registry holds every known device, sharded so that keepalives from
// thousands of devices do not contend on one lock.
type registry struct {
	seed   maphash.Seed
	shards [registryShards]registryShard
}

type registryShard struct {
	mu sync.RWMutex
	m  map[string]*device
}

func newRegistry() *registry {
	r := &registry{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].m = map[string]*device{}
	}
	return r
}

func (r *registry) shard(id string) *registryShard {
	return &r.shards[maphash.String(r.seed, id)%registryShards]
}

// get returns the device or nil.
func (r *registry) get(id string) *device {
	s := r.shard(id)
	s.mu.RLock()
	d := s.m[id]
	s.mu.RUnlock()
	return d
}

// getOrCreate returns the device, creating it with init when unknown.
func (r *registry) getOrCreate(id string, init func(*device)) (d *device, created bool) {
	s := r.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d = s.m[id]; d != nil {
		return d, false
	}
	d = &device{id: id, busy: make(chan struct{}, 1)}
	init(d)
	s.m[id] = d
	return d, true
}

// each calls fn for every device; fn must not call back into the registry's
// write methods for the same shard.
func (r *registry) each(fn func(*device)) {
	var batch []*device
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.RLock()
		batch = batch[:0]
		for _, d := range s.m {
			batch = append(batch, d)
		}
		s.mu.RUnlock()
		for _, d := range batch {
			fn(d)
		}
	}
}

// counts returns the number of devices, registered and online.
func (r *registry) counts() (total, registered, online int) {
	r.each(func(d *device) {
		total++
		d.mu.Lock()
		if d.registered {
			registered++
		}
		if d.online {
			online++
		}
		d.mu.Unlock()
	})
	return total, registered, online
}
