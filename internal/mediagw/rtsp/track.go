package rtsp

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtplpcm"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtpmpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/pion/rtp"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Dynamic payload types of the description; G.711 uses its static ones.
const (
	payloadTypeVideo = 96
	payloadTypeAAC   = 97
)

// NAL unit types the packetizers look at.
const (
	h264NALSPS = 7
	h264NALPPS = 8
	h264NALAUD = 9
	h265NALVPS = 32
	h265NALSPS = 33
	h265NALPPS = 34
	h265NALAUD = 35
)

// track turns the hub units of one codec into RTP packets of one media.
type track struct {
	codec ps.Codec
	media *description.Media
	clock int64

	// Exactly one encoder is set, after the codec.
	h264 *rtph264.Encoder
	h265 *rtph265.Encoder
	lpcm *rtplpcm.Encoder
	aac  *rtpmpeg4audio.Encoder

	// Video formats, so that a changed parameter set can be reloaded.
	h264Format *format.H264
	h265Format *format.H265
}

// nalus splits an Annex-B access unit; nil when it holds none.
func nalus(payload []byte) [][]byte {
	return slices.Collect(ps.NALUnits(payload))
}

func h264Type(n []byte) byte { return n[0] & 0x1F }

func h265Type(n []byte) byte { return (n[0] >> 1) & 0x3F }

// paramSets holds the parameter sets found in a keyframe.
type paramSets struct {
	vps, sps, pps []byte
}

// findParamSets returns the parameter sets of a video keyframe, or false
// when a required one is missing. The slices are copies: descriptions
// outlive the shared payload.
func findParamSets(codec ps.Codec, payload []byte) (paramSets, bool) {
	var p paramSets
	for _, n := range nalus(payload) {
		switch codec {
		case ps.CodecH264:
			switch h264Type(n) {
			case h264NALSPS:
				p.sps = bytes.Clone(n)
			case h264NALPPS:
				p.pps = bytes.Clone(n)
			}
		case ps.CodecH265:
			if len(n) < 2 {
				continue
			}
			switch h265Type(n) {
			case h265NALVPS:
				p.vps = bytes.Clone(n)
			case h265NALSPS:
				p.sps = bytes.Clone(n)
			case h265NALPPS:
				p.pps = bytes.Clone(n)
			}
		}
	}
	ok := p.sps != nil && p.pps != nil && (codec != ps.CodecH265 || p.vps != nil)
	return p, ok
}

// aacConfig reads the AudioSpecificConfig from the first ADTS header of
// payload.
func aacConfig(payload []byte) (*mpeg4audio.AudioSpecificConfig, error) {
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(payload); err != nil {
		return nil, fmt.Errorf("parse ADTS: %w", err)
	}
	p := pkts[0]
	return &mpeg4audio.AudioSpecificConfig{
		Type:          p.Type,
		SampleRate:    p.SampleRate,
		ChannelConfig: p.ChannelConfig,
	}, nil
}

// newVideoTrack builds the track of a video codec from the parameter sets
// of its first keyframe.
func newVideoTrack(codec ps.Codec, p paramSets) (*track, error) {
	t := &track{codec: codec, clock: 90000}
	var f format.Format
	switch codec {
	case ps.CodecH264:
		t.h264Format = &format.H264{PayloadTyp: payloadTypeVideo, SPS: p.sps, PPS: p.pps, PacketizationMode: 1}
		enc, err := t.h264Format.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("H.264 encoder: %w", err)
		}
		t.h264, f = enc, t.h264Format
	case ps.CodecH265:
		t.h265Format = &format.H265{PayloadTyp: payloadTypeVideo, VPS: p.vps, SPS: p.sps, PPS: p.pps}
		enc, err := t.h265Format.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("H.265 encoder: %w", err)
		}
		t.h265, f = enc, t.h265Format
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, codec)
	}
	t.media = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{f}}
	return t, nil
}

// newAudioTrack builds the track of an audio codec; AAC needs the config of
// its first unit, G.711 needs nothing.
func newAudioTrack(codec ps.Codec, cfg *mpeg4audio.AudioSpecificConfig) (*track, error) {
	t := &track{codec: codec}
	var f format.Format
	switch codec {
	case ps.CodecG711A, ps.CodecG711U:
		g := &format.G711{MULaw: codec == ps.CodecG711U, SampleRate: 8000, ChannelCount: 1}
		if g.MULaw {
			g.PayloadTyp = 0
		} else {
			g.PayloadTyp = 8
		}
		enc, err := g.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("G.711 encoder: %w", err)
		}
		t.lpcm, t.clock, f = enc, 8000, g
	case ps.CodecAAC:
		if cfg == nil || cfg.SampleRate <= 0 {
			return nil, fmt.Errorf("%w: AAC without config", ErrUnsupportedCodec)
		}
		a := &format.MPEG4Audio{
			PayloadTyp:       payloadTypeAAC,
			Config:           cfg,
			SizeLength:       13,
			IndexLength:      3,
			IndexDeltaLength: 3,
		}
		enc, err := a.CreateEncoder()
		if err != nil {
			return nil, fmt.Errorf("AAC encoder: %w", err)
		}
		t.aac, t.clock, f = enc, int64(cfg.SampleRate), a
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, codec)
	}
	t.media = &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{f}}
	return t, nil
}

// rtpTime converts a 90 kHz PTS to the track's clock. RTP timestamps wrap
// by design, so the truncation to 32 bits is intended.
func (t *track) rtpTime(pts int64) uint32 {
	if t.clock == 90000 {
		return uint32(pts)
	}
	return uint32(pts * t.clock / 90000)
}

// packets encodes one unit. It returns (nil, nil) for a unit with nothing
// to send (only delimiters, say). Parameter-set changes are reported so
// that the description can be reloaded for later DESCRIBEs.
func (t *track) packets(u hub.Unit) (pkts []*rtp.Packet, newParams bool, err error) {
	switch {
	case t.h264 != nil:
		au := filterNALUs(nalus(u.Payload), func(n []byte) bool { return h264Type(n) != h264NALAUD })
		if len(au) == 0 {
			return nil, false, nil
		}
		if u.Keyframe {
			newParams = t.updateParams(u.Payload)
		}
		pkts, err = t.h264.Encode(au)
	case t.h265 != nil:
		au := filterNALUs(nalus(u.Payload), func(n []byte) bool { return len(n) >= 2 && h265Type(n) != h265NALAUD })
		if len(au) == 0 {
			return nil, false, nil
		}
		if u.Keyframe {
			newParams = t.updateParams(u.Payload)
		}
		pkts, err = t.h265.Encode(au)
	case t.lpcm != nil:
		if len(u.Payload) == 0 {
			return nil, false, nil
		}
		pkts, err = t.lpcm.Encode(u.Payload)
	case t.aac != nil:
		var adts mpeg4audio.ADTSPackets
		if err = adts.Unmarshal(u.Payload); err != nil {
			return nil, false, fmt.Errorf("parse ADTS: %w", err)
		}
		aus := make([][]byte, len(adts))
		for i, p := range adts {
			aus[i] = p.AU
		}
		pkts, err = t.aac.Encode(aus)
	}
	if err != nil {
		return nil, false, fmt.Errorf("encode %s: %w", t.codec, err)
	}
	base := t.rtpTime(u.PTS)
	for _, p := range pkts {
		// Encoders number samples from zero within the unit.
		p.Timestamp += base
	}
	return pkts, newParams, nil
}

// updateParams records changed parameter sets in the format; the caller
// reloads the stream description.
func (t *track) updateParams(payload []byte) bool {
	p, ok := findParamSets(t.codec, payload)
	if !ok {
		return false
	}
	switch {
	case t.h264Format != nil:
		if bytes.Equal(p.sps, t.h264Format.SPS) && bytes.Equal(p.pps, t.h264Format.PPS) {
			return false
		}
		t.h264Format.SPS, t.h264Format.PPS = p.sps, p.pps
	case t.h265Format != nil:
		if bytes.Equal(p.vps, t.h265Format.VPS) && bytes.Equal(p.sps, t.h265Format.SPS) &&
			bytes.Equal(p.pps, t.h265Format.PPS) {
			return false
		}
		t.h265Format.VPS, t.h265Format.SPS, t.h265Format.PPS = p.vps, p.sps, p.pps
	default:
		return false
	}
	return true
}

// filterNALUs keeps the NAL units for which keep is true, reusing au.
func filterNALUs(au [][]byte, keep func([]byte) bool) [][]byte {
	out := au[:0]
	for _, n := range au {
		if len(n) > 0 && keep(n) {
			out = append(out, n)
		}
	}
	return out
}
