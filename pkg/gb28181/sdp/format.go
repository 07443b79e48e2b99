package sdp

import "strings"

// Video codec codes of f= (Annex F). H.265 is not in the 2016 table;
// 2022-era implementations use 5.
const (
	// FormatVideoMPEG4 is MPEG-4 video.
	FormatVideoMPEG4 = "1"
	// FormatVideoH264 is H.264.
	FormatVideoH264 = "2"
	// FormatVideoSVAC is SVAC.
	FormatVideoSVAC = "3"
	// FormatVideo3GP is 3GP.
	FormatVideo3GP = "4"
	// FormatVideoH265 is H.265 (not in the 2016 table; unverified).
	FormatVideoH265 = "5"
)

// Audio codec codes of f= (Annex F).
const (
	// FormatAudioG711 is G.711.
	FormatAudioG711 = "1"
	// FormatAudioG7231 is G.723.1.
	FormatAudioG7231 = "2"
	// FormatAudioG729 is G.729.
	FormatAudioG729 = "3"
	// FormatAudioG7221 is G.722.1.
	FormatAudioG7221 = "4"
)

// Format is the f= line (Annex F):
//
//	f=v/<codec>/<resolution>/<fps>/<rate type>/<kbps>a/<codec>/<bitrate>/<samplerate>
//
// Every sub-field may be empty, and most devices send f= with nothing at
// all, so the sub-fields are kept as text. The codes are documented on the
// FormatVideo*/FormatAudio* constants; resolution 1 QCIF … 6 1080P, rate
// type 1 CBR 2 VBR, audio bitrate 1 5.3k … 8 64k, sample rate 1 8k 2 14k
// 3 16k 4 32k.
type Format struct {
	// Raw is the f= value as received. Marshal writes it when no sub-field
	// is set, which keeps unstructured values such as "v/////a///".
	Raw string

	// VideoCodec is the video codec code.
	VideoCodec string
	// Resolution is the resolution code (or a vendor WxH text).
	Resolution string
	// FrameRate is frames per second.
	FrameRate string
	// RateType is 1 CBR or 2 VBR.
	RateType string
	// VideoBitrate is in kbit/s.
	VideoBitrate string

	// AudioCodec is the audio codec code.
	AudioCodec string
	// AudioBitrate is the audio bitrate code.
	AudioBitrate string
	// SampleRate is the sample rate code.
	SampleRate string
}

// ParseFormat decodes an f= value. It never fails: a value that does not
// follow the Annex F structure only fills Raw.
func ParseFormat(v string) *Format {
	f := &Format{Raw: v}
	rest, ok := strings.CutPrefix(v, "v/")
	if !ok {
		return f
	}
	video, audio, ok := strings.Cut(rest, "a/")
	if !ok {
		return f
	}
	vp := strings.Split(video, "/")
	ap := strings.Split(audio, "/")
	if len(vp) != 5 || len(ap) != 3 {
		return f
	}
	f.VideoCodec, f.Resolution, f.FrameRate, f.RateType, f.VideoBitrate = vp[0], vp[1], vp[2], vp[3], vp[4]
	f.AudioCodec, f.AudioBitrate, f.SampleRate = ap[0], ap[1], ap[2]
	return f
}

// String returns the text after "f=": built from the sub-fields when any
// is set, else Raw.
func (f *Format) String() string {
	if f.VideoCodec == "" && f.Resolution == "" && f.FrameRate == "" && f.RateType == "" &&
		f.VideoBitrate == "" && f.AudioCodec == "" && f.AudioBitrate == "" && f.SampleRate == "" {
		return f.Raw
	}
	return "v/" + f.VideoCodec + "/" + f.Resolution + "/" + f.FrameRate + "/" + f.RateType + "/" + f.VideoBitrate +
		"a/" + f.AudioCodec + "/" + f.AudioBitrate + "/" + f.SampleRate
}
