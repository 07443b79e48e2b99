package segment

import (
	"bytes"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/flac"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// Codec names, as stored in the recordings index (video_codec, audio_codec)
// and returned by Scan.
const (
	CodecH264  = "h264"
	CodecH265  = "h265"
	CodecG711A = "g711a"
	CodecG711U = "g711u"
	CodecAAC   = "aac"
	// CodecFLAC is what Scan reports for an audio track stored as FLAC
	// (G.711 is decoded and stored losslessly as FLAC: fMP4 has no G.711).
	CodecFLAC = "flac"
	// CodecLPCM is what Scan reports for an audio track stored as LPCM,
	// how G.711 was stored before FLAC (browsers do not play it).
	CodecLPCM = "lpcm"
)

// videoTimeScale is the clock of every video track: RTP's, so PTS from
// gortsplib go in unchanged.
const videoTimeScale = 90000

// Track is one media of a session that a Writer records: the first H.264 or
// H.265 video and the first G.711 or AAC audio. A Track carries the video
// parameter sets learnt so far; it is used by one Writer at a time and may
// be handed to the next segment's Writer.
type Track struct {
	// Media and Format are the session's media and the format recorded.
	Media  *description.Media
	Format format.Format

	id    int // MP4 track ID, from 1
	video bool
	name  string // codec name (CodecH264 …)

	// Video parameter sets: from the SDP, else from the stream.
	vps, sps, pps []byte
}

// NewTracks picks the tracks to record from a session: the first H.264 or
// H.265 video and the first G.711 or MPEG-4 audio (AAC, with its config in
// the SDP); other media are ignored. The video track comes first.
func NewTracks(desc *description.Session) ([]*Track, error) {
	var video, audio *Track
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			switch f := f.(type) {
			case *format.H264:
				if video == nil {
					video = &Track{Media: m, Format: f, video: true, name: CodecH264, sps: clone(f.SPS), pps: clone(f.PPS)}
				}
			case *format.H265:
				if video == nil {
					video = &Track{
						Media: m, Format: f, video: true, name: CodecH265,
						vps: clone(f.VPS), sps: clone(f.SPS), pps: clone(f.PPS),
					}
				}
			case *format.G711:
				if audio == nil && f.SampleRate > 0 && f.ChannelCount > 0 && f.ChannelCount <= 2 {
					name := CodecG711A
					if f.MULaw {
						name = CodecG711U
					}
					audio = &Track{Media: m, Format: f, name: name}
				}
			case *format.MPEG4Audio:
				if audio == nil && f.Config != nil && f.Config.SampleRate > 0 {
					audio = &Track{Media: m, Format: f, name: CodecAAC}
				}
			}
		}
	}
	if video == nil {
		return nil, ErrNoVideo
	}
	video.id = 1
	tracks := []*Track{video}
	if audio != nil {
		audio.id = 2
		tracks = append(tracks, audio)
	}
	return tracks, nil
}

// IsVideo reports whether t is the video track.
func (t *Track) IsVideo() bool { return t.video }

// Codec is the track's codec name: "h264", "h265", "g711a", "g711u" or "aac".
func (t *Track) Codec() string { return t.name }

// TimeScale is the track's clock in Hz, the unit of the PTS the writer
// takes: 90000 for video, the sample rate for audio.
func (t *Track) TimeScale() uint32 {
	if t.video {
		return videoTimeScale
	}
	return uint32(t.Format.ClockRate())
}

// mp4Codec is the MP4 codec of the track; nil for a video track whose
// parameter sets are not known yet.
func (t *Track) mp4Codec() codecs.Codec {
	switch f := t.Format.(type) {
	case *format.H264:
		if t.sps == nil || t.pps == nil {
			return nil
		}
		return &codecs.H264{SPS: t.sps, PPS: t.pps}
	case *format.H265:
		if t.vps == nil || t.sps == nil || t.pps == nil {
			return nil
		}
		return &codecs.H265{VPS: t.vps, SPS: t.sps, PPS: t.pps}
	case *format.G711:
		return &codecs.FLAC{StreamInfo: &flac.StreamInfo{
			MinBlockSize: 16, MaxBlockSize: flacMaxBlock, SampleRate: uint32(f.SampleRate),
			ChannelCount: uint8(max(f.ChannelCount, 1)), BitDepth: flacBitsPerSample,
		}}
	case *format.MPEG4Audio:
		return &codecs.MPEG4Audio{Config: *f.Config}
	}
	return nil
}

// IsKeyFrame reports whether au (NAL units without start codes) is a random
// access point of t's codec, where a segment may start.
func IsKeyFrame(t *Track, au [][]byte) bool {
	switch t.name {
	case CodecH264:
		return h264.IsRandomAccess(au)
	case CodecH265:
		return h265.IsRandomAccess(au)
	}
	return false
}

// learnParams takes the parameter sets an access unit carries. It reports
// whether they differ from those already known (which are replaced): the
// init section written with the old ones no longer describes the stream.
func (t *Track) learnParams(au [][]byte) (changed bool) {
	set := func(dst *[]byte, nalu []byte) {
		if *dst != nil && !bytes.Equal(*dst, nalu) {
			changed = true
		}
		if !bytes.Equal(*dst, nalu) {
			*dst = clone(nalu)
		}
	}
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		if t.name == CodecH264 {
			switch h264.NALUType(nalu[0] & 0x1F) {
			case h264.NALUTypeSPS:
				set(&t.sps, nalu)
			case h264.NALUTypePPS:
				set(&t.pps, nalu)
			}
			continue
		}
		switch h265.NALUType((nalu[0] >> 1) & 0x3F) {
		case h265.NALUType_VPS_NUT:
			set(&t.vps, nalu)
		case h265.NALUType_SPS_NUT:
			set(&t.sps, nalu)
		case h265.NALUType_PPS_NUT:
			set(&t.pps, nalu)
		}
	}
	return changed
}

// withParams returns au with the known parameter sets in front when it
// lacks them: the first of a key frame's NAL units are checked, as an
// encoder puts them before the slices.
func (t *Track) withParams(au [][]byte) [][]byte {
	var need [][]byte
	if t.name == CodecH265 {
		need = [][]byte{t.vps, t.sps, t.pps}
	} else {
		need = [][]byte{t.sps, t.pps}
	}
	for _, p := range need {
		if p == nil {
			return au // unknown: nothing to add
		}
	}
	has := 0
	for _, nalu := range au {
		if len(nalu) == 0 {
			continue
		}
		if t.name == CodecH265 {
			switch h265.NALUType((nalu[0] >> 1) & 0x3F) {
			case h265.NALUType_VPS_NUT, h265.NALUType_SPS_NUT, h265.NALUType_PPS_NUT:
				has++
			}
		} else {
			switch h264.NALUType(nalu[0] & 0x1F) {
			case h264.NALUTypeSPS, h264.NALUTypePPS:
				has++
			}
		}
	}
	if has >= len(need) {
		return au
	}
	return append(need, au...)
}

// resolution decodes the width and height from the SPS; 0, 0 when unknown.
func (t *Track) resolution() (w, h int) {
	return spsResolution(t.name, t.sps)
}

func spsResolution(codec string, sps []byte) (w, h int) {
	if len(sps) == 0 {
		return 0, 0
	}
	switch codec {
	case CodecH264:
		var s h264.SPS
		if s.Unmarshal(sps) == nil {
			return s.Width(), s.Height()
		}
	case CodecH265:
		var s h265.SPS
		if s.Unmarshal(sps) == nil {
			return s.Width(), s.Height()
		}
	}
	return 0, 0
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return bytes.Clone(b)
}
