package sdp

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Transport is how RTP travels, named from the platform's (offerer's) side
// as WVP names its stream modes.
type Transport int

const (
	// TransportUDP is RTP over UDP ("RTP/AVP").
	TransportUDP Transport = iota
	// TransportTCPPassive is RTP over TCP where the platform listens and
	// the device connects (offer a=setup:passive).
	TransportTCPPassive
	// TransportTCPActive is RTP over TCP where the platform connects to the
	// port the device answers with (offer a=setup:active).
	TransportTCPActive
)

// String returns "UDP", "TCP-PASSIVE" or "TCP-ACTIVE".
func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "UDP"
	case TransportTCPPassive:
		return "TCP-PASSIVE"
	case TransportTCPActive:
		return "TCP-ACTIVE"
	}
	return fmt.Sprintf("Transport(%d)", int(t))
}

// IsTCP reports whether t is one of the TCP modes.
func (t Transport) IsTCP() bool { return t == TransportTCPPassive || t == TransportTCPActive }

// Endpoint is the platform side of an offer.
type Endpoint struct {
	// ID is the platform's 20-digit SIP server ID, written as o= username.
	ID string
	// IP is the media IP address, written in o= and c=.
	IP string
	// Port is where the platform receives RTP (UDP, TCP passive); nominal
	// for TCP active, but devices still expect a real number.
	Port int
}

// OfferOption customizes an offer built by NewPlayOffer and friends.
type OfferOption func(*offerConfig)

type offerConfig struct {
	transport Transport
	stream    StreamSelector
	uriParam  string
	rtpMaps   []RTPMap
}

// WithTransport selects UDP (the default for video), TCP passive or TCP
// active. TCP adds a=setup and a=connection:new.
func WithTransport(t Transport) OfferOption {
	return func(c *offerConfig) { c.transport = t }
}

// WithStreamNumber asks for stream n (0 main, 1 sub …) with the 2022
// attribute a=streamnumber:n.
func WithStreamNumber(n int) OfferOption {
	return WithStreamAttribute(StreamAttrNumber, n)
}

// WithStreamAttribute asks for stream n with a vendor attribute name, for
// example a=streamprofile:n or a=stream:n, configured per channel because
// vendors differ.
func WithStreamAttribute(attr string, n int) OfferOption {
	return func(c *offerConfig) { c.stream = StreamSelector{Attr: attr, Number: n} }
}

// WithURIParam sets the <param> of u=<channelID>:<param> in playback and
// download offers. The default is "0", as WVP sends.
func WithURIParam(p string) OfferOption {
	return func(c *offerConfig) { c.uriParam = p }
}

// WithRTPMaps replaces the offered payload types (DefaultVideoRTPMaps for
// video, 8 PCMA/8000 for talk); the m= format list follows them.
func WithRTPMaps(maps ...RTPMap) OfferOption {
	return func(c *offerConfig) { c.rtpMaps = append([]RTPMap(nil), maps...) }
}

// NewPlayOffer builds the platform's s=Play offer for live video.
func NewPlayOffer(ep Endpoint, ssrc SSRC, opts ...OfferOption) (*Session, error) {
	return newVideoOffer(SessionPlay, ep, ssrc, "", TimeRange{}, 0, opts)
}

// NewPlaybackOffer builds the platform's s=Playback offer for the
// recording of channelID between start and end (t= in unix seconds,
// u=<channelID>:0).
func NewPlaybackOffer(ep Endpoint, ssrc SSRC, channelID string, start, end time.Time, opts ...OfferOption) (*Session, error) {
	tr, err := timeRange(start, end)
	if err != nil {
		return nil, err
	}
	return newVideoOffer(SessionPlayback, ep, ssrc, channelID, tr, 0, opts)
}

// NewDownloadOffer builds the platform's s=Download offer, like
// NewPlaybackOffer plus a=downloadspeed:<speed> (1, 2, 4, 8 …).
func NewDownloadOffer(ep Endpoint, ssrc SSRC, channelID string, start, end time.Time, speed int, opts ...OfferOption) (*Session, error) {
	if speed < 1 {
		return nil, fmt.Errorf("download speed %d: %w", speed, ErrInvalidOffer)
	}
	tr, err := timeRange(start, end)
	if err != nil {
		return nil, err
	}
	return newVideoOffer(SessionDownload, ep, ssrc, channelID, tr, speed, opts)
}

// NewTalkOffer builds the platform's s=Talk offer for two-way audio, as
// WVP sends it: m=audio with PT 8 (PCMA/8000), a=sendrecv, TCP passive
// unless WithTransport says otherwise, and f=v/////a/1/8/1 (G.711, 64
// kbit/s, 8 kHz).
func NewTalkOffer(ep Endpoint, ssrc SSRC, opts ...OfferOption) (*Session, error) {
	cfg := offerConfig{
		transport: TransportTCPPassive,
		rtpMaps:   []RTPMap{{PayloadType: 8, EncodingName: "PCMA", ClockRate: 8000}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := newOffer(SessionTalk, MediaAudio, DirectionSendRecv, ep, ssrc, &cfg)
	if err != nil {
		return nil, err
	}
	s.Format = ParseFormat("v/////a/" + FormatAudioG711 + "/8/1")
	return s, nil
}

func newVideoOffer(name string, ep Endpoint, ssrc SSRC, channelID string, tr TimeRange, speed int, opts []OfferOption) (*Session, error) {
	cfg := offerConfig{uriParam: "0", rtpMaps: DefaultVideoRTPMaps()}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := newOffer(name, MediaVideo, DirectionRecvOnly, ep, ssrc, &cfg)
	if err != nil {
		return nil, err
	}
	if name != SessionPlay {
		if err := checkToken("channel ID", channelID); err != nil {
			return nil, err
		}
		if strings.ContainsAny(cfg.uriParam, "\r\n") {
			return nil, fmt.Errorf("u= param %q: %w", cfg.uriParam, ErrInvalidOffer)
		}
		s.URI = channelID + ":" + cfg.uriParam
	}
	s.Time = tr
	s.Medias[0].DownloadSpeed = speed
	s.Format = &Format{}
	return s, nil
}

// newOffer builds and validates what every offer shares.
func newOffer(name, mediaType string, dir Direction, ep Endpoint, ssrc SSRC, cfg *offerConfig) (*Session, error) {
	if err := checkToken("endpoint ID", ep.ID); err != nil {
		return nil, err
	}
	ip, err := netip.ParseAddr(ep.IP)
	if err != nil || ip.Zone() != "" {
		return nil, fmt.Errorf("endpoint IP %q: %w", ep.IP, ErrInvalidOffer)
	}
	if ep.Port < 1 || ep.Port > 65535 {
		return nil, fmt.Errorf("endpoint port %d: %w", ep.Port, ErrInvalidOffer)
	}
	if len(cfg.rtpMaps) == 0 {
		return nil, fmt.Errorf("no payload types: %w", ErrInvalidOffer)
	}
	if !cfg.stream.IsZero() {
		if err := checkToken("stream attribute", cfg.stream.Attr); err != nil {
			return nil, err
		}
		if cfg.stream.Number < 0 || strings.Contains(cfg.stream.Attr, ":") {
			return nil, fmt.Errorf("stream %s:%d: %w", cfg.stream.Attr, cfg.stream.Number, ErrInvalidOffer)
		}
	}

	addrType := "IP4"
	ip = ip.Unmap()
	if ip.Is6() {
		addrType = "IP6"
	}
	conn := Connection{NetType: "IN", AddrType: addrType, Address: ip.String()}
	m := &Media{
		Type:      mediaType,
		Port:      ep.Port,
		Proto:     ProtoUDP,
		Direction: dir,
		RTPMaps:   cfg.rtpMaps,
		Stream:    cfg.stream,
	}
	for _, r := range cfg.rtpMaps {
		if r.PayloadType > 127 || r.EncodingName == "" || strings.ContainsAny(r.EncodingName, " \t\r\n/") ||
			strings.ContainsAny(r.Params, "\r\n") {
			return nil, fmt.Errorf("rtpmap %q: %w", r.String(), ErrInvalidOffer)
		}
		m.Formats = append(m.Formats, r.PayloadType)
	}
	switch cfg.transport {
	case TransportUDP:
	case TransportTCPPassive, TransportTCPActive:
		m.Proto = ProtoTCP
		m.Setup = SetupPassive
		if cfg.transport == TransportTCPActive {
			m.Setup = SetupActive
		}
		m.ConnectionMode = ConnectionNew
	default:
		return nil, fmt.Errorf("transport %v: %w", cfg.transport, ErrInvalidOffer)
	}

	s := &Session{
		Origin: Origin{
			Username: ep.ID, SessionID: "0", SessionVersion: "0",
			NetType: "IN", AddrType: addrType, Address: conn.Address,
		},
		Name:       name,
		Connection: conn,
		Medias:     []*Media{m},
	}
	s.SetSSRC(ssrc)
	return s, nil
}

func timeRange(start, end time.Time) (TimeRange, error) {
	if start.Unix() < 0 || end.Before(start) {
		return TimeRange{}, fmt.Errorf("time range %v–%v: %w", start, end, ErrInvalidOffer)
	}
	return TimeRange{Start: uint64(start.Unix()), Stop: uint64(end.Unix())}, nil
}

// checkToken rejects IDs that would break the line they are written into.
func checkToken(what, v string) error {
	if v == "" || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("%s %q: %w", what, v, ErrInvalidOffer)
	}
	return nil
}
