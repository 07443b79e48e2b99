package recbench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Media timing of the clip: gbsim's, so both servers get the same stream.
const (
	// FrameRate is the clip's frame rate; gbsim sends 25 fps.
	FrameRate = 25
	// AudioPerFrame is the A-law bytes (8 kHz) sent with each video frame.
	AudioPerFrame = 8000 / FrameRate
)

// ClipSpec says how the shared clip is encoded.
type ClipSpec struct {
	// Size is WxH, e.g. 1920x1080.
	Size string
	// Bitrate is the video bitrate in bit/s.
	Bitrate int
	// Seconds is the clip's length; senders loop it.
	Seconds int
}

// VideoName is the clip's file name in the cache directory: gbsim's name
// for its generic H.264 clip, so that gbsim sends this one instead of
// generating its own.
func (s ClipSpec) VideoName() string { return "h264-generic-" + s.Size + ".h264" }

// AudioName is gbsim's audio file in the cache directory (8 kHz A-law).
const AudioName = "sine-8k.alaw"

// ChannelVideoName is gbsim's per-channel clip name: a channel looks for
// it first, so the cache holds a link to the shared clip under each
// channel's name (gbsim would otherwise encode one clip per channel).
func (s ClipSpec) ChannelVideoName(channel string) string {
	return "h264-" + channel + "-" + s.Size + ".h264"
}

// MakeClip encodes the clip into dir with ffmpeg unless it is there: H.264
// main profile, one key frame a second, no B-frames, an access unit
// delimiter before every frame, at a constant bitrate (a test pattern with
// noise, so that the bits are picture, not padding); and the 1 kHz A-law
// tone gbsim sends. It returns the paths of both files.
func MakeClip(ctx context.Context, ffmpeg, dir string, s ClipSpec) (video, audio string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("recbench: clip dir: %w", err)
	}
	video = filepath.Join(dir, s.VideoName())
	audio = filepath.Join(dir, AudioName)
	rate := strconv.Itoa(s.Bitrate)
	if _, err := os.Stat(video); err != nil {
		err := runFFmpeg(ctx, ffmpeg, video,
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%s:rate=%d", s.Size, FrameRate),
			"-t", strconv.Itoa(s.Seconds), "-vf", "noise=alls=12:allf=t",
			"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0",
			"-g", strconv.Itoa(FrameRate), "-keyint_min", strconv.Itoa(FrameRate), "-sc_threshold", "0",
			"-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-x264-params", "aud=1",
			"-pix_fmt", "yuv420p", "-f", "h264")
		if err != nil {
			return "", "", err
		}
	}
	if _, err := os.Stat(audio); err != nil {
		err := runFFmpeg(ctx, ffmpeg, audio, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=8000",
			"-t", "10", "-c:a", "pcm_alaw", "-f", "alaw")
		if err != nil {
			return "", "", err
		}
	}
	return video, audio, nil
}

// runFFmpeg writes out through a temporary file, renamed when ffmpeg
// succeeded: a killed run leaves no half clip in the cache.
func runFFmpeg(ctx context.Context, ffmpeg, out string, args ...string) error {
	tmp := out + ".tmp"
	full := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	cmd := exec.CommandContext(ctx, ffmpeg, append(full, tmp)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("recbench: ffmpeg %s: %w: %s", filepath.Base(out), err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("recbench: clip: %w", err)
	}
	return nil
}

// Frame is one access unit: its NAL units without start codes.
type Frame struct {
	NALUs [][]byte
	Key   bool
}

// Clip is the looped source of the RTSP publishers.
type Clip struct {
	Frames []Frame
	// Audio is 8 kHz A-law, AudioPerFrame bytes per video frame.
	Audio []byte
	// Bytes is the size of the video elementary stream.
	Bytes int
}

// LoadClip reads the files MakeClip wrote.
func LoadClip(video, audio string) (*Clip, error) {
	vb, err := os.ReadFile(video)
	if err != nil {
		return nil, fmt.Errorf("recbench: %w", err)
	}
	ab, err := os.ReadFile(audio)
	if err != nil {
		return nil, fmt.Errorf("recbench: %w", err)
	}
	frames, err := SplitAccessUnits(vb)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", video, err)
	}
	if len(ab) < AudioPerFrame {
		return nil, fmt.Errorf("%w: %s: %d bytes of audio", ErrFormat, audio, len(ab))
	}
	return &Clip{Frames: frames, Audio: ab, Bytes: len(vb)}, nil
}

// AudioFor returns the audio sent with frame n of the loop.
func (c *Clip) AudioFor(n int) []byte {
	chunks := len(c.Audio) / AudioPerFrame
	i := n % chunks * AudioPerFrame
	return c.Audio[i : i+AudioPerFrame]
}

// SplitAccessUnits cuts an H.264 Annex-B stream into access units at its
// access unit delimiters (MakeClip writes one before every frame), and
// drops the delimiters: RTSP carries none. The first frame must be a key
// frame.
func SplitAccessUnits(b []byte) ([]Frame, error) {
	var frames []Frame
	var cur *Frame
	for nalu := range nalUnits(b) {
		switch nalu[0] & 0x1F {
		case 9: // access unit delimiter
			frames = append(frames, Frame{})
			cur = &frames[len(frames)-1]
			continue
		case 5:
			if cur != nil {
				cur.Key = true
			}
		}
		if cur == nil {
			return nil, fmt.Errorf("%w: NAL unit before the first access unit delimiter", ErrFormat)
		}
		cur.NALUs = append(cur.NALUs, nalu)
	}
	frames = slicesDeleteEmpty(frames)
	if len(frames) == 0 || !frames[0].Key {
		return nil, fmt.Errorf("%w: no access units starting with a key frame", ErrFormat)
	}
	return frames, nil
}

func slicesDeleteEmpty(f []Frame) []Frame {
	out := f[:0]
	for _, fr := range f {
		if len(fr.NALUs) > 0 {
			out = append(out, fr)
		}
	}
	return out
}

// nalUnits yields the NAL units of an Annex-B stream (3- or 4-byte start
// codes), without their start codes; empty ones are skipped.
func nalUnits(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		start := -1
		for i := 0; i+2 < len(b); {
			if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
				if start >= 0 {
					end := i
					if end > start && b[end-1] == 0 {
						end-- // the zero of a 4-byte start code
					}
					if end > start && !yield(b[start:end]) {
						return
					}
				}
				i += 3
				start = i
				continue
			}
			i++
		}
		if start >= 0 && start < len(b) {
			yield(b[start:])
		}
	}
}
