package sipserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// pendingKey correlates a device's Response with our Query: SNs are drawn
// from one counter, so (CmdType, SN) is unique among pending requests; the
// answering device is checked too, so no device can answer for another.
type pendingKey struct {
	cmd string
	sn  int
}

type pendingRequest struct {
	deviceID string // who must answer (SIP From)
	target   string // the DeviceID the answer is about
	done     chan answer
	// progress is signalled by each page of a multi-packet answer, so that
	// a long catalog that keeps coming is waited for.
	progress chan struct{}
}

// maxAnswerTime bounds a multi-packet answer that keeps coming: 100,000
// catalog items two per datagram at a per-source rate limit of 200
// messages a second take about 4 minutes.
const maxAnswerTime = 10 * time.Minute

// answer is a device's Response: msg for single-packet answers, result for
// reassembled Catalog and RecordInfo answers.
type answer struct {
	msg    manscdp.Message
	result *manscdp.Result
}

// requester sends MANSCDP requests to devices and matches their answers.
type requester struct {
	sn atomic.Int64

	mu      sync.Mutex
	pending map[pendingKey]*pendingRequest
	agg     manscdp.Aggregator
}

func (r *requester) initialize() {
	r.pending = map[pendingKey]*pendingRequest{}
	r.agg = manscdp.Aggregator{MaxPending: 4096}
	// Start SNs from the clock so that a restart does not reuse the SNs of
	// answers still in flight.
	r.sn.Store(time.Now().Unix() % 1_000_000_000)
}

func (r *requester) nextSN() int { return int(r.sn.Add(1) % 2_000_000_000) }

// isMultiPacket reports whether answers to cmd come in several packets.
func isMultiPacket(cmd string) bool { return cmd == manscdp.CmdCatalog || cmd == manscdp.CmdRecordInfo }

// deliver hands a Response from deviceID to the request waiting for it and
// reports whether one was. A Response is matched by CmdType and SN and must
// come from the device the request went to (its source was checked by the
// caller); anything else is not ours to apply, not even reassembled.
// Multi-packet answers are reassembled first.
func (r *requester) deliver(deviceID string, msg manscdp.Message, now time.Time) (matched bool) {
	h := msg.Head()
	key := pendingKey{cmd: h.CmdType, sn: h.SN}
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[key]
	if p == nil || p.deviceID != deviceID {
		return false
	}
	if !isMultiPacket(h.CmdType) {
		delete(r.pending, key)
		p.done <- answer{msg: msg}
		return true
	}
	res, done, err := r.agg.Add(msg, now)
	switch {
	case err == nil && done:
		delete(r.pending, key)
		p.done <- answer{result: res}
	case err == nil:
		select {
		case p.progress <- struct{}{}:
		default:
		}
	}
	return true
}

// expire completes multi-packet answers that stalled, as Partial.
func (r *requester) expire(now time.Time) []manscdp.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	results := r.agg.Expire(now)
	for i := range results {
		key := pendingKey{cmd: results[i].CmdType, sn: results[i].SN}
		if p := r.pending[key]; p != nil && p.target == results[i].DeviceID {
			delete(r.pending, key)
			p.done <- answer{result: &results[i]}
		}
	}
	return results
}

func (r *requester) add(key pendingKey, deviceID, target string) *pendingRequest {
	p := &pendingRequest{deviceID: deviceID, target: target, done: make(chan answer, 1), progress: make(chan struct{}, 1)}
	r.mu.Lock()
	r.pending[key] = p
	r.mu.Unlock()
	return p
}

func (r *requester) remove(key pendingKey) {
	r.mu.Lock()
	delete(r.pending, key)
	r.mu.Unlock()
}

// querier sends MANSCDP queries to devices: the Server, for the
// components that query.
type querier interface {
	query(ctx context.Context, deviceID, target string, q manscdp.Message) (answer, error)
}

// nextSN returns the SN of a new MANSCDP request or subscription.
func (s *Server) nextSN() int { return s.requests.nextSN() }

// query sends q (its SN is set here) to target (the device itself or one
// of its channels) and waits for the answer, which must come from the device.
// The request timeout bounds the wait for the first packet and, for
// multi-packet answers (Catalog, RecordInfo), each gap between packets: a
// catalog of 10,000 items that keeps arriving is waited for, up to
// maxAnswerTime.
func (s *Server) query(ctx context.Context, deviceID, target string, q manscdp.Message) (answer, error) {
	cmd := manscdp.CmdTypeOf(q)
	h := q.Head()
	h.SN, h.DeviceID = s.nextSN(), target
	key := pendingKey{cmd: cmd, sn: h.SN}
	p := s.requests.add(key, deviceID, target)
	defer s.requests.remove(key)

	timeout := s.Config.RequestTimeout.Std()
	ctx, cancel := context.WithTimeout(ctx, maxAnswerTime)
	defer cancel()
	sendCtx, sendCancel := context.WithTimeout(ctx, timeout)
	defer sendCancel()
	if s.Config.OneRequestPerDevice {
		release, err := s.acquire(sendCtx, deviceID)
		if err != nil {
			return answer{}, err
		}
		defer release()
	}
	if err := s.sendMANSCDP(sendCtx, deviceID, target, q); err != nil {
		s.metrics.queries.WithLabelValues(cmd, "error").Inc()
		return answer{}, err
	}
	idle := time.NewTimer(timeout)
	defer idle.Stop()
	for {
		select {
		case a := <-p.done:
			s.metrics.queries.WithLabelValues(cmd, "answered").Inc()
			return a, nil
		case <-p.progress:
			idle.Reset(timeout)
		case <-idle.C:
			s.metrics.queries.WithLabelValues(cmd, "timeout").Inc()
			return answer{}, fmt.Errorf("%s of %s: no answer within %s: %w", cmd, target, s.Config.RequestTimeout, ErrTimeout)
		case <-ctx.Done():
			s.metrics.queries.WithLabelValues(cmd, "timeout").Inc()
			if errors.Is(ctx.Err(), context.Canceled) {
				return answer{}, fmt.Errorf("%s of %s: %w", cmd, target, ctx.Err())
			}
			return answer{}, fmt.Errorf("%s of %s: answer not complete: %w", cmd, target, ErrTimeout)
		}
	}
}

// acquire waits until the device has no outstanding query.
func (s *Server) acquire(ctx context.Context, deviceID string) (release func(), err error) {
	d := s.devices.get(deviceID)
	if d == nil {
		return nil, fmt.Errorf("device %s: %w", deviceID, ErrUnknownDevice)
	}
	select {
	case d.busy <- struct{}{}:
		return func() { <-d.busy }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("device %s busy with another query: %w", deviceID, ErrTimeout)
	}
}

// sendMANSCDP sends msg in a MESSAGE to target (the device or one of its
// channels) via the device's registered address, and waits for the
// transaction's final response.
func (s *Server) sendMANSCDP(ctx context.Context, deviceID, target string, msg manscdp.Message) error {
	snap, err := s.registered(deviceID)
	if err != nil {
		return err
	}
	body, err := manscdp.Encode(msg, manscdp.Options{Charset: charsetOf(snap.Charset)})
	if err != nil {
		return fmt.Errorf("encode %T for %s: %w", msg, target, err)
	}
	req, err := s.newRequest(sip.MESSAGE, snap, target)
	if err != nil {
		return err
	}
	req.AppendHeader(sip.NewHeader("Content-Type", "Application/MANSCDP+xml"))
	req.SetBody(body)
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return fmt.Errorf("MESSAGE to %s at %s: %w", target, snap.RemoteAddr, errors.Join(ErrTimeout, err))
	}
	if !res.IsSuccess() {
		return &RejectedError{Method: "MESSAGE", Code: res.StatusCode, Reason: res.Reason}
	}
	return nil
}

// sendSubscribe sends a catalog SUBSCRIBE with body (a Catalog query) in
// the dialog sub to device d and returns the final response.
func (s *Server) sendSubscribe(ctx context.Context, d deviceSnapshot, sub subscription, body []byte,
	expires time.Duration,
) (*sip.Response, error) {
	req, err := s.newRequest(sip.SUBSCRIBE, d, d.ID)
	if err != nil {
		return nil, err
	}
	req.From().Params.Add("tag", sub.fromTag)
	if sub.toTag != "" {
		req.To().Params.Add("tag", sub.toTag)
	}
	callID := sip.CallIDHeader(sub.callID)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(sip.NewHeader("Event", "Catalog;id="+sub.eventID))
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: s.Config.ID, Host: s.advertise, Port: s.sipPort}})
	req.AppendHeader(sip.NewHeader("Content-Type", "Application/MANSCDP+xml"))
	req.SetBody(body)
	return s.client.Do(ctx, req)
}

// newRequest builds a request to target at the device's registered address,
// over the transport it registered with (reusing its TCP connection).
func (s *Server) newRequest(method sip.RequestMethod, d deviceSnapshot, target string) (*sip.Request, error) {
	host, portStr, err := net.SplitHostPort(d.RemoteAddr)
	if err != nil {
		return nil, fmt.Errorf("device %s address %q: %w", d.ID, d.RemoteAddr, err)
	}
	port, _ := strconv.Atoi(portStr)
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: target, Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: s.Config.ID, Host: s.Config.Domain}}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: target, Host: s.Config.Domain}})
	req.AppendHeader(sip.NewHeader("X-GB-Ver", gbVersionOut(d.GBVersion)))
	req.SetTransport(d.Transport)
	req.SetDestination(d.RemoteAddr)
	return req, nil
}

// gbVersionOut answers a device in its own edition, 2016 by default.
func gbVersionOut(v string) string {
	if v == "" {
		return "2.0"
	}
	return v
}

func charsetOf(c string) manscdp.Charset {
	if c == "UTF-8" {
		return manscdp.CharsetUTF8
	}
	return manscdp.CharsetGB2312
}
