package config

import (
	"errors"
	"net"
	"net/url"
	"slices"
	"time"
)

// PlayAuth values of Mediagw.Auth.
const (
	AuthOn  = "on"
	AuthOff = "off"
)

// TranscodeEncoders lists the H.264 encoders Transcode.Encoder accepts.
var TranscodeEncoders = []string{"libx264", "h264_nvenc", "h264_vaapi", "h264_qsv"}

// WebhookEvents lists the events a webhook can subscribe to.
var WebhookEvents = []string{"stream.ready", "stream.closed", "stream.idle", "stream.needed", "sender.closed"}

// RTP configures mediagw's ingest of PS over RTP.
type RTP struct {
	// UDPListen is the shared UDP port; streams on it are told apart by SSRC.
	// Empty disables it (per-stream ports only).
	UDPListen string `yaml:"udp_listen"`
	// PortMin and PortMax bound the per-stream ports (UDP and TCP passive).
	PortMin int `yaml:"port_min"`
	PortMax int `yaml:"port_max"`
	// Timeout closes a stream that received no packet for this long.
	Timeout Duration `yaml:"timeout"`
	// ConnectTimeout bounds a TCP active dial to the device, and how long a
	// TCP passive port holds a connection from an IP not allowed yet while
	// it waits for sipserver's allow_ips update (a TCP passive port waits
	// for the device itself as long as Timeout).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// ReconnectGrace keeps a TCP stream (and its viewers) this long after the
	// device's connection dropped, waiting for it to come back.
	ReconnectGrace Duration `yaml:"reconnect_grace"`
	// ReorderPackets and ReorderDelay bound the reorder buffer; 0 picks the defaults (64 packets, 50 ms).
	ReorderPackets int      `yaml:"reorder_packets"`
	ReorderDelay   Duration `yaml:"reorder_delay"`
	// UDPPollInterval is how often the UDP ports are read, in batches: the
	// most a datagram waits in its socket; 0 picks the default (3 ms).
	UDPPollInterval Duration `yaml:"udp_poll_interval"`
	// UDPReaders is the number of goroutines reading the UDP ports (and of
	// sockets sharing udp_listen on Linux); 0 means one per core.
	UDPReaders int `yaml:"udp_readers"`
}

// WebRTC configures the WHEP output.
type WebRTC struct {
	// ICEUDPListen is the one UDP port of every WebRTC session.
	ICEUDPListen string `yaml:"ice_udp_listen"`
	// ICEHosts are the IPs given to browsers as candidates (NAT 1:1). Empty:
	// the host's own addresses.
	ICEHosts []string `yaml:"ice_hosts"`
}

// RTSPOut configures the RTSP server.
type RTSPOut struct {
	// Listen is the RTSP (TCP) address; empty disables the RTSP server.
	Listen string `yaml:"listen"`
	// UDPRTPListen and UDPRTCPListen enable RTP/RTCP over UDP to RTSP
	// readers (an even port and the next one); empty: TCP interleaved only.
	UDPRTPListen  string `yaml:"udp_rtp_listen"`
	UDPRTCPListen string `yaml:"udp_rtcp_listen"`
}

// HLS configures the LL-HLS output.
type HLS struct {
	// IdleTimeout closes a path's muxer after no request for this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// SegmentCount segments are kept in the playlist.
	SegmentCount int `yaml:"segment_count"`
	// SegmentDuration and PartDuration are the minimum durations.
	SegmentDuration Duration `yaml:"segment_duration"`
	PartDuration    Duration `yaml:"part_duration"`
}

// Transcode configures the shared H.265→H.264 transcode for browsers.
type Transcode struct {
	// FFmpeg is the ffmpeg binary.
	FFmpeg string `yaml:"ffmpeg"`
	// Encoder is the H.264 encoder: libx264 or a hardware one (h264_nvenc,
	// h264_vaapi, h264_qsv) when the host has it.
	Encoder string `yaml:"encoder"`
	// Linger keeps a transcode running this long after its last viewer left.
	Linger Duration `yaml:"linger"`
}

// OnDemand configures how mediagw asks sipserver for streams and tells it
// when they are no longer watched.
type OnDemand struct {
	// SipserverURL is sipserver's internal API (http://host:8081). Empty
	// disables on-demand start and the idle call.
	SipserverURL string `yaml:"sipserver_url"`
	// Wait bounds how long a viewer waits for a requested stream.
	Wait Duration `yaml:"wait"`
	// IdleTimeout is how long a stream may have no viewer before sipserver
	// is told it is idle (and sends BYE).
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// Webhook configures the event webhook.
type Webhook struct {
	// URL receives a POST per event; empty disables the webhook.
	URL string `yaml:"url"`
	// Secret signs each body (X-Sharpeyes-Signature: sha256=<hex HMAC>).
	Secret Secret `yaml:"secret"`
	// Events to send; empty sends every event.
	Events []string `yaml:"events"`
	// Timeout bounds one delivery attempt.
	Timeout Duration `yaml:"timeout"`
}

// Audit configures the audit of media opens: every WHEP session, HLS
// viewer session start and RTSP PLAY is posted to the console, which
// stores it in its audit table (internal/contract/auditapi).
type Audit struct {
	// ConsoleURL is the console's HTTP base URL (http://host:8080). Empty
	// audits to the log only, which fail_closed refuses.
	ConsoleURL string `yaml:"console_url"`
	// FailClosed refuses a viewer (503) whose audit row the console did
	// not confirm; false admits it with a warning and a counted failure.
	FailClosed bool `yaml:"fail_closed"`
	// Timeout bounds one audit call (the viewer waits for it) and one
	// revocation check.
	Timeout Duration `yaml:"timeout"`
	// RevocationInterval is how often mediagw asks the console which of
	// its viewers' play tokens are revoked (a user disabled, deleted, moved
	// or whose sessions an admin revoked) and closes their readers: with
	// Timeout it bounds how long a revoked user keeps watching. Between
	// 100ms and 5s; asked only while there are viewers.
	RevocationInterval Duration `yaml:"revocation_interval"`
}

// Bounds of audit.revocation_interval: 5 s plus the request leaves a
// revoked user's video under the 10 s the platform promises.
const (
	MinRevocationInterval = Duration(100 * time.Millisecond)
	MaxRevocationInterval = Duration(5 * time.Second)
)

// Downloads configures download/… streams, which keep their media for
// their first reader (the console's ffmpeg) instead of starting it at the
// latest keyframe.
type Downloads struct {
	// HoldBytes bounds the media a download stream keeps for its reader:
	// from its first packet until the reader attaches, and what the reader
	// has not read yet after that.
	HoldBytes ByteSize `yaml:"hold_bytes"`
	// Hold is how long a download stream whose device finished waits for
	// its first reader before it is dropped.
	Hold Duration `yaml:"hold"`
	// HoldTotal bounds the media all download streams of the gateway may
	// keep: each held download reserves HoldBytes while it is held, and a
	// new download that would take the reservations beyond HoldTotal is
	// refused (its receiver open fails with 503).
	HoldTotal ByteSize `yaml:"hold_total"`
}

// Mediagw is the configuration of cmd/mediagw. It keeps no state in the database.
type Mediagw struct {
	Log Log `yaml:"log"`
	// HTTP serves WHEP, HLS, the internal control API, health probes and /metrics.
	HTTP HTTP `yaml:"http"`
	// ServiceToken authenticates sipserver and console on the control API and
	// mediagw's calls to sipserver. Empty disables the control API.
	ServiceToken Secret `yaml:"service_token"`
	// Auth "on" requires a signed play token on every WHEP, HLS and RTSP
	// request; "off" (only when set explicitly) opens every stream to anyone
	// who can reach the ports.
	Auth string `yaml:"auth"`
	// PlayTokenSecret is the HMAC secret shared with the console (≥ 32
	// characters). Empty while Auth is on refuses every play request.
	PlayTokenSecret Secret `yaml:"play_token_secret"`
	// AdvertiseIP is the IP devices send media to and browsers reach.
	// Empty: the host's outbound IPv4 address.
	AdvertiseIP string    `yaml:"advertise_ip"`
	RTP         RTP       `yaml:"rtp"`
	WebRTC      WebRTC    `yaml:"webrtc"`
	RTSP        RTSPOut   `yaml:"rtsp"`
	HLS         HLS       `yaml:"hls"`
	Transcode   Transcode `yaml:"transcode"`
	OnDemand    OnDemand  `yaml:"on_demand"`
	Webhook     Webhook   `yaml:"webhook"`
	Audit       Audit     `yaml:"audit"`
	Downloads   Downloads `yaml:"downloads"`
}

// SetDefaults implements Service.
func (c *Mediagw) SetDefaults() {
	c.Log.setDefaults()
	c.HTTP.setDefaults(":8888")
	c.Auth = AuthOn
	c.RTP = RTP{
		UDPListen:      ":10000",
		PortMin:        30000,
		PortMax:        30999,
		Timeout:        Duration(10 * time.Second),
		ConnectTimeout: Duration(5 * time.Second),
		ReconnectGrace: Duration(3 * time.Second),
	}
	c.WebRTC = WebRTC{ICEUDPListen: ":8189"}
	c.RTSP = RTSPOut{Listen: ":8554"}
	c.HLS = HLS{
		IdleTimeout:     Duration(30 * time.Second),
		SegmentCount:    7,
		SegmentDuration: Duration(time.Second),
		PartDuration:    Duration(200 * time.Millisecond),
	}
	c.Transcode = Transcode{FFmpeg: "ffmpeg", Encoder: "libx264", Linger: Duration(5 * time.Second)}
	c.OnDemand = OnDemand{
		SipserverURL: "http://127.0.0.1:8081",
		Wait:         Duration(8 * time.Second),
		IdleTimeout:  Duration(30 * time.Second),
	}
	c.Webhook = Webhook{Timeout: Duration(5 * time.Second)}
	c.Audit = Audit{
		ConsoleURL: "http://127.0.0.1:8080", FailClosed: true, Timeout: Duration(3 * time.Second),
		RevocationInterval: MaxRevocationInterval,
	}
	// A 20-minute download of a 4 Mbit/s camera is 600 MB, whatever the
	// speed (×4) it comes at: the whole of it fits, so a reader that
	// attaches late or falls behind loses nothing.
	// Three such downloads at once fit in the 2G bound; smaller holds let
	// more run at once.
	c.Downloads = Downloads{HoldBytes: 640 << 20, Hold: Duration(30 * time.Second), HoldTotal: 2 << 30}
}

// Validate implements Service.
func (c *Mediagw) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) { errs = append(errs, fieldErr(key, format, args...)) }
	if c.ServiceToken != "" && len(c.ServiceToken) < 16 {
		add("service_token", "must have at least 16 characters")
	}
	switch c.Auth {
	case AuthOn, AuthOff:
	default:
		add("auth", "must be on or off, got %q", c.Auth)
	}
	if c.PlayTokenSecret != "" && len(c.PlayTokenSecret) < 32 {
		add("play_token_secret", "must have at least 32 characters")
	}
	if c.AdvertiseIP != "" && net.ParseIP(c.AdvertiseIP) == nil {
		add("advertise_ip", "must be an IP address, got %q", c.AdvertiseIP)
	}
	listens := []struct {
		key, addr string
		optional  bool
	}{
		{"rtp.udp_listen", c.RTP.UDPListen, true},
		{"webrtc.ice_udp_listen", c.WebRTC.ICEUDPListen, false},
		{"rtsp.listen", c.RTSP.Listen, true},
		{"rtsp.udp_rtp_listen", c.RTSP.UDPRTPListen, true},
		{"rtsp.udp_rtcp_listen", c.RTSP.UDPRTCPListen, true},
	}
	for _, l := range listens {
		if l.optional && l.addr == "" {
			continue
		}
		if err := validateListen(l.addr); err != nil {
			add(l.key, "%v", err)
		}
	}
	if (c.RTSP.UDPRTPListen == "") != (c.RTSP.UDPRTCPListen == "") {
		add("rtsp.udp_rtp_listen", "set both udp_rtp_listen and udp_rtcp_listen, or neither")
	}
	for _, h := range c.WebRTC.ICEHosts {
		if net.ParseIP(h) == nil {
			add("webrtc.ice_hosts", "must be IP addresses, got %q", h)
		}
	}
	if c.RTP.PortMin < 1024 || c.RTP.PortMax > 65535 || c.RTP.PortMin > c.RTP.PortMax {
		add("rtp.port_min", "need 1024 ≤ port_min ≤ port_max ≤ 65535, got %d and %d", c.RTP.PortMin, c.RTP.PortMax)
	}
	if !slices.Contains(TranscodeEncoders, c.Transcode.Encoder) {
		add("transcode.encoder", "must be one of %v, got %q", TranscodeEncoders, c.Transcode.Encoder)
	}
	if c.Transcode.FFmpeg == "" {
		add("transcode.ffmpeg", "must name the ffmpeg binary")
	}
	if ri := c.Audit.RevocationInterval; ri < MinRevocationInterval || ri > MaxRevocationInterval {
		add("audit.revocation_interval", "must be between %s and %s (a revoked user's video must end within 10 s), got %s",
			MinRevocationInterval, MaxRevocationInterval, ri)
	}
	if c.Audit.ConsoleURL == "" && c.Audit.FailClosed {
		add("audit.console_url", "is required while audit.fail_closed is true (every media open needs its audit row)")
	}
	for _, u := range []struct{ key, v string }{
		{"on_demand.sipserver_url", c.OnDemand.SipserverURL},
		{"webhook.url", c.Webhook.URL},
		{"audit.console_url", c.Audit.ConsoleURL},
	} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			add(u.key, "must be an http(s) URL, got %q", u.v)
		}
	}
	for _, e := range c.Webhook.Events {
		if !slices.Contains(WebhookEvents, e) {
			add("webhook.events", "unknown event %q (known: %v)", e, WebhookEvents)
		}
	}
	positive := []struct {
		key string
		ok  bool
	}{
		{"rtp.timeout", c.RTP.Timeout > 0},
		{"rtp.connect_timeout", c.RTP.ConnectTimeout > 0},
		{"rtp.reconnect_grace", c.RTP.ReconnectGrace >= 0},
		{"rtp.reorder_packets", c.RTP.ReorderPackets >= 0 && c.RTP.ReorderPackets <= 4096},
		{"rtp.reorder_delay", c.RTP.ReorderDelay >= 0 && c.RTP.ReorderDelay <= Duration(2*time.Second)},
		{"rtp.udp_poll_interval", c.RTP.UDPPollInterval == 0 ||
			(c.RTP.UDPPollInterval >= Duration(time.Millisecond) && c.RTP.UDPPollInterval <= Duration(100*time.Millisecond))},
		{"rtp.udp_readers", c.RTP.UDPReaders >= 0 && c.RTP.UDPReaders <= 256},
		{"hls.idle_timeout", c.HLS.IdleTimeout > 0},
		{"hls.segment_count", c.HLS.SegmentCount >= 3},
		{"hls.segment_duration", c.HLS.SegmentDuration > 0},
		{"hls.part_duration", c.HLS.PartDuration > 0 && c.HLS.PartDuration <= c.HLS.SegmentDuration},
		{"transcode.linger", c.Transcode.Linger >= 0},
		{"on_demand.wait", c.OnDemand.Wait > 0},
		{"on_demand.idle_timeout", c.OnDemand.IdleTimeout > 0},
		{"webhook.timeout", c.Webhook.Timeout > 0},
		{"audit.timeout", c.Audit.Timeout > 0 && c.Audit.Timeout <= Duration(time.Minute)},
		{"downloads.hold_bytes", c.Downloads.HoldBytes >= 1<<20},
		{"downloads.hold", c.Downloads.Hold > 0},
	}
	if c.Downloads.HoldTotal < c.Downloads.HoldBytes {
		add("downloads.hold_total", "must be at least downloads.hold_bytes (%s), got %s: no download could be held",
			c.Downloads.HoldBytes, c.Downloads.HoldTotal)
	}
	for _, p := range positive {
		if !p.ok {
			add(p.key, "out of range")
		}
	}
	return errors.Join(c.Log.validate(), c.HTTP.validate(), errors.Join(errs...))
}
