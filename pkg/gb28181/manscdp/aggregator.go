package manscdp

import (
	"fmt"
	"sort"
	"time"
)

// Defaults for Aggregator's zero configuration fields.
const (
	DefaultIdleTimeout = 5 * time.Second
	DefaultMaxItems    = 65536
	DefaultMaxPending  = 256
)

// Result is a reassembled multi-packet Catalog or RecordInfo answer.
type Result struct {
	Root     Root
	CmdType  string
	DeviceID string
	SN       int
	// SumNum is the largest total any packet announced.
	SumNum int
	// Name is the RecordInfo channel name.
	Name string
	// Catalog holds the Catalog items, de-duplicated by DeviceID, in arrival order.
	Catalog []CatalogItem
	// Records holds the RecordInfo items, de-duplicated by RecordItem.Key, in arrival order.
	Records []RecordItem
	// Packets is the number of packets received, duplicates included.
	Packets int
	// Partial is set when the answer ended on the idle timeout with fewer
	// items than SumNum.
	Partial bool
	// Truncated is set when items beyond MaxItems were dropped.
	Truncated bool
}

// Len returns the number of items collected.
func (r *Result) Len() int { return len(r.Catalog) + len(r.Records) }

type aggKey struct {
	root     Root
	cmd      string
	deviceID string
	sn       int
}

type pending struct {
	res  Result
	seen map[string]int // item key → index
	last time.Time
}

// Aggregator reassembles multi-packet Catalog and RecordInfo answers
// (Annex N), keyed by (root, DeviceID, CmdType, SN). An answer completes when
// it holds SumNum distinct items, or — through Expire — when no packet came
// for IdleTimeout. It starts no goroutines and reads no clock: the caller
// passes the time and calls Expire periodically. Not safe for concurrent use.
type Aggregator struct {
	// IdleTimeout after the last packet completes an answer as Partial.
	IdleTimeout time.Duration
	// MaxItems bounds the items of one answer.
	MaxItems int
	// MaxPending bounds the answers being assembled.
	MaxPending int

	open map[aggKey]*pending
	// done remembers recently completed answers so late duplicates and
	// items beyond a lying SumNum do not start a phantom answer.
	done map[aggKey]time.Time
}

func (a *Aggregator) idle() time.Duration {
	if a.IdleTimeout > 0 {
		return a.IdleTimeout
	}
	return DefaultIdleTimeout
}

func (a *Aggregator) maxItems() int {
	if a.MaxItems > 0 {
		return a.MaxItems
	}
	return DefaultMaxItems
}

func (a *Aggregator) maxPending() int {
	if a.MaxPending > 0 {
		return a.MaxPending
	}
	return DefaultMaxPending
}

// Len returns the number of answers being assembled.
func (a *Aggregator) Len() int { return len(a.open) }

// Add takes one packet (*CatalogResponse, *CatalogNotify or
// *RecordInfoResponse) received at now. It returns the completed Result and
// true when this packet completes the answer; otherwise nil and false.
// Packets of an answer completed less than IdleTimeout ago are dropped.
func (a *Aggregator) Add(msg Message, now time.Time) (*Result, bool, error) {
	var (
		sumNum  int
		name    string
		catalog []CatalogItem
		records []RecordItem
	)
	switch m := msg.(type) {
	case *CatalogResponse:
		sumNum, catalog = m.SumNum, listItems(m.DeviceList)
	case *CatalogNotify:
		sumNum, catalog = m.SumNum, listItems(m.DeviceList)
	case *RecordInfoResponse:
		sumNum, name, records = m.SumNum, m.Name, listItems(m.RecordList)
	default:
		return nil, false, fmt.Errorf("%w: %T", ErrNotAggregatable, msg)
	}
	h := msg.Head()
	key := aggKey{root: msg.Root(), cmd: msg.cmdType(), deviceID: h.DeviceID, sn: h.SN}

	if a.open == nil {
		a.open = make(map[aggKey]*pending)
		a.done = make(map[aggKey]time.Time)
	}
	if t, ok := a.done[key]; ok {
		if now.Sub(t) < a.idle() {
			return nil, false, nil
		}
		delete(a.done, key)
	}
	p := a.open[key]
	if p == nil {
		if len(a.open) >= a.maxPending() {
			return nil, false, fmt.Errorf("%w: %d open", ErrTooManyPending, len(a.open))
		}
		p = &pending{
			res:  Result{Root: key.root, CmdType: key.cmd, DeviceID: key.deviceID, SN: key.sn},
			seen: make(map[string]int),
		}
		a.open[key] = p
	}
	p.last = now
	p.res.Packets++
	p.res.SumNum = max(p.res.SumNum, sumNum)
	if name != "" {
		p.res.Name = name
	}
	for i := range catalog {
		a.addItem(p, catalog[i].DeviceID, func() { p.res.Catalog = append(p.res.Catalog, catalog[i]) },
			func(j int) { p.res.Catalog[j] = catalog[i] })
	}
	for i := range records {
		a.addItem(p, records[i].Key(), func() { p.res.Records = append(p.res.Records, records[i]) },
			func(j int) { p.res.Records[j] = records[i] })
	}

	// SumNum 0 is an empty (or unnumbered) answer: nothing more will come.
	if p.res.Len() >= p.res.SumNum || p.res.Len() >= a.maxItems() {
		return a.finish(key, now, false), true, nil
	}
	return nil, false, nil
}

// addItem appends an item or, for a key already seen (a retransmit),
// replaces the earlier copy. Items without a key are never merged.
func (a *Aggregator) addItem(p *pending, key string, add func(), replace func(int)) {
	if key != "" {
		if j, ok := p.seen[key]; ok {
			replace(j)
			return
		}
	}
	if p.res.Len() >= a.maxItems() {
		p.res.Truncated = true
		return
	}
	if key != "" {
		p.seen[key] = p.res.Len()
	}
	add()
}

func (a *Aggregator) finish(key aggKey, now time.Time, idle bool) *Result {
	p := a.open[key]
	delete(a.open, key)
	if len(a.done) >= a.maxPending() {
		a.forget(now)
	}
	if len(a.done) < a.maxPending() {
		a.done[key] = now
	}
	res := p.res
	res.Partial = idle && res.Len() < res.SumNum && !res.Truncated
	return &res
}

// forget drops completion records older than the idle timeout.
func (a *Aggregator) forget(now time.Time) {
	for k, t := range a.done {
		if now.Sub(t) >= a.idle() {
			delete(a.done, k)
		}
	}
}

// Expire completes the answers that got no packet for IdleTimeout before
// now and returns them, flagged Partial if they hold fewer than SumNum items.
func (a *Aggregator) Expire(now time.Time) []Result {
	var out []Result
	for k, p := range a.open {
		if now.Sub(p.last) >= a.idle() {
			out = append(out, *a.finish(k, now, true))
		}
	}
	a.forget(now)
	// Map order is random; a stable order keeps logs and tests reproducible.
	sort.Slice(out, func(i, j int) bool {
		if out[i].DeviceID != out[j].DeviceID {
			return out[i].DeviceID < out[j].DeviceID
		}
		if out[i].SN != out[j].SN {
			return out[i].SN < out[j].SN
		}
		return out[i].CmdType < out[j].CmdType
	})
	return out
}

func listItems[T any](l *List[T]) []T {
	if l == nil {
		return nil
	}
	return l.Items
}
