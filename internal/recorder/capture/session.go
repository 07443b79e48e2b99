package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// feedBuffer is the read buffer of a feed: mediagw flushes a few times a
// second, a fraction of a second of a stream at a time.
const feedBuffer = 256 << 10

// aacWait bounds, in 90 kHz ticks of video after the first unit, how long
// opening waits for the first AAC unit (its config is in its ADTS header);
// the session is then recorded without that track.
const aacWait = 90000

// describeUnits bounds the units opening holds while it waits for the AAC
// config.
const describeUnits = 512

// unit is one access unit (video, AAC) or one G.711 payload, with its PTS
// in its track's clock.
type unit struct {
	track *segment.Track
	pts   int64
	au    [][]byte
	// wall is when mediagw received the unit, on the recorder's clock;
	// zero if the feed does not say.
	wall time.Time
}

// session is one read of a channel's live stream from mediagw's unit feed
// (HTTP, package unitfeed). The recording loop reads it directly: no
// goroutine of its own, no queue.
type session struct {
	body   io.ReadCloser
	feed   *unitfeed.Reader
	tracks []*segment.Track
	// byFeed maps a feed track to the recorded track; nil: not recorded.
	byFeed []*segment.Track
	// pending are the units read while opening, handed out first.
	pending []unitfeed.Unit
	// base is the PTS of the session's first unit: every track's clock
	// starts there.
	base    int64
	baseSet bool
	annexB  h264.AnnexB
	// offset maps mediagw's clock onto the recorder's (dated: known).
	offset time.Duration
	dated  bool
	// timeout is how long a read may wait (ErrNoData after it).
	timeout time.Duration
}

// feedURL is <base>/feed/live/<channel>?token=…
func feedURL(baseURL, channelID, token string) string {
	return strings.TrimRight(baseURL, "/") + unitfeed.PathPrefix + streampath.Live(channelID) + "?token=" + url.QueryEscape(token)
}

// openSession asks mediagw for the feed and reads the header (and, for AAC,
// the first AAC unit) to set up the tracks. ctx ending ends the session:
// the next read fails. timeout bounds the answer and every read; now is the
// recorder's clock, onto which the units' receive times are mapped.
func openSession(ctx context.Context, rawURL string, timeout time.Duration, now func() time.Time) (*session, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		// Not wrapped: the parser's error quotes the URL, play token included,
		// and this text goes to the log and the gap's detail.
		return nil, errors.New("stream URL: not a valid http(s) URL (check recorder.mediagw_url)")
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext:           (&deadlineDialer{timeout: timeout}).DialContext,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   timeout,
		DisableKeepAlives:     true,
		DisableCompression:    true,
	}}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text quotes the URL, token included
		}
		return nil, fmt.Errorf("feed: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("feed: mediagw answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	s := &session{body: resp.Body, feed: unitfeed.NewReader(resp.Body, feedBuffer), timeout: timeout}
	if err := s.describe(now); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// describe reads the header and sets up the tracks.
func (s *session) describe(now func() time.Time) error {
	h, err := s.feed.ReadHeader()
	if err != nil {
		return fmt.Errorf("feed header: %w", err)
	}
	if !h.Now.IsZero() {
		// mediagw flushes the header at once: the offset is off by the
		// network's latency, not by a flush interval.
		s.offset, s.dated = now().Sub(h.Now), true
	}
	aac := -1
	for i, c := range h.Tracks {
		if c == unitfeed.CodecAAC {
			aac = i
			break
		}
	}
	var config *mpeg4audio.AudioSpecificConfig
	if aac >= 0 {
		if config, err = s.waitAAC(aac); err != nil {
			return err
		}
	}
	desc := &description.Session{}
	medias := make([]*description.Media, len(h.Tracks))
	for i, c := range h.Tracks {
		var f format.Format
		typ := description.MediaTypeAudio
		switch c {
		case unitfeed.CodecH264:
			f, typ = &format.H264{PayloadTyp: 96, PacketizationMode: 1}, description.MediaTypeVideo
		case unitfeed.CodecH265:
			f, typ = &format.H265{PayloadTyp: 96}, description.MediaTypeVideo
		case unitfeed.CodecG711A, unitfeed.CodecG711U:
			f = &format.G711{PayloadTyp: 8, MULaw: c == unitfeed.CodecG711U, SampleRate: 8000, ChannelCount: 1}
		case unitfeed.CodecAAC:
			if i != aac || config == nil {
				continue
			}
			f = &format.MPEG4Audio{PayloadTyp: 97, Config: config, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3}
		default:
			continue
		}
		medias[i] = &description.Media{Type: typ, Formats: []format.Format{f}}
		desc.Medias = append(desc.Medias, medias[i])
	}
	if s.tracks, err = segment.NewTracks(desc); err != nil {
		return fmt.Errorf("feed tracks %v: %w", h.Tracks, err)
	}
	s.byFeed = make([]*segment.Track, len(h.Tracks))
	for i, m := range medias {
		for _, t := range s.tracks {
			if m != nil && t.Media == m {
				s.byFeed[i] = t
			}
		}
	}
	return nil
}

// waitAAC reads units until the first one of the AAC track, whose ADTS
// header gives the config, for at most aacWait of video; the units read
// are kept for the recording. A nil config: record without AAC.
func (s *session) waitAAC(track int) (*mpeg4audio.AudioSpecificConfig, error) {
	first, seen := int64(0), false
	for len(s.pending) < describeUnits {
		u, err := s.feed.ReadUnit()
		if err != nil {
			return nil, fmt.Errorf("feed: %w", err)
		}
		s.pending = append(s.pending, u)
		if u.Track == track {
			var pkts mpeg4audio.ADTSPackets
			if err := pkts.Unmarshal(u.Payload); err != nil {
				return nil, nil //nolint:nilerr // not ADTS: recorded without the track
			}
			return &mpeg4audio.AudioSpecificConfig{
				Type: pkts[0].Type, SampleRate: pkts[0].SampleRate, ChannelConfig: pkts[0].ChannelConfig,
			}, nil
		}
		if !seen {
			first, seen = u.PTS, true
		} else if u.PTS-first > aacWait {
			break
		}
	}
	return nil, nil
}

// next returns the next unit to record. Units of tracks not recorded, and
// units that do not parse (the next key frame repairs those), are skipped.
// io.EOF: mediagw ended the stream.
func (s *session) next() (unit, error) {
	for {
		var fu unitfeed.Unit
		if len(s.pending) > 0 {
			fu, s.pending = s.pending[0], s.pending[1:]
		} else {
			var err error
			if fu, err = s.feed.ReadUnit(); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					// The gap's detail says what happened, not "i/o timeout".
					return unit{}, fmt.Errorf("%w for %s", ErrNoData, s.timeout)
				}
				return unit{}, err
			}
		}
		if u, ok := s.convert(fu); ok {
			return u, nil
		}
	}
}

// convert turns a feed unit into the writer's: NAL units for video, AAC
// access units without their ADTS headers, the PTS in the track's clock.
func (s *session) convert(fu unitfeed.Unit) (unit, bool) {
	t := s.byFeed[fu.Track]
	if t == nil {
		return unit{}, false
	}
	if !s.baseSet {
		s.base, s.baseSet = fu.PTS, true
	}
	rel := fu.PTS - s.base
	u := unit{track: t, pts: rel}
	if s.dated && !fu.Received.IsZero() {
		u.wall = fu.Received.Add(s.offset)
	}
	switch t.Codec() {
	case segment.CodecH264, segment.CodecH265:
		// Annex-B start codes are the same in H.265.
		if err := s.annexB.Unmarshal(fu.Payload); err != nil {
			return unit{}, false
		}
		u.au = [][]byte(s.annexB)
		s.annexB = nil // the writer may keep the slice
	case segment.CodecAAC:
		var pkts mpeg4audio.ADTSPackets
		if err := pkts.Unmarshal(fu.Payload); err != nil {
			return unit{}, false
		}
		u.au = make([][]byte, len(pkts))
		for i, p := range pkts {
			u.au[i] = p.AU
		}
		u.pts = scalePTS(rel, int64(t.TimeScale()))
	default:
		u.au = [][]byte{fu.Payload}
		u.pts = scalePTS(rel, int64(t.TimeScale()))
	}
	return u, true
}

// scalePTS converts a 90 kHz time to a clock of rate Hz, rounding down.
func scalePTS(pts90k, rate int64) int64 {
	v := pts90k * rate
	q := v / 90000
	if v%90000 != 0 && v < 0 {
		q--
	}
	return q
}

// close ends the session.
func (s *session) close() { s.body.Close() }

// deadlineDialer dials connections whose every read must complete within
// timeout: a feed that delivers nothing for that long ends.
type deadlineDialer struct {
	timeout time.Duration
	d       net.Dialer
}

func (d *deadlineDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d.d.Timeout = d.timeout
	c, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, timeout: d.timeout}, nil
}

type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}
