package whep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// offer is what a session needs from a player's SDP offer.
type offer struct {
	// sdp is the offer as received, for SetRemoteDescription.
	sdp string
	// ufrag is the player's ICE username fragment; a PATCH with another one
	// asks for an ICE restart.
	ufrag string
	// h264 lists the offered H.264 formats with packetization-mode=1, in
	// offer order.
	h264 []rtpFormat
	// pcma and pcmu are the offered G.711 formats (nil if not offered).
	pcma, pcmu *rtpFormat
}

// rtpFormat is one payload format of a media section.
type rtpFormat struct {
	payloadType uint8
	name        string // encoding name as written, e.g. H264
	clockRate   uint32
	fmtp        string // the a=fmtp parameters, as written
}

// fmtpParam returns the value of key in the format's a=fmtp line.
func (f rtpFormat) fmtpParam(key string) (string, bool) {
	for p := range strings.SplitSeq(f.fmtp, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// parseOffer parses an SDP offer and collects the formats the server can
// send. The full validation (fingerprint, BUNDLE, ...) is pion's, at
// SetRemoteDescription.
func parseOffer(s string) (*offer, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: no media section", ErrBadOffer)
	}
	o := &offer{sdp: s}
	o.ufrag, _ = sd.Attribute("ice-ufrag")
	for _, md := range sd.MediaDescriptions {
		if o.ufrag == "" {
			o.ufrag, _ = md.Attribute("ice-ufrag")
		}
		formats := mediaFormats(md)
		switch md.MediaName.Media {
		case "video":
			for _, f := range formats {
				if strings.EqualFold(f.name, "H264") && f.clockRate == 90000 {
					if pm, _ := f.fmtpParam("packetization-mode"); pm == "1" {
						o.h264 = append(o.h264, f)
					}
				}
			}
		case "audio":
			for _, f := range formats {
				switch {
				case f.clockRate != 8000:
				case strings.EqualFold(f.name, "PCMA") && o.pcma == nil:
					o.pcma = &f
				case strings.EqualFold(f.name, "PCMU") && o.pcmu == nil:
					o.pcmu = &f
				}
			}
		}
	}
	return o, nil
}

// mediaFormats returns the formats of a media section with an a=rtpmap, in
// the order of the m= line; static payload types without rtpmap (0 PCMU,
// 8 PCMA) get their RFC 3551 names.
func mediaFormats(md *sdp.MediaDescription) []rtpFormat {
	byPT := map[uint8]*rtpFormat{}
	for _, a := range md.Attributes {
		pt, rest, ok := strings.Cut(a.Value, " ")
		if !ok || (a.Key != "rtpmap" && a.Key != "fmtp") {
			continue
		}
		n, err := strconv.ParseUint(pt, 10, 7)
		if err != nil {
			continue
		}
		f := byPT[uint8(n)]
		if f == nil {
			f = &rtpFormat{payloadType: uint8(n)}
			byPT[uint8(n)] = f
		}
		if a.Key == "fmtp" {
			f.fmtp = strings.TrimSpace(rest)
			continue
		}
		name, clock, _ := strings.Cut(strings.TrimSpace(rest), "/")
		clock, _, _ = strings.Cut(clock, "/") // drop the channel count
		c, err := strconv.ParseUint(clock, 10, 32)
		if err != nil {
			continue
		}
		f.name, f.clockRate = name, uint32(c)
	}
	var out []rtpFormat
	for _, s := range md.MediaName.Formats {
		n, err := strconv.ParseUint(s, 10, 7)
		if err != nil {
			continue
		}
		f, ok := byPT[uint8(n)]
		if !ok || f.name == "" {
			switch n {
			case 0:
				f = &rtpFormat{payloadType: 0, name: "PCMU", clockRate: 8000}
			case 8:
				f = &rtpFormat{payloadType: 8, name: "PCMA", clockRate: 8000}
			default:
				continue
			}
		}
		out = append(out, *f)
	}
	return out
}

// chooseH264 picks the offered H.264 format that fits a stream whose SPS
// has profile-level-id plid (hex, "" if unknown): same profile and
// constraints, else same profile, else Constrained Baseline (what every
// player decodes), else the first. The level is not compared: RFC 6184
// lets the sender's level differ.
func chooseH264(formats []rtpFormat, plid string) (rtpFormat, bool) {
	best, bestScore := -1, -1
	for i, f := range formats {
		p, ok := f.fmtpParam("profile-level-id")
		if !ok {
			p = "42001f" // RFC 6184 default
		}
		p = strings.ToLower(p)
		score := 0
		switch {
		case len(p) != 6:
		case len(plid) == 6 && p[:4] == plid[:4]:
			score = 3
		case len(plid) == 6 && p[:2] == plid[:2]:
			score = 2
		case p[:4] == "42e0":
			score = 1
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return rtpFormat{}, false
	}
	return formats[best], true
}

// sdpFrag is a parsed application/trickle-ice-sdpfrag body (RFC 8840).
type sdpFrag struct {
	// Ufrag and Pwd are the ICE credentials the fragment names ("" if none).
	Ufrag, Pwd string
	// Candidates are the a=candidate lines, in order.
	Candidates []fragCandidate
	// EndOfCandidates is set by a=end-of-candidates.
	EndOfCandidates bool
}

// fragCandidate is one candidate of an SDP fragment.
type fragCandidate struct {
	// Candidate is the attribute without "a=", e.g. "candidate:1 1 udp ...".
	Candidate string
	// Mid is the a=mid of the candidate's media section ("" if none).
	Mid string
	// MLineIndex is the index of its media section, -1 before any m= line.
	MLineIndex int
}

// maxFragLines bounds the work on a hostile fragment; a real one has a few
// lines per media section.
const maxFragLines = 1000

// parseSDPFrag parses a trickle ICE SDP fragment. Lines other than the ICE
// attributes, m= and a=mid are ignored; a line that is not "<letter>=..." is
// an error.
func parseSDPFrag(b []byte) (sdpFrag, error) {
	var f sdpFrag
	mline, mid := -1, ""
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if n++; n > maxFragLines {
			return sdpFrag{}, fmt.Errorf("%w: more than %d lines", ErrBadSDPFrag, maxFragLines)
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return sdpFrag{}, fmt.Errorf("%w: bad line %.40q", ErrBadSDPFrag, line)
		}
		if line[0] == 'm' {
			mline++
			mid = ""
			continue
		}
		if line[0] != 'a' {
			continue
		}
		attr := line[2:]
		key, value, _ := strings.Cut(attr, ":")
		switch key {
		case "ice-ufrag":
			f.Ufrag = value
		case "ice-pwd":
			f.Pwd = value
		case "mid":
			mid = value
		case "end-of-candidates":
			f.EndOfCandidates = true
		case "candidate":
			if strings.TrimSpace(value) == "" {
				return sdpFrag{}, fmt.Errorf("%w: empty candidate", ErrBadSDPFrag)
			}
			f.Candidates = append(f.Candidates, fragCandidate{Candidate: attr, Mid: mid, MLineIndex: mline})
		}
	}
	return f, nil
}
