// Package mediaapi is the contract of mediagw's internal control API
// (/internal/v1, docs/mediagw.md): its request and response types, its
// error codes and the one Client sipserver and tools call it with.
// mediagw's handlers answer with these types, so the two sides cannot
// drift; the JSON field names are the API's and stay as they are.
package mediaapi

import "time"

// Transports of OpenRequest.Transport.
const (
	TransportUDP        = "udp"
	TransportTCPPassive = "tcp-passive"
	TransportTCPActive  = "tcp-active"
)

// OpenRequest asks for a receiver: the body of POST /internal/v1/receivers.
type OpenRequest struct {
	// Path is the stream path the media is published at (streampath).
	Path string `json:"path"`
	// SSRC is the decimal SSRC of the session (the SDP's y=); empty accepts
	// the first SSRC seen (not allowed on the shared UDP port).
	SSRC string `json:"ssrc"`
	// Transport is udp, tcp-passive or tcp-active.
	Transport string `json:"transport"`
	// Shared receives UDP on the shared port (told apart by SSRC) instead of
	// a port of the stream's own.
	Shared bool `json:"shared"`
	// AllowIPs are the device's addresses (sipserver sends its registered
	// signalling IP): media is accepted only from them. Empty accepts any
	// source, latched at its first packet.
	AllowIPs []string `json:"allow_ips,omitempty"`
}

// PatchRequest is the body of PATCH /internal/v1/receivers/{id}: the SSRC
// the device answered with and the addresses its media may come from,
// once its SDP answer is known, or a pause of its playback. A nil field is left as it is; both are
// checked before either is applied.
type PatchRequest struct {
	SSRC     *string   `json:"ssrc,omitempty"`
	AllowIPs *[]string `json:"allow_ips,omitempty"`
	// Paused says the device paused its stream (a playback's MANSRTSP
	// PAUSE): no media is not its end meanwhile. false resumes the timeout.
	Paused *bool `json:"paused,omitempty"`
}

// ConnectRequest is the body of POST /internal/v1/receivers/{id}/connect:
// the device's address a tcp-active receiver dials.
type ConnectRequest struct {
	IP   string `json:"ip"`
	Port int    `json:"port"`
}

// Receiver describes a receiver in API answers.
type Receiver struct {
	ID        string `json:"id"`
	Path      string `json:"path"`
	SSRC      string `json:"ssrc"`
	Transport string `json:"transport"`
	Shared    bool   `json:"shared,omitempty"`
	// IP and Port are where the device sends media (the SDP offer's c= and m=).
	IP     string `json:"ip"`
	Port   int    `json:"port"`
	Remote string `json:"remote,omitempty"`
	// AllowIPs are the addresses media is accepted from ([]: any).
	AllowIPs []string     `json:"allow_ips"`
	Created  time.Time    `json:"created"`
	Ingest   *IngestStats `json:"ingest,omitempty"`
}

// IngestStats are a receiver's counters in API answers.
type IngestStats struct {
	SSRC        uint32 `json:"ssrc"`
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	Lost        uint64 `json:"lost"`
	Duplicates  uint64 `json:"duplicates"`
	Late        uint64 `json:"late"`
	Reordered   uint64 `json:"reordered"`
	Restarts    uint64 `json:"restarts"`
	ForeignSSRC uint64 `json:"foreign_ssrc"`
	// ForeignSource counts packets of the stream's SSRC (and TCP
	// connections) from a source that is not the device, dropped.
	ForeignSource uint64 `json:"foreign_source"`
	// HeldConnections counts tcp-passive connections from an IP not allowed
	// yet, held until the first allow_ips PATCH decided on them.
	HeldConnections uint64 `json:"held_connections"`
	// SourceMoves counts the times the latched source moved.
	SourceMoves uint64 `json:"source_moves"`
	// Source is the UDP ip:port the stream latched onto.
	Source      string     `json:"source,omitempty"`
	Invalid     uint64     `json:"invalid"`
	Skipped     uint64     `json:"skipped_bytes"`
	DemuxErrors uint64     `json:"demux_errors"`
	Frames      uint64     `json:"frames"`
	Keyframes   uint64     `json:"keyframes"`
	VideoCodec  string     `json:"video_codec,omitempty"`
	AudioCodec  string     `json:"audio_codec,omitempty"`
	LastPacket  *time.Time `json:"last_packet,omitempty"`
}

// Stream is a stream in API answers: the hub's statistics and, for
// streams with a receiver, the ingest's.
type Stream struct {
	Path        string       `json:"path"`
	Published   time.Time    `json:"published"`
	VideoCodec  string       `json:"video_codec,omitempty"`
	AudioCodec  string       `json:"audio_codec,omitempty"`
	Width       int          `json:"width,omitempty"`
	Height      int          `json:"height,omitempty"`
	FPS         float64      `json:"fps"`
	Bitrate     float64      `json:"bitrate"`
	Units       uint64       `json:"units"`
	VideoUnits  uint64       `json:"video_units"`
	Bytes       uint64       `json:"bytes"`
	Keyframes   uint64       `json:"keyframes"`
	GOPUnits    int          `json:"gop_units"`
	Drops       uint64       `json:"reader_drops"`
	SlowReaders uint64       `json:"slow_reader_disconnects"`
	LastUnit    *time.Time   `json:"last_unit,omitempty"`
	Readers     []Reader     `json:"readers"`
	Receiver    string       `json:"receiver,omitempty"`
	Ingest      *IngestStats `json:"ingest,omitempty"`
	Transcode   bool         `json:"transcode,omitempty"`
	ReaderCount int          `json:"reader_count"`
	// Hold describes a download stream kept for its reader.
	Hold *Hold `json:"hold,omitempty"`
}

// Hold is the hold of a download stream in API answers.
type Hold struct {
	// Units and Bytes are kept for the reader and not handed to it yet.
	Units int `json:"units"`
	Bytes int `json:"bytes"`
	// MaxBytes is downloads.hold_bytes.
	MaxBytes int `json:"max_bytes"`
	// Dropped counts units given up because the hold filled before the
	// reader attached.
	Dropped uint64 `json:"dropped"`
	// Attached: the reader came; Ended: the device finished.
	Attached bool `json:"attached"`
	Ended    bool `json:"ended"`
}

// Reader is a reader of a stream in API answers.
type Reader struct {
	Name      string    `json:"name"`
	Since     time.Time `json:"since"`
	Units     uint64    `json:"units"`
	Bytes     uint64    `json:"bytes"`
	Keyframes uint64    `json:"keyframes"`
	Drops     uint64    `json:"drops"`
	Queued    int       `json:"queued"`
	Skipping  bool      `json:"skipping,omitempty"`
}

// PlayTokenRequest is the body of POST /internal/v1/play-tokens.
type PlayTokenRequest struct {
	// Paths the token opens ("live/*" opens every path under live/).
	Paths []string `json:"paths"`
	// Rights granted (playtoken.Right*); empty means live.
	Rights []string `json:"rights"`
	// Subject names the viewer in audit rows.
	Subject string `json:"subject"`
	// TTL is a Go duration up to 24h; empty means 5m.
	TTL string `json:"ttl"`
}

// PlayToken is the answer of POST /internal/v1/play-tokens.
type PlayToken struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// WebhookStatus is the answer of GET /internal/v1/webhook.
type WebhookStatus struct {
	Enabled bool `json:"enabled"`
	// Webhook is set when Enabled.
	Webhook *WebhookStats `json:"webhook,omitempty"`
}

// WebhookStats are the webhook's counters.
type WebhookStats struct {
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Signed    bool     `json:"signed"`
	Delivered uint64   `json:"delivered"`
	Failed    uint64   `json:"failed"`
	Dropped   uint64   `json:"dropped"`
	Queued    int      `json:"queued"`
	LastError string   `json:"last_error,omitempty"`
}

// Sender transports (SenderRequest.Transport).
const (
	// SenderUDP sends datagrams to the superior's address.
	SenderUDP = "udp"
	// SenderTCPConnect connects to the superior (its SDP said a=setup:passive).
	SenderTCPConnect = "tcp-connect"
	// SenderTCPListen waits for the superior to connect (a=setup:active).
	SenderTCPListen = "tcp-listen"
)

// SenderRequest asks for a sender: the body of POST /internal/v1/senders. A
// sender sends the stream at Path (started on demand like a viewer's) to a
// superior platform as PS over RTP with its SSRC, re-encoding nothing.
type SenderRequest struct {
	// Path is the stream path (streampath), e.g. live/<channel>.
	Path string `json:"path"`
	// SSRC is the decimal SSRC of the superior's SDP (y=).
	SSRC string `json:"ssrc"`
	// Transport is udp, tcp-connect or tcp-listen.
	Transport string `json:"transport"`
	// Dest is the superior's ip:port (udp, tcp-connect).
	Dest string `json:"dest,omitempty"`
	// AllowIPs are the superior's addresses: a tcp-listen sender accepts a
	// connection only from them (required for tcp-listen).
	AllowIPs []string `json:"allow_ips,omitempty"`
	// Subject is who the stream goes to, for the audit log
	// ("platform:<server ID>"): the sender opens only once the console has
	// stored the media open (unless audit.fail_closed is off).
	Subject string `json:"subject"`
}

// Sender is an open sender, as the API shows it.
type Sender struct {
	ID        string `json:"id"`
	Path      string `json:"path"`
	SSRC      string `json:"ssrc"`
	Transport string `json:"transport"`
	Dest      string `json:"dest,omitempty"`
	Subject   string `json:"subject"`
	// IP and Port are where the media comes from (udp), or where the
	// superior connects (tcp-listen); for tcp-connect the port is 9 until
	// connected.
	IP        string    `json:"ip"`
	Port      int       `json:"port"`
	CreatedAt time.Time `json:"created_at"`
	Units     uint64    `json:"units"`
	Packets   uint64    `json:"packets"`
	Bytes     uint64    `json:"bytes"`
}
