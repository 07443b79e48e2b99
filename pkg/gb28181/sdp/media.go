package sdp

import (
	"strconv"
	"strings"
)

// Media types (the first field of m=).
const (
	// MediaVideo carries PS (or ES) video.
	MediaVideo = "video"
	// MediaAudio carries G.711 for broadcast and talk.
	MediaAudio = "audio"
)

// Transport protocols (the third field of m=).
const (
	// ProtoUDP is RTP over UDP.
	ProtoUDP = "RTP/AVP"
	// ProtoTCP is RTP over TCP with RFC 4571 framing.
	ProtoTCP = "TCP/RTP/AVP"
)

// Direction is the a=recvonly|sendonly|sendrecv|inactive attribute.
type Direction string

// Directions.
const (
	// DirectionRecvOnly: the sender of this SDP only receives (platform offers).
	DirectionRecvOnly Direction = "recvonly"
	// DirectionSendOnly: the sender of this SDP only sends (device answers).
	DirectionSendOnly Direction = "sendonly"
	// DirectionSendRecv: both ways (talk).
	DirectionSendRecv Direction = "sendrecv"
	// DirectionInactive: no media.
	DirectionInactive Direction = "inactive"
)

// Setup is the RFC 4145 a=setup attribute: who opens the TCP connection.
type Setup string

// Setup values.
const (
	// SetupActive: the sender of this SDP connects.
	SetupActive Setup = "active"
	// SetupPassive: the sender of this SDP listens.
	SetupPassive Setup = "passive"
	// SetupActPass: the sender of this SDP lets the answerer choose.
	SetupActPass Setup = "actpass"
	// SetupHoldConn: no connection for now.
	SetupHoldConn Setup = "holdconn"
)

// ConnectionMode is the RFC 4145 a=connection attribute.
type ConnectionMode string

// Connection modes.
const (
	// ConnectionNew asks for a fresh TCP connection.
	ConnectionNew ConnectionMode = "new"
	// ConnectionExisting reuses an open TCP connection.
	ConnectionExisting ConnectionMode = "existing"
)

// Stream selection attribute names. GB/T 28181-2022 defines streamnumber;
// vendors use streamprofile or stream for the same thing.
const (
	// StreamAttrNumber is the GB/T 28181-2022 a=streamnumber.
	StreamAttrNumber = "streamnumber"
	// StreamAttrProfile is the vendor a=streamprofile.
	StreamAttrProfile = "streamprofile"
	// StreamAttrStream is the vendor a=stream.
	StreamAttrStream = "stream"
)

// Media is an m= section with the attributes GB28181 uses.
//
// Marshal writes the attributes in this order: Direction, RTPMaps, Setup,
// ConnectionMode, DownloadSpeed, FileSize, Stream, then Attributes.
type Media struct {
	// Type is "video" or "audio".
	Type string
	// Port is the m= port. In a TCP-active offer it is nominal; in a
	// TCP-passive answer it is the port the device listens on.
	Port int
	// PortCount is the optional "/<n>" after the port; 0 when absent.
	PortCount int
	// Proto is "RTP/AVP" (UDP) or "TCP/RTP/AVP".
	Proto string
	// Formats are the RTP payload types listed in m=.
	Formats []uint8
	// Connection is a media-level c= line; its zero value means absent.
	Connection Connection
	// Extra holds media-level lines this package does not interpret.
	Extra []Line
	// Direction is a=recvonly etc.; empty when absent.
	Direction Direction
	// RTPMaps are the a=rtpmap lines, in order.
	RTPMaps []RTPMap
	// Setup is a=setup; empty when absent.
	Setup Setup
	// ConnectionMode is a=connection; empty when absent.
	ConnectionMode ConnectionMode
	// DownloadSpeed is a=downloadspeed (s=Download); 0 when absent.
	DownloadSpeed int
	// FileSize is a=filesize in bytes (Download answers); 0 when absent.
	FileSize int64
	// Stream is the main/sub stream selection; zero when absent.
	Stream StreamSelector
	// Attributes holds every other a= line verbatim, in order, as well as
	// repeats of the typed ones above.
	Attributes []Attribute
}

// IsTCP reports whether the media uses RTP over TCP ("TCP/RTP/AVP", and
// the non-standard "RTP/AVP/TCP").
func (m *Media) IsTCP() bool {
	p := strings.ToUpper(m.Proto)
	return strings.HasPrefix(p, "TCP/") || strings.HasSuffix(p, "/TCP")
}

// Attribute returns the value of the first attribute in Attributes named
// key (case-insensitive). Typed attributes are in their own fields.
func (m *Media) Attribute(key string) (string, bool) {
	return findAttribute(m.Attributes, key)
}

// RTPMap is an a=rtpmap line: "<pt> <name>/<clock>[/<params>]".
type RTPMap struct {
	// PayloadType is the RTP payload type, 0..127.
	PayloadType uint8
	// EncodingName is e.g. "PS", "H264", "PCMA".
	EncodingName string
	// ClockRate is in Hz (90000 for video).
	ClockRate uint32
	// Params are the optional encoding parameters (audio channels).
	Params string
}

// String returns the text after "a=rtpmap:".
func (r RTPMap) String() string {
	s := strconv.Itoa(int(r.PayloadType)) + " " + r.EncodingName + "/" + strconv.FormatUint(uint64(r.ClockRate), 10)
	if r.Params != "" {
		s += "/" + r.Params
	}
	return s
}

// parseRTPMap decodes the value of an a=rtpmap line.
func parseRTPMap(v string) (RTPMap, bool) {
	pt, rest, ok := strings.Cut(v, " ")
	if !ok {
		return RTPMap{}, false
	}
	n, ok := parseUint(pt, 127)
	if !ok {
		return RTPMap{}, false
	}
	parts := strings.SplitN(strings.TrimSpace(rest), "/", 3)
	if len(parts) < 2 || parts[0] == "" || strings.ContainsAny(parts[0], " \t") {
		return RTPMap{}, false
	}
	clock, ok := parseUint(parts[1], 1<<32-1)
	if !ok {
		return RTPMap{}, false
	}
	r := RTPMap{PayloadType: uint8(n), EncodingName: parts[0], ClockRate: uint32(clock)}
	if len(parts) == 3 {
		if parts[2] == "" {
			return RTPMap{}, false
		}
		r.Params = parts[2]
	}
	return r, true
}

// DefaultVideoRTPMaps returns the payload types GB28181 platforms offer for
// video: 96 PS, 97 MPEG-4, 98 H.264, 99 H.265, all at 90 kHz.
func DefaultVideoRTPMaps() []RTPMap {
	return []RTPMap{
		{PayloadType: 96, EncodingName: "PS", ClockRate: 90000},
		{PayloadType: 97, EncodingName: "MPEG4", ClockRate: 90000},
		{PayloadType: 98, EncodingName: "H264", ClockRate: 90000},
		{PayloadType: 99, EncodingName: "H265", ClockRate: 90000},
	}
}

// StreamSelector asks a device for its main (0) or a sub stream (1, 2 …)
// through an attribute such as a=streamnumber:0. The attribute name varies
// by vendor, so it is kept.
type StreamSelector struct {
	// Attr is the attribute name (see StreamAttrNumber etc.); empty when
	// absent.
	Attr string
	// Number is the stream index, 0 = main stream.
	Number int
}

// IsZero reports whether no stream selection is present.
func (s StreamSelector) IsZero() bool { return s.Attr == "" }

// isStreamAttr reports whether key names a stream selection attribute.
func isStreamAttr(key string) bool {
	return strings.EqualFold(key, StreamAttrNumber) ||
		strings.EqualFold(key, StreamAttrProfile) ||
		strings.EqualFold(key, StreamAttrStream)
}

// parseUint decodes a plain decimal number (no sign) not above maxVal.
func parseUint(s string, maxVal uint64) (uint64, bool) {
	if !isDigits(s) || len(s) > 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > maxVal {
		return 0, false
	}
	return v, true
}
