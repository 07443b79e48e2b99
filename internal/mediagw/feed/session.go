package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// session is one feed request, served by its handler's goroutine.
type session struct {
	srv   *Server
	req   access.Request
	since time.Time
	// ctx ends with the request, or with the cause Close (ErrServerClosed)
	// or Viewer.End (ErrEnded) gives cancel.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// Written by admit before open is set, read-only after.
	subject string
	tracks  []string
	index   map[ps.Codec]int
	reader  *hub.Reader
	open    atomic.Bool

	units, skipped, bytes, flushes atomic.Uint64
}

func newSession(s *Server, r *http.Request, req access.Request) *session {
	ctx, cancel := context.WithCancelCause(r.Context())
	return &session{srv: s, req: req, since: time.Now(), ctx: ctx, cancel: cancel}
}

// admit names the reader's tracks for the header and audits the media
// open; once it returns nil the feed is open.
func (sess *session) admit(reader *hub.Reader) error {
	codecs := reader.Tracks()
	if len(codecs) == 0 {
		return ErrNoTracks
	}
	tracks := make([]string, 0, len(codecs))
	index := make(map[ps.Codec]int, len(codecs))
	for _, c := range codecs {
		if _, dup := index[c]; dup || c == ps.CodecUnknown || len(tracks) == unitfeed.MaxTracks {
			continue
		}
		index[c] = len(tracks)
		tracks = append(tracks, c.String())
	}
	if len(tracks) == 0 {
		return ErrNoTracks
	}
	if err := sess.srv.Source.Opened(sess.ctx, sess.req); err != nil {
		return err
	}
	if sess.srv.Signer != nil {
		// The Source has checked the token: this only reads its subject.
		if c, err := sess.srv.Signer.Parse(sess.req.Token, time.Now()); err == nil {
			sess.subject = c.Subject
		}
	}
	sess.tracks, sess.index, sess.reader = tracks, index, reader
	sess.open.Store(true)
	return nil
}

// serve answers 200 and writes the feed until it ends; the error says why:
// ErrStreamEnded for the stream's end (the buffer flushed), anything else
// for a cut.
func (sess *session) serve(w http.ResponseWriter, reader *hub.Reader) error {
	s := sess.srv
	s.Log.Info("feed opened", "path", sess.req.Path, "remote", sess.req.Remote, "subject", sess.subject,
		"tracks", sess.tracks)
	out := &conn{w: w, rc: http.NewResponseController(w), timeout: s.WriteTimeout, bytes: &sess.bytes}
	defer out.release()
	// A write blocked on a client that stopped reading ends with the
	// feed, not WriteTimeout later.
	stop := context.AfterFunc(sess.ctx, out.cut)
	defer stop()

	h := w.Header()
	h.Set("Content-Type", unitfeed.ContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	fw := unitfeed.NewWriter(out, s.BufferSize)
	if err := fw.WriteHeader(unitfeed.Header{Tracks: sess.tracks, Now: s.Now()}); err != nil {
		return sess.writeErr(err)
	}
	// The header goes out at once: the client knows the tracks before the
	// first flush of units, and its Now is mediagw's clock when it left,
	// against which the client maps the units' Received times.
	if err := sess.flush(fw, out); err != nil {
		return err
	}

	// One wake-up for the first unit after a flush, one when the flush
	// interval has passed, and then every unit the reader's queue gathered
	// meanwhile at once: waking for each unit (a few dozen a second a
	// stream) cost more than the writes. The queue (hub.Hub.ReaderQueue,
	// 512 units) holds an interval's units many times over.
	timer := time.NewTimer(s.FlushInterval)
	timer.Stop()
	defer timer.Stop()
	units := reader.Units()
	// take writes a unit from the queue; the queue's end ends the feed.
	take := func(u hub.Unit, ok bool) error {
		if !ok {
			return sess.readerEnd(fw, out, reader.Err())
		}
		return sess.write(fw, u)
	}
	for {
		select {
		case u, ok := <-units:
			if err := take(u, ok); err != nil {
				return err
			}
		case <-sess.ctx.Done():
			return sess.cause()
		}
		timer.Reset(s.FlushInterval)
		select {
		case <-timer.C:
		case <-sess.ctx.Done():
			return sess.cause()
		}
		for drained := false; !drained; {
			select {
			case u, ok := <-units:
				if err := take(u, ok); err != nil {
					return err
				}
			default:
				drained = true
			}
		}
		if err := sess.flush(fw, out); err != nil {
			return err
		}
	}
}

// write puts one unit into the feed's buffer (which writes itself out when
// full); units of a track the header does not list are skipped.
func (sess *session) write(fw *unitfeed.Writer, u hub.Unit) error {
	i, known := sess.index[u.Codec]
	if !known || len(u.Payload) > unitfeed.MaxUnit {
		sess.skipped.Add(1)
		return nil
	}
	err := fw.WriteUnit(unitfeed.Unit{
		Track: i, Key: u.Keyframe, PTS: u.PTS, DTS: u.DTS, Received: u.Received, Payload: u.Payload,
	})
	if err != nil {
		return sess.writeErr(err)
	}
	sess.units.Add(1)
	return nil
}

// readerEnd ends the feed when the hub closed the reader's queue: its
// stream ended (flush what waits: the clean end), or the reader was
// disconnected as too slow.
func (sess *session) readerEnd(fw *unitfeed.Writer, out *conn, err error) error {
	if !errors.Is(err, hub.ErrStreamClosed) {
		return fmt.Errorf("hub reader: %w", err)
	}
	if err := sess.flush(fw, out); err != nil {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStreamEnded, err)
}

// flush sends what the feed's buffer and the HTTP server's buffers hold.
func (sess *session) flush(fw *unitfeed.Writer, out *conn) error {
	if err := fw.Flush(); err != nil {
		return sess.writeErr(err)
	}
	if err := out.flush(); err != nil {
		return sess.writeErr(err)
	}
	sess.flushes.Add(1)
	return nil
}

// writeErr names the end of a failed write: the feed's own end when it
// ended meanwhile (its cut made the write fail), else ErrWrite.
func (sess *session) writeErr(err error) error {
	if sess.ctx.Err() != nil {
		return sess.cause()
	}
	return fmt.Errorf("%w: %w", ErrWrite, err)
}

// cause says why ctx ended: the request's end is the client leaving.
func (sess *session) cause() error {
	err := context.Cause(sess.ctx)
	if errors.Is(err, context.Canceled) {
		return ErrClientGone
	}
	return err
}

// logEnd logs the feed's end: Info for the ends that are nobody's fault,
// Warn for the others.
func (sess *session) logEnd(err error) {
	level := slog.LevelWarn
	for _, e := range []error{ErrStreamEnded, ErrClientGone, ErrServerClosed, ErrEnded} {
		if errors.Is(err, e) {
			level = slog.LevelInfo
		}
	}
	sess.srv.Log.Log(context.Background(), level, "feed ended", "path", sess.req.Path, "remote", sess.req.Remote,
		"subject", sess.subject, "reason", err, "units", sess.units.Load(), "bytes", sess.bytes.Load(),
		"flushes", sess.flushes.Load(), "duration", time.Since(sess.since).Round(time.Millisecond))
}

func (sess *session) stats() SessionStats {
	st := SessionStats{Path: sess.req.Path, Remote: sess.req.Remote, Since: sess.since}
	if !sess.open.Load() {
		return st
	}
	st.Open = true
	st.Subject = sess.subject
	st.Tracks = sess.tracks
	st.Units, st.Skipped = sess.units.Load(), sess.skipped.Load()
	st.Bytes, st.Flushes = sess.bytes.Load(), sess.flushes.Load()
	st.Reader = sess.reader.Name()
	st.Queued = len(sess.reader.Units())
	return st
}

// errCut fails the writes of a feed that ended.
var errCut = errors.New("feed: cut")

// aLongTimeAgo is a write deadline in the past: it fails a blocked write
// at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is the response body of a feed. Every write to the HTTP server, and
// its flush, gets the write deadline first; cut, from another goroutine,
// fails a write blocked on a client that stopped reading.
type conn struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	bytes   *atomic.Uint64

	// mu orders cut with the deadlines the handler sets, and keeps it off
	// the ResponseController once the handler is done with it.
	mu       sync.Mutex
	cutOff   bool
	released bool
}

// Write writes p to the response within the write timeout.
func (c *conn) Write(p []byte) (int, error) {
	if err := c.arm(); err != nil {
		return 0, err
	}
	n, err := c.w.Write(p)
	c.bytes.Add(uint64(n))
	return n, err
}

// flush sends what the HTTP server buffers, within the write timeout.
func (c *conn) flush() error {
	if err := c.arm(); err != nil {
		return err
	}
	return c.rc.Flush()
}

func (c *conn) arm() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cutOff {
		return errCut
	}
	return c.rc.SetWriteDeadline(time.Now().Add(c.timeout))
}

// cut fails the pending and later writes.
func (c *conn) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cutOff || c.released {
		return
	}
	c.cutOff = true
	// A net.Conn deadline may be set from any goroutine; the handler's
	// next arm sees cutOff and sets none after it.
	_ = c.rc.SetWriteDeadline(aLongTimeAgo)
}

// release keeps cut off the ResponseController once the handler is done
// with it. The last deadline stays for the HTTP server's last write (the
// end of the body); the server clears it after the response.
func (c *conn) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.released = true
}
