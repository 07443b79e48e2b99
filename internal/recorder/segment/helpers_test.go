package segment_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	tscodecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// clipSpec is a test stream ffmpeg makes: testsrc2 video, optionally with
// B-frames, and an AAC tone when aac is set.
type clipSpec struct {
	codec   string // "h264" or "h265"
	w, h    int
	fps     int
	seconds int
	bframes bool
	aac     bool
	crf     int // 0: the encoder's default quality
}

func (c clipSpec) name() string {
	return fmt.Sprintf("%s-%dx%d-%d-%ds-b%v-aac%v-crf%d.ts", c.codec, c.w, c.h, c.fps, c.seconds, c.bframes, c.aac, c.crf)
}

// event is one unit of a clip in file order: a video access unit or the
// AAC access units of one PES packet.
type event struct {
	video bool
	pts   int64 // 90 kHz
	data  [][]byte
}

// clip is a decoded test stream.
type clip struct {
	spec   clipSpec
	events []event
	frames int
	aacCfg *mpeg4audio.AudioSpecificConfig
	// paramsFrom is the clip a stripped one was made from.
	paramsFrom *clip
}

// stripped is the clip without parameter sets in band, as sent by a camera
// that gives them only in the SDP.
func (c *clip) stripped() *clip {
	out := *c
	out.paramsFrom = c
	out.events = nil
	for _, e := range c.events {
		if e.video {
			var au [][]byte
			for _, n := range e.data {
				isParams := n[0]&0x1F == 7 || n[0]&0x1F == 8
				if c.spec.codec == "h265" {
					typ := n[0] >> 1 & 0x3F
					isParams = typ >= 32 && typ <= 34
				}
				if !isParams {
					au = append(au, n)
				}
			}
			e.data = au
		}
		out.events = append(out.events, e)
	}
	return &out
}

var (
	clipMu    sync.Mutex
	clipCache = map[string]*clip{}
)

// newClip makes (once per test binary; the file once per machine) and
// demuxes a clip. It skips the test when ffmpeg is missing (fails under CI).
func newClip(t testing.TB, spec clipSpec) *clip {
	t.Helper()
	clipMu.Lock()
	defer clipMu.Unlock()
	if c, ok := clipCache[spec.name()]; ok {
		return c
	}
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "sharpeyes-segment-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, spec.name())
	if _, err := os.Stat(path); err != nil {
		args := []string{
			"-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", spec.w, spec.h, spec.fps),
		}
		if spec.aac {
			args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000")
		}
		args = append(args, "-t", strconv.Itoa(spec.seconds))
		bf := "0"
		if spec.bframes {
			bf = "2"
		}
		if spec.codec == "h265" {
			args = append(args, "-c:v", "libx265", "-preset", "ultrafast",
				"-x265-params", fmt.Sprintf("bframes=%s:keyint=%d:min-keyint=%d:log-level=error", bf, spec.fps, spec.fps))
		} else {
			args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", bf,
				"-g", strconv.Itoa(spec.fps))
		}
		if spec.crf > 0 {
			args = append(args, "-crf", strconv.Itoa(spec.crf))
		}
		args = append(args, "-pix_fmt", "yuv420p")
		if spec.aac {
			args = append(args, "-c:a", "aac", "-b:a", "32k", "-ac", "1")
		}
		tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
		args = append(args, "-f", "mpegts", tmp)
		out, err := exec.Command(ffmpeg, args...).CombinedOutput()
		if err != nil {
			os.Remove(tmp)
			t.Fatalf("ffmpeg %s: %v: %s", spec.name(), err, out)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	c := demux(t, path)
	c.spec = spec
	clipCache[spec.name()] = c
	return c
}

// demux reads the clip's access units with their PTS.
func demux(t testing.TB, path string) *clip {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &mpegts.Reader{R: f}
	if err := r.Initialize(); err != nil {
		t.Fatalf("demux %s: %v", path, err)
	}
	c := &clip{}
	copyAU := func(au [][]byte) [][]byte {
		out := make([][]byte, len(au))
		for i, n := range au {
			out[i] = bytes.Clone(n)
		}
		return out
	}
	for _, tr := range r.Tracks() {
		switch codec := tr.Codec.(type) {
		case *tscodecs.H264:
			r.OnDataH264(tr, func(pts, _ int64, au [][]byte) error {
				c.events = append(c.events, event{video: true, pts: pts, data: copyAU(au)})
				c.frames++
				return nil
			})
		case *tscodecs.H265:
			r.OnDataH265(tr, func(pts, _ int64, au [][]byte) error {
				c.events = append(c.events, event{video: true, pts: pts, data: copyAU(au)})
				c.frames++
				return nil
			})
		case *tscodecs.MPEG4Audio:
			cfg := codec.Config
			c.aacCfg = &cfg
			r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
				c.events = append(c.events, event{pts: pts, data: copyAU(aus)})
				return nil
			})
		}
	}
	for {
		if err := r.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("demux %s: %v", path, err)
		}
	}
	return c
}

// session is the RTSP description of a clip as mediagw would serve it;
// paramsInSDP leaves the parameter sets out of the SDP when false. audio is
// "", "g711a", "g711u" or "aac".
func (c *clip) session(paramsInSDP bool, audio string) *description.Session {
	var vf format.Format
	if c.spec.codec == "h265" {
		f := &format.H265{PayloadTyp: 96}
		if paramsInSDP {
			f.VPS, f.SPS, f.PPS = c.params(32), c.params(33), c.params(34)
		}
		vf = f
	} else {
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
		if paramsInSDP {
			f.SPS, f.PPS = c.params(7), c.params(8)
		}
		vf = f
	}
	s := &description.Session{Medias: []*description.Media{
		{Type: description.MediaTypeVideo, Formats: []format.Format{vf}},
	}}
	switch audio {
	case "g711a", "g711u":
		pt := uint8(8)
		if audio == "g711u" {
			pt = 0
		}
		s.Medias = append(s.Medias, &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{
			&format.G711{PayloadTyp: pt, MULaw: audio == "g711u", SampleRate: 8000, ChannelCount: 1},
		}})
	case "aac":
		s.Medias = append(s.Medias, &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{
			&format.MPEG4Audio{PayloadTyp: 97, Config: c.aacCfg, SizeLength: 13, IndexLength: 3, IndexDeltaLength: 3},
		}})
	}
	return s
}

// params returns the first NAL unit of the given type in the clip.
func (c *clip) params(typ byte) []byte {
	if c.paramsFrom != nil {
		return c.paramsFrom.params(typ)
	}
	for _, e := range c.events {
		if !e.video {
			continue
		}
		for _, n := range e.data {
			var nt byte
			if c.spec.codec == "h265" {
				nt = n[0] >> 1 & 0x3F
			} else {
				nt = n[0] & 0x1F
			}
			if nt == typ {
				return n
			}
		}
	}
	return nil
}

// g711Packet is 20 ms of a 400 Hz tone in G.711 at 8 kHz.
func g711Packet(mulaw bool, seq int) []byte {
	pcm := make([]byte, 320)
	for i := range 160 {
		n := seq*160 + i
		v := int16(8000 * sin400(n))
		pcm[2*i], pcm[2*i+1] = byte(uint16(v)>>8), byte(v)
	}
	var out []byte
	if mulaw {
		out, _ = g711.Mulaw(pcm).Marshal()
	} else {
		out, _ = g711.Alaw(pcm).Marshal()
	}
	return out
}

// sin400 is a triangle approximation of a 400 Hz wave at 8 kHz: audible and
// valid is all a container test needs.
func sin400(n int) float64 {
	p := n % 20
	if p < 10 {
		return float64(p)/5 - 1
	}
	return 1 - float64(p-10)/5
}

// feed writes the clip into w: video and AAC as demuxed, or G.711 packets
// every 20 ms of video time when g711 is set. It returns the bytes fed
// (payloads as received) and the first error.
func feed(t testing.TB, w *segment.Writer, tracks []*segment.Track, c *clip, g711 string) (int64, error) {
	t.Helper()
	var received int64
	video := tracks[0]
	var audio *segment.Track
	if len(tracks) > 1 {
		audio = tracks[1]
	}
	nextG711 := int64(-1) // 90 kHz PTS of the next G.711 packet
	seq := 0
	for _, e := range c.events {
		if e.video {
			if audio != nil && g711 != "" {
				if nextG711 < 0 {
					nextG711 = e.pts
				}
				for nextG711 <= e.pts {
					p := g711Packet(g711 == "g711u", seq)
					received += int64(len(p))
					if err := w.WriteAudio(audio, nextG711*8000/90000, p); err != nil {
						return received, err
					}
					nextG711 += 1800
					seq++
				}
			}
			for _, n := range e.data {
				received += int64(len(n)) + 4 // start code or RTP framing: about 4 bytes a NAL unit either way
			}
			if err := w.WriteVideo(video, e.pts, e.data); err != nil {
				return received, err
			}
			continue
		}
		if audio == nil || g711 != "" {
			continue
		}
		rate := int64(c.aacCfg.SampleRate)
		for _, au := range e.data {
			received += int64(len(au))
		}
		if err := w.WriteAudio(audio, e.pts*rate/90000, e.data...); err != nil {
			return received, err
		}
	}
	return received, nil
}

// probe is what ffprobe says of a file.
type probe struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		Duration     string `json:"duration"`
		StartTime    string `json:"start_time"`
		NbReadFrames string `json:"nb_read_frames"`
		SampleRate   string `json:"sample_rate"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// ffprobe decodes every frame of path (-count_frames) and fails the test on
// any error ffprobe reports.
func ffprobe(t testing.TB, path string) probe {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	cmd := exec.Command(bin, "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v: %s", path, err, stderr.String())
	}
	var p probe
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out)
	}
	return p
}

func atof(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return f
}
