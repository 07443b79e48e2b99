package sdp

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Connector says which side opens the RTP-over-TCP connection.
type Connector int

const (
	// ConnectorNone means UDP: nobody connects, the answerer sends to the
	// offer's address.
	ConnectorNone Connector = iota
	// ConnectorOfferer means the offerer (the platform) connects to the
	// answer's c=/m= address.
	ConnectorOfferer
	// ConnectorAnswerer means the answerer (the device) connects to the
	// offer's c=/m= address.
	ConnectorAnswerer
)

// String returns "none", "offerer" or "answerer".
func (c Connector) String() string {
	switch c {
	case ConnectorNone:
		return "none"
	case ConnectorOfferer:
		return "offerer"
	case ConnectorAnswerer:
		return "answerer"
	}
	return "Connector(" + strconv.Itoa(int(c)) + ")"
}

// Address is a media IP and port taken from c= and m=.
type Address struct {
	// IP is the c= address (media-level if present, else session-level).
	IP string
	// Port is the m= port.
	Port int
}

// IsZero reports whether neither IP nor port is known.
func (a Address) IsZero() bool { return a == Address{} }

// String returns "ip:port" (IPv6 in brackets).
func (a Address) String() string {
	return net.JoinHostPort(a.IP, strconv.Itoa(a.Port))
}

// Plan is what an offer/answer pair means for the media path. Transport and
// Connector are named from the offerer's (platform's) side.
type Plan struct {
	// SSRC is the SSRC to expect in RTP; meaningful when HasSSRC.
	SSRC SSRC
	// HasSSRC is false when neither side sent a valid y=; demultiplex by
	// port then.
	HasSSRC bool
	// SSRCFromAnswer tells whether SSRC comes from the answer's y=.
	SSRCFromAnswer bool
	// Transport is UDP, TCP passive (offerer listens) or TCP active
	// (offerer connects).
	Transport Transport
	// Connector is who opens the TCP connection.
	Connector Connector
	// Offer is the offerer's media address (offer c= and m= port).
	Offer Address
	// Answer is the answerer's media address (answer c= and m= port): the
	// media source IP, and for TCP active the address to connect to.
	Answer Address
	// Warnings lists answer quirks that were tolerated (different y=,
	// setup or transport not matching the offer, …), for logging.
	Warnings []string
}

// Remote returns the address the connecting side dials: Answer when the
// offerer connects, Offer when the answerer does, and for UDP the Offer
// (where the answerer sends).
func (p *Plan) Remote() Address {
	if p.Connector == ConnectorOfferer {
		return p.Answer
	}
	return p.Offer
}

// ResolvePlan combines an offer and its answer into a media plan.
//
// The first m= of the offer is paired with the answer's first m= of the
// same type (else its first m=). The SSRC is the answer's y= when valid,
// else the offer's. The offer decides the transport, and for TCP its
// a=setup decides who connects following RFC 4145 (offer passive → the
// answerer connects, offer active → the offerer connects); the answer's
// a=setup is only consulted when the offer said actpass or nothing. An
// answer that contradicts the offer is tolerated and noted in Warnings,
// because devices get this wrong and platforms such as WVP follow their
// own offer.
func ResolvePlan(offer, answer *Session) (*Plan, error) {
	if offer == nil || answer == nil || len(offer.Medias) == 0 || len(answer.Medias) == 0 {
		return nil, ErrNoMedia
	}
	om := offer.Medias[0]
	am := answer.Medias[0]
	for _, m := range answer.Medias {
		if strings.EqualFold(m.Type, om.Type) {
			am = m
			break
		}
	}

	p := &Plan{
		Offer:  Address{IP: mediaIP(offer, om), Port: om.Port},
		Answer: Address{IP: mediaIP(answer, am), Port: am.Port},
	}
	p.resolveSSRC(offer, answer)

	if om.IsTCP() != am.IsTCP() {
		p.warn("answer transport %q differs from offer %q", am.Proto, om.Proto)
	}
	if om.IsTCP() {
		p.resolveSetup(setupOf(offer, om), setupOf(answer, am))
	}

	target := p.Remote()
	if target.IP == "" || target.Port == 0 {
		who := "offer"
		if p.Connector == ConnectorOfferer {
			who = "answer"
		}
		return nil, fmt.Errorf("%s address %q port %d: %w", who, target.IP, target.Port, ErrNoAddress)
	}
	return p, nil
}

func (p *Plan) resolveSSRC(offer, answer *Session) {
	switch {
	case answer.SSRCStatus == SSRCValid:
		p.SSRC, p.HasSSRC, p.SSRCFromAnswer = answer.SSRC, true, true
		if offer.SSRCStatus == SSRCValid && offer.SSRC != answer.SSRC {
			p.warn("answer y=%s differs from offer y=%s", answer.SSRC, offer.SSRC)
		}
	case offer.SSRCStatus == SSRCValid:
		p.SSRC, p.HasSSRC = offer.SSRC, true
		if answer.SSRCStatus == SSRCInvalid {
			p.warn("answer y=%q is invalid, using offer y=%s", answer.SSRCRaw, offer.SSRC)
		}
	}
}

func (p *Plan) resolveSetup(offer, answer Setup) {
	offererConnects := false
	switch offer {
	case SetupPassive:
		if answer != "" && answer != SetupActive {
			p.warn("answer a=setup:%s to offer a=setup:passive", answer)
		}
	case SetupActive:
		offererConnects = true
		if answer != "" && answer != SetupPassive {
			p.warn("answer a=setup:%s to offer a=setup:active", answer)
		}
	default:
		// actpass, holdconn or absent: the answer chooses. RFC 4145 makes
		// an absent answer mean active, and an absent offer mean active.
		switch answer {
		case SetupPassive:
			offererConnects = true
		case SetupActive:
		default:
			offererConnects = offer == ""
		}
	}
	p.Transport, p.Connector = TransportTCPPassive, ConnectorAnswerer
	if offererConnects {
		p.Transport, p.Connector = TransportTCPActive, ConnectorOfferer
	}
}

func (p *Plan) warn(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}

// mediaIP returns the media-level c= address, else the session-level one.
func mediaIP(s *Session, m *Media) string {
	if m.Connection.Address != "" {
		return m.Connection.Address
	}
	return s.Connection.Address
}

// setupOf returns the media's a=setup, falling back to a session-level one.
func setupOf(s *Session, m *Media) Setup {
	if m.Setup != "" {
		return m.Setup
	}
	if v, ok := s.Attribute("setup"); ok {
		return Setup(strings.ToLower(strings.TrimSpace(v)))
	}
	return ""
}
