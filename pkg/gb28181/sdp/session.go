package sdp

import (
	"strings"
	"time"
)

// Limits applied by Parse. GB28181 SDP bodies are well under 2 KiB; the
// limits only keep hostile input from costing memory or time.
const (
	// MaxSize is the largest SDP body Parse accepts, in bytes.
	MaxSize = 64 * 1024
	// MaxLines is the largest number of non-empty lines Parse accepts.
	MaxLines = 512
	// MaxMedias is the largest number of m= sections Parse accepts.
	MaxMedias = 16
)

// Session names (s=) used by GB28181.
const (
	// SessionPlay is a live stream (9.2).
	SessionPlay = "Play"
	// SessionPlayback is history playback, controlled by MANSRTSP (9.8).
	SessionPlayback = "Playback"
	// SessionDownload is a recording download (9.9).
	SessionDownload = "Download"
	// SessionTalk is platform-initiated two-way audio (9.12).
	SessionTalk = "Talk"
)

// Session is a GB28181 SDP body.
type Session struct {
	// Origin is the o= line. GB28181 puts the sender's 20-digit ID in the
	// username: the platform ID in offers, the channel ID in answers.
	Origin Origin
	// Name is the s= value: Play, Playback, Download or Talk.
	Name string
	// URI is the u= value, "<channelID>:<param>" for playback and
	// download (see SplitURI); empty when absent.
	URI string
	// Connection is the session-level c= line; its zero value means absent.
	Connection Connection
	// Time is the t= line; zero for live streams.
	Time TimeRange
	// Extra holds session-level lines this package does not interpret
	// (b=, i=, k=, repeated lines …), in order.
	Extra []Line
	// Attributes holds session-level a= lines (before the first m=), in order.
	Attributes []Attribute
	// Medias are the m= sections, in order.
	Medias []*Media
	// SSRC is the decoded y= value; meaningful when SSRCStatus is SSRCValid.
	SSRC SSRC
	// SSRCStatus tells whether y= was absent, valid or invalid.
	SSRCStatus SSRCStatus
	// SSRCRaw is the y= text when SSRCStatus is SSRCInvalid, written back
	// verbatim by Marshal.
	SSRCRaw string
	// Format is the f= line; nil when absent.
	Format *Format
}

// SetSSRC sets a valid y= value.
func (s *Session) SetSSRC(v SSRC) {
	s.SSRC, s.SSRCStatus, s.SSRCRaw = v, SSRCValid, ""
}

// Attribute returns the value of the first session-level attribute named
// key (case-insensitive).
func (s *Session) Attribute(key string) (string, bool) {
	return findAttribute(s.Attributes, key)
}

// Origin is the o= line.
type Origin struct {
	// Username is the sender's ID.
	Username string
	// SessionID is the numeric session id, kept as text.
	SessionID string
	// SessionVersion is the numeric session version, kept as text.
	SessionVersion string
	// NetType is "IN".
	NetType string
	// AddrType is "IP4" or "IP6".
	AddrType string
	// Address is the sender's address.
	Address string
}

// Connection is a c= line.
type Connection struct {
	// NetType is "IN".
	NetType string
	// AddrType is "IP4" or "IP6".
	AddrType string
	// Address is where media comes from (answers) or goes to (offers).
	Address string
}

// IsZero reports whether the c= line is absent.
func (c Connection) IsZero() bool { return c == Connection{} }

// TimeRange is the t= line in unix seconds. GB28181 uses 0 0 for live
// streams and the requested recording window for playback and download.
type TimeRange struct {
	// Start is the first second, unix time.
	Start uint64
	// Stop is the last second, unix time.
	Stop uint64
}

// StartTime returns Start as a time.Time.
func (t TimeRange) StartTime() time.Time { return time.Unix(int64(t.Start), 0) }

// StopTime returns Stop as a time.Time.
func (t TimeRange) StopTime() time.Time { return time.Unix(int64(t.Stop), 0) }

// Line is an SDP line this package does not interpret, kept verbatim.
type Line struct {
	// Type is the letter before '='.
	Type byte
	// Value is the text after '=', trimmed.
	Value string
}

// Attribute is an a= line, split at the first ':'. A property attribute
// (a=recvonly) has an empty Value. Key and Value are trimmed, so "a=x:" is
// written back as "a=x".
type Attribute struct {
	// Key is the attribute name.
	Key string
	// Value is the text after ':'.
	Value string
}

// String returns the text after "a=".
func (a Attribute) String() string {
	if a.Value == "" {
		return a.Key
	}
	return a.Key + ":" + a.Value
}

func findAttribute(attrs []Attribute, key string) (string, bool) {
	for _, a := range attrs {
		if strings.EqualFold(a.Key, key) {
			return a.Value, true
		}
	}
	return "", false
}

// SplitURI splits the GB28181 short form u=<channelID>:<param>
// ("34020000001310000001:0"). ok is false for the ordinary URL form
// (u=http://…) or when there is no ':'.
func SplitURI(u string) (channelID, param string, ok bool) {
	if strings.Contains(u, "://") {
		return "", "", false
	}
	return strings.Cut(u, ":")
}
