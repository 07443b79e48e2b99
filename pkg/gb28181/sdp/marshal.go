package sdp

import (
	"strconv"
	"strings"
)

// Marshal encodes the session with CRLF line endings in the order GB28181
// devices expect: v, o, s, u, c, t, (other session lines), m, a…, y, f.
// y= and f= come last, after the media sections, as in the standard's
// examples; several devices reject other orders.
//
// Marshal does not validate: string fields must not contain line breaks.
// Sessions returned by Parse and by the offer builders always encode to
// input that Parse accepts.
func (s *Session) Marshal() []byte {
	var b strings.Builder
	b.Grow(512)
	w := func(typ byte, v string) {
		b.WriteByte(typ)
		b.WriteByte('=')
		b.WriteString(v)
		b.WriteString("\r\n")
	}

	w('v', "0")
	o := s.Origin
	w('o', o.Username+" "+o.SessionID+" "+o.SessionVersion+" "+o.NetType+" "+o.AddrType+" "+o.Address)
	w('s', s.Name)
	if s.URI != "" {
		w('u', s.URI)
	}
	if !s.Connection.IsZero() {
		w('c', s.Connection.String())
	}
	w('t', strconv.FormatUint(s.Time.Start, 10)+" "+strconv.FormatUint(s.Time.Stop, 10))
	for _, l := range s.Extra {
		w(l.Type, l.Value)
	}
	for _, a := range s.Attributes {
		w('a', a.String())
	}
	for _, m := range s.Medias {
		m.marshal(w)
	}
	switch s.SSRCStatus {
	case SSRCValid:
		w('y', s.SSRC.String())
	case SSRCInvalid:
		w('y', s.SSRCRaw)
	}
	if s.Format != nil {
		w('f', s.Format.String())
	}
	return []byte(b.String())
}

// String returns the text after "c=".
func (c Connection) String() string {
	return c.NetType + " " + c.AddrType + " " + c.Address
}

func (m *Media) marshal(w func(byte, string)) {
	var b strings.Builder
	b.WriteString(m.Type)
	b.WriteByte(' ')
	b.WriteString(itoa(m.Port))
	if m.PortCount > 0 {
		b.WriteByte('/')
		b.WriteString(itoa(m.PortCount))
	}
	b.WriteByte(' ')
	b.WriteString(m.Proto)
	for _, f := range m.Formats {
		b.WriteByte(' ')
		b.WriteString(itoa(int(f)))
	}
	w('m', b.String())

	if !m.Connection.IsZero() {
		w('c', m.Connection.String())
	}
	for _, l := range m.Extra {
		w(l.Type, l.Value)
	}
	if m.Direction != "" {
		w('a', string(m.Direction))
	}
	for _, r := range m.RTPMaps {
		w('a', "rtpmap:"+r.String())
	}
	if m.Setup != "" {
		w('a', "setup:"+string(m.Setup))
	}
	if m.ConnectionMode != "" {
		w('a', "connection:"+string(m.ConnectionMode))
	}
	if m.DownloadSpeed > 0 {
		w('a', "downloadspeed:"+itoa(m.DownloadSpeed))
	}
	if m.FileSize > 0 {
		w('a', "filesize:"+strconv.FormatInt(m.FileSize, 10))
	}
	if !m.Stream.IsZero() {
		w('a', m.Stream.Attr+":"+itoa(m.Stream.Number))
	}
	for _, a := range m.Attributes {
		w('a', a.String())
	}
}

// itoa is strconv.Itoa, shortened for the marshaller.
func itoa(v int) string { return strconv.Itoa(v) }
