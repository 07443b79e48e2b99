package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
)

// unitQueue bounds the units between the RTSP reader and the writer: a few
// seconds of video and audio, so a slow disk holds the reader back (TCP
// back-pressure) rather than growing memory.
const unitQueue = 512

// unit is one access unit (video, AAC) or one G.711 payload, copied out of
// the RTSP client's buffers.
type unit struct {
	track *segment.Track
	pts   int64
	au    [][]byte
}

// session is one RTSP read of a channel's live stream over TCP.
type session struct {
	client *gortsplib.Client
	tracks []*segment.Track
	units  chan unit
	stop   chan struct{}
	// endedCh is closed when the client has ended, endErr saying why.
	endedCh chan struct{}
	endErr  error
}

// streamURL is <base>/live/<channel>?token=…
func streamURL(baseURL, channelID, token string) string {
	return strings.TrimRight(baseURL, "/") + "/" + streampath.Live(channelID) + "?token=" + url.QueryEscape(token)
}

// openSession connects, reads the description, picks the tracks and plays;
// ctx ending breaks the opening off. The session's units arrive on units
// until it ends (endedCh is closed, endErr says why).
func openSession(ctx context.Context, rawURL string, timeout time.Duration) (*session, error) {
	u, err := base.ParseURL(rawURL)
	if err != nil {
		// Not wrapped: the parser's error quotes the URL, play token included,
		// and this text goes to the log and the gap's detail.
		return nil, errors.New("stream URL: not a valid rtsp:// URL (check recorder.rtsp_url)")
	}
	tcp := gortsplib.ProtocolTCP
	s := &session{
		client: &gortsplib.Client{
			Scheme: u.Scheme, Host: u.Host, Protocol: &tcp,
			ReadTimeout: timeout, WriteTimeout: timeout,
			UserAgent: "sharpeyes-recorder",
		},
		units:   make(chan unit, unitQueue),
		stop:    make(chan struct{}),
		endedCh: make(chan struct{}),
	}
	if err := s.client.Start(); err != nil {
		return nil, fmt.Errorf("rtsp start: %w", err)
	}
	// A channel closed while a camera takes its time to answer does not
	// wait for the read timeout.
	stop := context.AfterFunc(ctx, s.client.Close)
	err = s.play(u)
	stop()
	if err != nil {
		s.client.Close()
		return nil, err
	}
	go func() {
		s.endErr = s.client.Wait()
		close(s.endedCh)
	}()
	return s, nil
}

func (s *session) play(u *base.URL) error {
	desc, _, err := s.client.Describe(u)
	if err != nil {
		return fmt.Errorf("rtsp describe: %w", err)
	}
	s.tracks, err = segment.NewTracks(desc)
	if err != nil {
		return fmt.Errorf("rtsp tracks: %w", err)
	}
	for _, t := range s.tracks {
		if _, err := s.client.Setup(desc.BaseURL, t.Media, 0, 0); err != nil {
			return fmt.Errorf("rtsp setup: %w", err)
		}
		dec, err := newDecoder(t)
		if err != nil {
			return err
		}
		s.client.OnPacketRTP(t.Media, t.Format, func(pkt *rtp.Packet) {
			pts, ok := s.client.PacketPTS(t.Media, pkt)
			if !ok {
				return
			}
			au, err := dec(pkt)
			if err != nil || len(au) == 0 {
				return // a fragment of a unit, or a broken packet the next key frame repairs
			}
			select {
			case s.units <- unit{track: t, pts: pts, au: au}:
			case <-s.stop:
			}
		})
	}
	if _, err := s.client.Play(nil); err != nil {
		return fmt.Errorf("rtsp play: %w", err)
	}
	return nil
}

// close ends the session and waits for the client's goroutines.
func (s *session) close() {
	close(s.stop) // a callback blocked on a full queue returns
	s.client.Close()
	<-s.endedCh
}

// newDecoder returns the depacketizer of t; its units are copies.
func newDecoder(t *segment.Track) (func(*rtp.Packet) ([][]byte, error), error) {
	switch f := t.Format.(type) {
	case *format.H264:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("h264 decoder: %w", err)
		}
		return func(p *rtp.Packet) ([][]byte, error) { return copied(d.Decode(p)) }, nil
	case *format.H265:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("h265 decoder: %w", err)
		}
		return func(p *rtp.Packet) ([][]byte, error) { return copied(d.Decode(p)) }, nil
	case *format.G711:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("g711 decoder: %w", err)
		}
		return func(p *rtp.Packet) ([][]byte, error) {
			b, err := d.Decode(p)
			if err != nil {
				return nil, err
			}
			return [][]byte{bytes.Clone(b)}, nil
		}, nil
	case *format.MPEG4Audio:
		d, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("aac decoder: %w", err)
		}
		return func(p *rtp.Packet) ([][]byte, error) { return copied(d.Decode(p)) }, nil
	}
	return nil, fmt.Errorf("no decoder for %s", t.Codec())
}

// copied copies the units out of the packet's buffer, which the client reuses.
func copied(au [][]byte, err error) ([][]byte, error) {
	if err != nil {
		if errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrMorePacketsNeeded) ||
			errors.Is(err, rtpmpeg4audio.ErrMorePacketsNeeded) {
			return nil, nil
		}
		return nil, err
	}
	out := make([][]byte, len(au))
	for i, n := range au {
		out[i] = bytes.Clone(n)
	}
	return out, nil
}
