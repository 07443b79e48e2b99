package sdp

import (
	"fmt"
	"strings"
)

// Parse decodes an SDP body sent by a device or a platform.
//
// It accepts CRLF or LF line endings, surrounding whitespace, unknown lines
// (kept in Extra) and unknown attributes (kept in Attributes), and returns
// an error for structurally broken input: no leading v=0, no o=, malformed
// o=/c=/t=/m= lines, a port out of range, or input beyond MaxSize,
// MaxLines or MaxMedias. Every session it returns marshals to a body that
// Parse accepts and decodes to an equal session.
//
// A y= line that is not a decimal uint32 does not stop parsing: Parse then
// returns the complete session (SSRCStatus SSRCInvalid) together with an
// error matching ErrInvalidSSRC, which callers may choose to ignore.
func Parse(b []byte) (*Session, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%d bytes: %w", len(b), ErrTooLarge)
	}
	p := parser{s: &Session{}}
	rest := strings.TrimPrefix(string(b), "\uFEFF")
	n := 0
	for rest != "" {
		var raw string
		raw, rest, _ = strings.Cut(rest, "\n")
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		n++
		if n > MaxLines {
			return nil, ErrTooManyLines
		}
		if err := p.line(line); err != nil {
			return nil, err
		}
	}
	if !p.seenV {
		return nil, ErrMissingVersion
	}
	if !p.seenO {
		return nil, ErrMissingOrigin
	}
	// Marshal always writes s= and t=; count them as if present so that
	// everything Parse accepts re-encodes to something Parse accepts.
	if !p.seenS {
		n++
	}
	if !p.seenT {
		n++
	}
	if n > MaxLines {
		return nil, ErrTooManyLines
	}
	// CRLF endings and normalized values may make the encoding longer
	// than the input; refuse what could not be parsed back.
	if l := len(p.s.Marshal()); l > MaxSize {
		return nil, fmt.Errorf("%d bytes once encoded: %w", l, ErrTooLarge)
	}
	return p.s, p.ssrcErr
}

type parser struct {
	s       *Session
	media   *Media // current m= section; nil in the session section
	seenV   bool
	seenO   bool
	seenS   bool
	seenT   bool
	seenY   bool
	seenF   bool
	ssrcErr error
}

func (p *parser) line(line string) error {
	// Anything that is not "<letter>=" is noise some devices add; skip it.
	if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
		if !p.seenV {
			return ErrMissingVersion
		}
		return nil
	}
	typ, val := line[0], strings.TrimSpace(line[2:])
	if !p.seenV {
		if typ != 'v' {
			return ErrMissingVersion
		}
		if val != "0" {
			return fmt.Errorf("v=%q: %w", val, ErrBadVersion)
		}
		p.seenV = true
		return nil
	}

	switch typ {
	case 'm':
		return p.mediaLine(val)
	case 'a':
		p.attribute(val)
		return nil
	case 'y':
		p.ssrc(val)
		return nil
	case 'f':
		// Only the first f= counts; a repeat is dropped so that Marshal,
		// which writes f= last, cannot reorder it ahead of the first.
		if !p.seenF {
			p.seenF = true
			p.s.Format = ParseFormat(val)
		}
		return nil
	case 'c':
		return p.connection(val)
	}

	if p.media != nil {
		p.media.Extra = append(p.media.Extra, Line{Type: typ, Value: val})
		return nil
	}
	return p.sessionLine(typ, val)
}

// sessionLine handles o=, s=, u=, t= and unknown lines before the first m=.
// A repeat of a typed line goes to Extra, which Marshal writes after the
// typed lines, so a re-parse picks the same first occurrence.
func (p *parser) sessionLine(typ byte, val string) error {
	s := p.s
	if typ == 's' {
		p.seenS = true
	}
	switch {
	case typ == 'o' && !p.seenO:
		f := strings.Fields(val)
		if len(f) != 6 {
			return fmt.Errorf("o=%q: %w", val, ErrBadOrigin)
		}
		s.Origin = Origin{f[0], f[1], f[2], f[3], f[4], f[5]}
		p.seenO = true
	case typ == 's' && s.Name == "":
		// An empty s= does not fill the slot, so it can be dropped.
		s.Name = val
	case typ == 'u' && s.URI == "":
		s.URI = val
	case typ == 't' && !p.seenT:
		f := strings.Fields(val)
		if len(f) != 2 {
			return fmt.Errorf("t=%q: %w", val, ErrBadTime)
		}
		start, ok1 := parseUint(f[0], 1<<64-1)
		stop, ok2 := parseUint(f[1], 1<<64-1)
		if !ok1 || !ok2 {
			return fmt.Errorf("t=%q: %w", val, ErrBadTime)
		}
		s.Time = TimeRange{Start: start, Stop: stop}
		p.seenT = true
	default:
		s.Extra = append(s.Extra, Line{Type: typ, Value: val})
	}
	return nil
}

func (p *parser) connection(val string) error {
	target, extra := &p.s.Connection, &p.s.Extra
	if p.media != nil {
		target, extra = &p.media.Connection, &p.media.Extra
	}
	if !target.IsZero() {
		*extra = append(*extra, Line{Type: 'c', Value: val})
		return nil
	}
	f := strings.Fields(val)
	if len(f) != 3 {
		return fmt.Errorf("c=%q: %w", val, ErrBadConnection)
	}
	*target = Connection{NetType: f[0], AddrType: f[1], Address: f[2]}
	return nil
}

func (p *parser) ssrc(val string) {
	// Only the first y= counts (see f=).
	if p.seenY {
		return
	}
	p.seenY = true
	v, err := ParseSSRC(val)
	if err != nil {
		p.s.SSRCStatus, p.s.SSRCRaw = SSRCInvalid, val
		p.ssrcErr = err
		return
	}
	p.s.SetSSRC(v)
}

func (p *parser) mediaLine(val string) error {
	if len(p.s.Medias) >= MaxMedias {
		return ErrTooManyMedias
	}
	f := strings.Fields(val)
	if len(f) < 3 {
		return fmt.Errorf("m=%q: %w", val, ErrBadMedia)
	}
	m := &Media{Type: f[0], Proto: f[2]}
	port, count, hasCount := strings.Cut(f[1], "/")
	v, ok := parseUint(port, 65535)
	if !ok {
		return fmt.Errorf("m=%q: port %q: %w", val, port, ErrBadPort)
	}
	m.Port = int(v)
	if hasCount {
		c, ok := parseUint(count, 65535)
		if !ok || c == 0 {
			return fmt.Errorf("m=%q: port count %q: %w", val, count, ErrBadMedia)
		}
		m.PortCount = int(c)
	}
	for _, pt := range f[3:] {
		v, ok := parseUint(pt, 127)
		if !ok {
			return fmt.Errorf("m=%q: payload type %q: %w", val, pt, ErrBadMedia)
		}
		m.Formats = append(m.Formats, uint8(v))
	}
	p.s.Medias = append(p.s.Medias, m)
	p.media = m
	return nil
}

// attribute stores an a= line. Media-level attributes GB28181 relies on are
// decoded into typed fields; a value that does not decode, or a repeat of
// an attribute already set, is kept verbatim in Attributes instead.
func (p *parser) attribute(val string) {
	key, value, _ := strings.Cut(val, ":")
	a := Attribute{Key: strings.TrimSpace(key), Value: strings.TrimSpace(value)}
	if p.media == nil {
		p.s.Attributes = append(p.s.Attributes, a)
		return
	}
	if !p.typedAttribute(a) {
		p.media.Attributes = append(p.media.Attributes, a)
	}
}

func (p *parser) typedAttribute(a Attribute) bool {
	m := p.media
	key := strings.ToLower(a.Key)
	switch key {
	case "recvonly", "sendonly", "sendrecv", "inactive":
		if m.Direction != "" || a.Value != "" {
			return false
		}
		m.Direction = Direction(key)
	case "rtpmap":
		r, ok := parseRTPMap(a.Value)
		if !ok {
			return false
		}
		m.RTPMaps = append(m.RTPMaps, r)
	case "setup":
		v := Setup(strings.ToLower(a.Value))
		switch v {
		case SetupActive, SetupPassive, SetupActPass, SetupHoldConn:
		default:
			return false
		}
		if m.Setup != "" {
			return false
		}
		m.Setup = v
	case "connection":
		v := ConnectionMode(strings.ToLower(a.Value))
		if (v != ConnectionNew && v != ConnectionExisting) || m.ConnectionMode != "" {
			return false
		}
		m.ConnectionMode = v
	case "downloadspeed":
		// 0 would read as "absent", so it stays verbatim.
		v, ok := parseUint(a.Value, 1<<31-1)
		if !ok || v == 0 || m.DownloadSpeed != 0 {
			return false
		}
		m.DownloadSpeed = int(v)
	case "filesize":
		v, ok := parseUint(a.Value, 1<<63-1)
		if !ok || v == 0 || m.FileSize != 0 {
			return false
		}
		m.FileSize = int64(v)
	default:
		if !isStreamAttr(key) || !m.Stream.IsZero() {
			return false
		}
		v, ok := parseUint(a.Value, 1<<31-1)
		if !ok {
			return false
		}
		m.Stream = StreamSelector{Attr: a.Key, Number: int(v)}
	}
	return true
}
