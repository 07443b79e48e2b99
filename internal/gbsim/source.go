package gbsim

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Media timing: 25 fps video, and 40 ms of 8 kHz G.711 per video frame.
const (
	frameRate     = 25
	frameTicks    = 90000 / frameRate
	frameDuration = time.Second / frameRate
	audioPerFrame = 8000 / frameRate
	clipSeconds   = 10
)

// accessUnit is one video frame in Annex-B format.
type accessUnit struct {
	data []byte
	key  bool
}

// clip is a looped media source: video access units and the G.711A bytes
// of the same length.
type clip struct {
	codec     ps.Codec
	frames    []accessUnit
	audio     []byte
	synthetic bool
}

// audioFor returns the audio of frame n of the loop.
func (c *clip) audioFor(n int) []byte {
	if len(c.audio) < audioPerFrame {
		return nil
	}
	chunks := len(c.audio) / audioPerFrame
	i := n % chunks * audioPerFrame
	return c.audio[i : i+audioPerFrame]
}

// mediaLibrary produces clips: per channel with its ID and a clock burnt
// in when ffmpeg and drawtext work, else a generic clip per codec, else a
// built-in synthetic stream. ffmpeg runs once per clip, one at a time, in a
// worker goroutine of the simulator that runs while clips are queued and is
// cancelled (with its ffmpeg) by Close; results are cached in the cache
// directory.
type mediaLibrary struct {
	cfg   Config
	log   *slog.Logger
	ctx   context.Context // the simulator's: ends in Close
	spawn func(func()) bool

	mu      sync.Mutex
	clips   map[string]*clip
	pending map[string]bool
	failed  map[string]bool
	queue   []clipJob
	working bool          // a worker is running
	changed chan struct{} // closed (and replaced) when a job finishes
}

type clipJob struct {
	key, label string
	codec      ps.Codec
	// picture is a faulty picture's kind (Faults.Pictures), "" for a good one.
	picture string
}

func newMediaLibrary(s *Sim) *mediaLibrary {
	return &mediaLibrary{
		cfg:     s.cfg,
		log:     s.log,
		ctx:     s.ctx,
		spawn:   s.spawn,
		clips:   map[string]*clip{},
		pending: map[string]bool{},
		failed:  map[string]bool{},
		changed: make(chan struct{}),
	}
}

// get returns the best clip available now for codec and channel label, and
// queues the generation of a better one.
func (l *mediaLibrary) get(codec ps.Codec, label string) *clip {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, _ := l.getLocked(codec, label)
	return c
}

// getLocked is get with l.mu held; busy reports that a better clip is
// being generated.
func (l *mediaLibrary) getLocked(codec ps.Codec, label string) (c *clip, busy bool) {
	chanKey := codecName(codec) + "-" + label
	genKey := codecName(codec) + "-generic"
	jobs := []clipJob{{key: genKey, label: "GB28181 " + codecName(codec), codec: codec}, {key: chanKey, label: label, codec: codec}}
	keys := []string{chanKey, genKey}
	if kind := l.cfg.Faults.Pictures[label]; kind != "" {
		// Its own faulty clip only: the good generic one would hide the fault.
		chanKey += "-" + kind
		jobs, keys = []clipJob{{key: chanKey, label: label, codec: codec, picture: kind}}, []string{chanKey}
	}
	for _, k := range keys {
		if c := l.clips[k]; c != nil {
			return c, false
		}
	}
	if _, err := exec.LookPath(l.cfg.FFmpeg); err == nil {
		for _, j := range jobs {
			if !l.pending[j.key] && !l.failed[j.key] {
				l.pending[j.key] = true
				l.queue = append(l.queue, j)
			}
		}
		if len(l.queue) > 0 && !l.working {
			l.working = l.spawn(l.worker)
		}
	}
	synKey := codecName(codec) + "-synthetic"
	c = l.clips[synKey]
	if c == nil {
		c = syntheticClip(codec)
		l.clips[synKey] = c
	}
	return c, l.working && (l.pending[genKey] || l.pending[chanKey])
}

// wait blocks until a non-synthetic clip is ready, its generation failed,
// timeout passed or ctx ended; it lets a first INVITE show real video when
// ffmpeg is quick enough.
func (l *mediaLibrary) wait(ctx context.Context, codec ps.Codec, label string, timeout time.Duration) *clip {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		l.mu.Lock()
		c, busy := l.getLocked(codec, label)
		changed := l.changed
		l.mu.Unlock()
		if !c.synthetic || !busy {
			return c
		}
		select {
		case <-ctx.Done():
			return c
		case <-t.C:
			return c
		case <-changed:
		}
	}
}

// worker generates the queued clips and ends when the queue is empty or
// the simulator closes.
func (l *mediaLibrary) worker() {
	for {
		l.mu.Lock()
		if len(l.queue) == 0 || l.ctx.Err() != nil {
			l.working = false
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue = l.queue[1:]
		l.mu.Unlock()
		c, err := l.load(j)
		l.mu.Lock()
		delete(l.pending, j.key)
		switch {
		case l.ctx.Err() != nil:
			// Closing: ffmpeg was killed; try again next time.
		case err != nil:
			l.failed[j.key] = true
			l.log.Warn("clip generation failed; using the synthetic source", "clip", j.key, "err", err)
		default:
			l.clips[j.key] = c
		}
		close(l.changed)
		l.changed = make(chan struct{})
		l.mu.Unlock()
	}
}

// load reads a clip from the cache, generating it first if needed.
func (l *mediaLibrary) load(j clipJob) (*clip, error) {
	if err := os.MkdirAll(l.cfg.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	ext := "h264"
	if j.codec == ps.CodecH265 {
		ext = "h265"
	}
	name := fmt.Sprintf("%s-%s.%s", safeName(j.key), l.cfg.ClipSize, ext)
	video := filepath.Join(l.cfg.CacheDir, name)
	audio := filepath.Join(l.cfg.CacheDir, "sine-8k.alaw")
	if _, err := os.Stat(video); err != nil {
		start := time.Now()
		if err := l.ffmpegVideo(video, j); err != nil {
			return nil, err
		}
		l.log.Info("clip generated", "clip", name, "took", time.Since(start).Round(time.Millisecond))
	}
	if _, err := os.Stat(audio); err != nil {
		if err := l.ffmpeg(audio, "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=8000",
			"-t", fmt.Sprint(clipSeconds), "-c:a", "pcm_alaw", "-f", "alaw"); err != nil {
			return nil, err
		}
	}
	vb, err := os.ReadFile(video)
	if err != nil {
		return nil, err
	}
	ab, err := os.ReadFile(audio)
	if err != nil {
		return nil, err
	}
	frames := splitAccessUnits(vb, j.codec)
	if len(frames) == 0 || !frames[0].key {
		return nil, fmt.Errorf("%s: no access units starting with a keyframe", video)
	}
	return &clip{codec: j.codec, frames: frames, audio: ab}, nil
}

func (l *mediaLibrary) ffmpegVideo(out string, j clipJob) error {
	filter := fmt.Sprintf("drawtext=text='%s %%{pts\\:hms}':fontsize=36:fontcolor=white:box=1:boxcolor=black@0.6:x=24:y=24",
		strings.ReplaceAll(j.label, "'", ""))
	source := fmt.Sprintf("testsrc2=size=%s:rate=%d", l.cfg.ClipSize, frameRate)
	switch j.picture {
	case "":
	case "black":
		source, filter = fmt.Sprintf("color=c=black:size=%s:rate=%d", l.cfg.ClipSize, frameRate), "null"
	case "frozen":
		// The first frame held: a camera whose encoder repeats one picture.
		source += fmt.Sprintf(",trim=end_frame=1,loop=loop=%d:size=1,setpts=N/%d/TB", clipSeconds*frameRate, frameRate)
		filter = "null"
	default:
		// Over the OSD too: a blurred or tinted camera shows its text so.
		filter += "," + PictureFaults[j.picture]
	}
	args := []string{"-f", "lavfi", "-i", source, "-t", fmt.Sprint(clipSeconds)}
	enc := []string{
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-bf", "0",
		"-g", fmt.Sprint(frameRate), "-pix_fmt", "yuv420p", "-f", "h264",
	}
	if j.codec == ps.CodecH265 {
		enc = []string{
			"-c:v", "libx265", "-preset", "ultrafast",
			"-x265-params", "bframes=0:keyint=25:min-keyint=25:log-level=error", "-pix_fmt", "yuv420p", "-f", "hevc",
		}
	}
	withText := append(append(append([]string{}, args...), "-vf", filter), enc...)
	if err := l.ffmpeg(out, withText...); err == nil {
		return nil
	}
	// drawtext needs libfreetype and a font; fall back to the bare pattern
	// (with its fault, if it has one).
	if f := PictureFaults[j.picture]; f != "" {
		args = append(args, "-vf", f)
	}
	return l.ffmpeg(out, append(args, enc...)...)
}

// ffmpeg runs ffmpeg with args, writing to a temporary file beside out that
// is renamed to out on success: processes sharing a cache directory (test
// packages run in parallel) never see each other's partial files. Close
// kills it; FFmpegTimeout bounds it.
func (l *mediaLibrary) ffmpeg(out string, args ...string) error {
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return fmt.Errorf("ffmpeg output: %w", err)
	}
	tmp := f.Name()
	f.Close()
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.FFmpegTimeout)
	defer cancel()
	full := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)
	full = append(full, tmp)
	cmd := exec.CommandContext(ctx, l.cfg.FFmpeg, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ffmpeg: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ffmpeg output: %w", err)
	}
	return nil
}

func codecName(c ps.Codec) string {
	if c == ps.CodecH265 {
		return "h265"
	}
	return "h264"
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

// splitAccessUnits cuts an Annex-B elementary stream into access units: a
// new one starts at an access unit delimiter, at parameter sets or SEI
// after a picture, or at a slice that is the first of its picture.
func splitAccessUnits(b []byte, codec ps.Codec) []accessUnit {
	var aus []accessUnit
	var cur []byte
	key, hasVCL := false, false
	flush := func() {
		if hasVCL {
			aus = append(aus, accessUnit{data: cur, key: key})
		}
		cur, key, hasVCL = nil, false, false
	}
	for nal := range ps.NALUnits(b) {
		if len(nal) < 3 {
			continue
		}
		vcl, first, isKey, startsAU := nalInfo(nal, codec)
		if hasVCL && (startsAU || (vcl && first)) {
			flush()
		}
		cur = append(cur, 0, 0, 0, 1)
		cur = append(cur, nal...)
		if vcl {
			hasVCL = true
			key = key || isKey
		}
	}
	flush()
	return aus
}

// nalInfo classifies a NAL unit: whether it is a picture slice, the first
// slice of its picture, a keyframe slice, and whether it starts an access
// unit when it follows a picture.
func nalInfo(nal []byte, codec ps.Codec) (vcl, first, key, startsAU bool) {
	if codec == ps.CodecH265 {
		t := nal[0] >> 1 & 0x3F
		switch {
		case t <= 31:
			return true, nal[2]&0x80 != 0, t >= 16 && t <= 21, false
		case t >= 32 && t <= 35 || t == 39 || t >= 41 && t <= 44:
			return false, false, false, true
		}
		return false, false, false, false
	}
	t := nal[0] & 0x1F
	switch {
	case t >= 1 && t <= 5:
		// first_mb_in_slice is ue(v); 0 is coded as a single 1 bit.
		return true, nal[1]&0x80 != 0, t == 5, false
	case t == 6 || t == 7 || t == 8 || t == 9 || t >= 14 && t <= 18:
		return false, false, false, true
	}
	return false, false, false, false
}

// syntheticClip is the source used without ffmpeg: one second of NAL units
// with the right types (parameter sets, an IDR/IRAP picture, then
// predicted pictures) and filler payloads, and a 1 kHz A-law tone. It
// exercises every signalling and transport path; it does not decode to a
// picture.
func syntheticClip(codec ps.Codec) *clip {
	var frames []accessUnit
	for n := 0; n < frameRate; n++ {
		var au []byte
		add := func(nal ...byte) { au = append(append(au, 0, 0, 0, 1), nal...) }
		key := n == 0
		if codec == ps.CodecH265 {
			if key {
				add(0x40, 0x01, 0x0C, 0x01, 0xFF, 0xFF, 0x01, 0x60) // VPS
				add(0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03) // SPS
				add(0x44, 0x01, 0xC1, 0x72, 0xB4, 0x62, 0x40)       // PPS
				add(filler([]byte{0x26, 0x01, 0xAF}, 6000, n)...)   // IDR_W_RADL
			} else {
				add(filler([]byte{0x02, 0x01, 0xD0}, 1200, n)...) // TRAIL_R
			}
		} else {
			if key {
				add(0x67, 0x4D, 0x00, 0x1F, 0x9A, 0x66, 0x02, 0x80, 0x2D, 0xD0) // SPS
				add(0x68, 0xEE, 0x3C, 0x80)                                     // PPS
				add(filler([]byte{0x65, 0x88, 0x84}, 6000, n)...)               // IDR
			} else {
				add(filler([]byte{0x41, 0x9A, 0x02}, 1200, n)...) // non-IDR
			}
		}
		frames = append(frames, accessUnit{data: au, key: key})
	}
	audio := make([]byte, 8000)
	for i := range audio {
		audio[i] = linearToALaw(int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/8000)))
	}
	return &clip{codec: codec, frames: frames, audio: audio, synthetic: true}
}

// filler appends n bytes that never form a start code.
func filler(head []byte, n, seed int) []byte {
	b := append([]byte{}, head...)
	for i := 0; i < n; i++ {
		b = append(b, byte((i*31+seed*7)%251+1))
	}
	return b
}

// linearToALaw encodes one 16-bit sample as G.711 A-law.
func linearToALaw(s int16) byte {
	v := int(s) >> 3 // 13-bit magnitude
	mask := byte(0xD5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for t := 0x1F; v > t && seg < 8; t = t<<1 | 1 {
		seg++
	}
	var out byte
	switch {
	case seg >= 8:
		out = 0x7F
	case seg < 2:
		out = byte(seg<<4) | byte(v>>1&0x0F)
	default:
		out = byte(seg<<4) | byte(v>>seg&0x0F)
	}
	return out ^ mask
}
