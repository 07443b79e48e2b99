package vodtranscode_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/leakcheck"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

const fps = 25

// source writes seconds of a clip (one key frame a second) with G.711
// audio as a segment of 200 ms fragments, and returns it scanned.
func source(t *testing.T, codec ps.Codec, seconds int) vodtranscode.Source {
	t.Helper()
	clip := mediatest.NewClip(t, codec, 320, 240, fps, 2)
	var vf format.Format = &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	if codec == ps.CodecH265 {
		vf = &format.H265{PayloadTyp: 96}
	}
	w, tracks, buf := newWriter(t, &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{vf}},
		&description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 8, SampleRate: 8000, ChannelCount: 1}}})
	for i := range seconds * fps {
		var au [][]byte
		for n := range ps.NALUnits(clip.Units[i%len(clip.Units)].Payload) {
			au = append(au, n)
		}
		if err := w.WriteVideo(tracks[0], int64(i)*90000/fps, au); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteAudio(tracks[1], int64(i)*8000/fps, bytes.Repeat([]byte{byte(0x55 ^ i%16)}, 8000/fps)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(buf.Bytes())
	l, err := segment.Fragments(r, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return vodtranscode.Source{Key: fmt.Sprint(codec, seconds), R: r, Layout: l}
}

// opener opens src.
func opener(src vodtranscode.Source) vodtranscode.Opener {
	return func(context.Context) (vodtranscode.Source, func(), error) { return src, func() {}, nil }
}

// newWriter starts a segment of medias in 200 ms fragments, in memory.
func newWriter(t *testing.T, medias ...*description.Media) (*segment.Writer, []*segment.Track, *bytes.Buffer) {
	t.Helper()
	tracks, err := segment.NewTracks(&description.Session{Medias: medias})
	if err != nil {
		t.Fatal(err)
	}
	buf := &bytes.Buffer{}
	w := &segment.Writer{W: buf, Tracks: tracks, FragmentDuration: 200 * time.Millisecond}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	return w, tracks, buf
}

func newTranscoder(t *testing.T, reg prometheus.Registerer) *vodtranscode.Transcoder {
	t.Helper()
	tc := &vodtranscode.Transcoder{FFmpeg: testsupport.Tool(t, "ffmpeg", "ffmpeg"), Log: mediatest.Log(t)}
	if reg != nil {
		tc.Metrics = vodtranscode.NewMetrics(reg)
	}
	if err := tc.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	return tc
}

// track is one track of a parsed fragment.
type track struct {
	base    uint64
	samples []*fmp4.Sample
}

func parsePart(t *testing.T, b []byte) map[int]track {
	t.Helper()
	var parts fmp4.Parts
	if err := parts.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 {
		t.Fatalf("%d fragments, want 1", len(parts))
	}
	out := map[int]track{}
	for _, pt := range parts[0].Tracks {
		out[pt.ID] = track{pt.BaseTime, pt.Samples}
	}
	return out
}

func sum(s []*fmp4.Sample) (d uint64) {
	for _, x := range s {
		d += uint64(x.Duration)
	}
	return d
}

// TestStretchesTile: stretches cut at the same times follow each other
// exactly — every source frame once, each stretch starting with an IDR,
// the audio whole — and the init section plus the stretches play in
// ffprobe as H.264 with the source's frame count and duration.
func TestStretchesTile(t *testing.T) {
	src := source(t, ps.CodecH265, 4)
	tc := newTranscoder(t, nil)
	ctx := context.Background()
	initB, err := tc.Init(ctx, src.Key, true, opener(src))
	if err != nil {
		t.Fatal(err)
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(initB)); err != nil {
		t.Fatal(err)
	}
	if len(in.Tracks) != 2 {
		t.Fatalf("init has %d tracks, want video and audio", len(in.Tracks))
	}
	if c, ok := in.Tracks[0].Codec.(*codecs.H264); !ok || len(c.SPS) == 0 || len(c.PPS) == 0 {
		t.Fatalf("init video codec %T, want H.264 with parameter sets", in.Tracks[0].Codec)
	}
	if _, ok := in.Tracks[1].Codec.(*codecs.FLAC); !ok {
		t.Fatalf("init audio codec %T, want the segment's FLAC", in.Tracks[1].Codec)
	}
	// Cuts between key frames (1 s apart): 0.5 s takes the frame at 1 s;
	// [2.001 s, 2.2 s) holds no key frame, so it is empty and the stretch
	// before runs to 3 s; so are [3.2 s, 3.6 s) and [3.6 s, end): no key
	// frame follows 3 s, the stretch from 2.2 s runs to the end.
	cuts := []time.Duration{
		0, 500 * time.Millisecond, 2 * time.Second, 2001 * time.Millisecond, 2200 * time.Millisecond,
		3200 * time.Millisecond, 3600 * time.Millisecond, 0,
	}
	file := tile(t, tc, src, initB, cuts, 4*fps, 4*8000/320)
	// The first stretch of a playback (a faster preset) and the others
	// carry the init section's parameter sets.
	h := in.Tracks[0].Codec.(*codecs.H264)
	for _, first := range []bool{true, false} {
		b, err := tc.Part(ctx, src.Key, true, vodtranscode.Range{From: time.Second, To: 2 * time.Second, First: first}, opener(src))
		if err != nil {
			t.Fatal(err)
		}
		var au h264.AVCC
		if err := au.Unmarshal(parsePart(t, b)[1].samples[0].Payload); err != nil {
			t.Fatal(err)
		}
		var sps, pps []byte
		for _, n := range au {
			switch n[0] & 0x1F {
			case 7:
				sps = n
			case 8:
				pps = n
			}
		}
		if !bytes.Equal(sps, h.SPS) || !bytes.Equal(pps, h.PPS) {
			t.Errorf("first %v: in-band SPS %x PPS %x, init SPS %x PPS %x", first, sps, pps, h.SPS, h.PPS)
		}
	}
	probe := ffprobe(t, file)
	if probe.codec != "h264" || probe.frames != 4*fps || probe.duration < 3.95 || probe.duration > 4.05 {
		t.Fatalf("ffprobe: %+v, want h264, %d frames, 4 s", probe, 4*fps)
	}
}

// tile transcodes src in the stretches between cuts and checks that they
// follow each other exactly, each non-empty one starting with a key frame,
// with frames video and audio samples in all; it returns the init section
// and the stretches as one file.
func tile(t *testing.T, tc *vodtranscode.Transcoder, src vodtranscode.Source, initB []byte, cuts []time.Duration, frames, audio int) []byte {
	t.Helper()
	file := append([]byte(nil), initB...)
	var gotV, gotA int
	var nextV, nextA uint64
	for i := 0; i+1 < len(cuts); i++ {
		rg := vodtranscode.Range{From: cuts[i], To: cuts[i+1]}
		b, err := tc.Part(context.Background(), src.Key, true, rg, opener(src))
		if err != nil {
			t.Fatalf("part %d %+v: %v", i, rg, err)
		}
		tr := parsePart(t, b)
		v, a := tr[1], tr[2]
		if len(v.samples) == 0 {
			if len(a.samples) != 0 {
				t.Fatalf("part %d %+v: %d audio samples and no video", i, rg, len(a.samples))
			}
			file = append(file, b...) // players take an empty fragment
			continue
		}
		if v.samples[0].IsNonSyncSample {
			t.Fatalf("part %d %+v: the first video sample is not a key frame", i, rg)
		}
		if gotV == 0 { // the source's first frame may show after 0 (B-frames)
			nextV = v.base
		}
		if v.base != nextV || (len(a.samples) > 0 && a.base != nextA) {
			t.Fatalf("part %d %+v: video at %d, audio at %d; the previous ended at %d, %d", i, rg, v.base, a.base, nextV, nextA)
		}
		nextV, nextA = v.base+sum(v.samples), a.base+sum(a.samples)
		gotV += len(v.samples)
		gotA += len(a.samples)
		file = append(file, b...)
	}
	if gotV != frames || gotA != audio {
		t.Fatalf("%d video and %d audio samples in the stretches, want %d and %d", gotV, gotA, frames, audio)
	}
	return file
}

// TestOpenGOP: an H.265 recording with open GOPs and B-frames (CRA key
// frames whose leading pictures refer to the GOP before) tiles too: each
// key frame's leading pictures come out of the stretch before it, which
// can decode them, so no frame is lost at a cut.
func TestOpenGOP(t *testing.T) {
	src := openGOPSource(t)
	tc := newTranscoder(t, nil)
	initB, err := tc.Init(context.Background(), src.Key, true, opener(src))
	if err != nil {
		t.Fatal(err)
	}
	cuts := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 0}
	probe := ffprobe(t, tile(t, tc, src, initB, cuts, 4*fps, 0))
	if probe.codec != "h264" || probe.frames != 4*fps {
		t.Fatalf("ffprobe: %+v, want h264, %d frames", probe, 4*fps)
	}
}

// openGOPSource writes 4 s of x265 with open GOPs (a CRA every 24 frames) and
// B-frames as a segment, times from ffmpeg's fragmented MP4.
func openGOPSource(t *testing.T) vodtranscode.Source {
	t.Helper()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	path := filepath.Join(t.TempDir(), "open-gop.mp4")
	out, err := exec.Command(bin, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=320x240:rate=%d", fps), "-t", "4",
		"-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
		"-x265-params", fmt.Sprintf("bframes=4:b-adapt=0:b-pyramid=0:open-gop=1:keyint=%d:min-keyint=%d:scenecut=0:log-level=error", fps-1, fps-1),
		"-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	hc, ok := in.Tracks[0].Codec.(*codecs.H265)
	if !ok {
		t.Fatalf("ffmpeg wrote %T", in.Tracks[0].Codec)
	}
	scale := int64(in.Tracks[0].TimeScale)
	var parts fmp4.Parts
	if err := parts.Unmarshal(raw[bytes.Index(raw, []byte("moof"))-4:]); err != nil {
		t.Fatal(err)
	}
	w, tracks, buf := newWriter(t, &description.Media{
		Type: description.MediaTypeVideo, Formats: []format.Format{&format.H265{PayloadTyp: 96, VPS: hc.VPS, SPS: hc.SPS, PPS: hc.PPS}},
	})
	rasl := 0
	for _, p := range parts {
		for _, pt := range p.Tracks {
			dts := int64(pt.BaseTime)
			for _, s := range pt.Samples {
				var au h264.AVCC
				if err := au.Unmarshal(s.Payload); err != nil {
					t.Fatal(err)
				}
				for _, n := range au {
					if typ := n[0] >> 1 & 0x3F; typ == 8 || typ == 9 {
						rasl++
					}
				}
				// One second later: the DTS of the first B-frames is negative.
				if err := w.WriteVideo(tracks[0], (dts+int64(s.PTSOffset))*90000/scale+90000, au); err != nil {
					t.Fatal(err)
				}
				dts += int64(s.Duration)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if rasl == 0 {
		t.Fatal("the clip has no RASL picture: not an open-GOP clip")
	}
	r := bytes.NewReader(buf.Bytes())
	l, err := segment.Fragments(r, int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return vodtranscode.Source{Key: "open-gop", R: r, Layout: l}
}

type probed struct {
	codec    string
	frames   int
	duration float64
}

// ffprobe decodes every video frame of an MP4.
func ffprobe(t *testing.T, file []byte) probed {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	path := filepath.Join(t.TempDir(), "out.mp4")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,nb_read_frames:format=duration", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	var res struct {
		Streams []struct {
			Codec  string `json:"codec_name"`
			Frames string `json:"nb_read_frames"`
		} `json:"streams"`
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
		t.Fatalf("ffprobe: %s: %v", out, err)
	}
	var p probed
	p.codec = res.Streams[0].Codec
	p.frames, _ = strconv.Atoi(res.Streams[0].Frames)
	p.duration, _ = strconv.ParseFloat(res.Format.Duration, 64)
	return p
}

// TestShift: Shift moves both tracks' decode times, as vod's shift query.
func TestShift(t *testing.T) {
	src := source(t, ps.CodecH265, 2)
	tc := newTranscoder(t, nil)
	b, err := tc.Part(context.Background(), src.Key, true, vodtranscode.Range{From: time.Second, Shift: 90 * time.Second}, opener(src))
	if err != nil {
		t.Fatal(err)
	}
	tr := parsePart(t, b)
	if tr[1].base != 91*90000 || tr[2].base != 91*8000 {
		t.Fatalf("shifted stretch at %d (video), %d (audio); want 91 s", tr[1].base, tr[2].base)
	}
}

// runsOf is the transcoder's ffmpeg runs, whatever their result.
func runsOf(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "recorder_vod_transcodes_total" {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// TestCache: a final segment's answer is kept, so asking again runs no
// ffmpeg; a segment that still grows is transcoded every time.
func TestCache(t *testing.T) {
	src := source(t, ps.CodecH265, 2)
	reg := prometheus.NewRegistry()
	tc := newTranscoder(t, reg)
	ctx := context.Background()
	rg := vodtranscode.Range{To: time.Second}
	runs := func() float64 { return runsOf(t, reg) }
	a, err := tc.Part(ctx, src.Key, true, rg, opener(src))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tc.Part(ctx, src.Key, true, rg, opener(src))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || runs() != 1 {
		t.Fatalf("same answer %v after %v runs, want one run", bytes.Equal(a, b), runs())
	}
	if _, err := tc.Part(ctx, src.Key, false, rg, opener(src)); err != nil {
		t.Fatal(err)
	}
	if runs() != 2 {
		t.Fatalf("%v runs, want a growing segment transcoded again", runs())
	}
}

// TestRefusals: an H.264 segment, an empty stretch, a bad range and a
// closed transcoder are refused with their errors; nothing runs ffmpeg.
func TestRefusals(t *testing.T) {
	h265 := source(t, ps.CodecH265, 2)
	h264 := source(t, ps.CodecH264, 2)
	tc := newTranscoder(t, nil)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		src  vodtranscode.Source
		rg   vodtranscode.Range
		want error
	}{
		{"h264", h264, vodtranscode.Range{}, vodtranscode.ErrNotH265},
		{"past the end", h265, vodtranscode.Range{From: 5 * time.Second}, vodtranscode.ErrNoVideo},
		{"to before from", h265, vodtranscode.Range{From: time.Second, To: time.Second}, vodtranscode.ErrNoVideo},
	} {
		if _, err := tc.Part(ctx, c.src.Key, true, c.rg, opener(c.src)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := tc.Init(ctx, h264.Key, true, opener(h264)); !errors.Is(err, vodtranscode.ErrNotH265) {
		t.Errorf("init of h264: %v", err)
	}
	tc.Close()
	if _, err := tc.Part(ctx, h265.Key, true, vodtranscode.Range{}, opener(h265)); !errors.Is(err, vodtranscode.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

// TestWarm: a warmed init section and stretch are transcoded once, in the
// background; the requests that follow get them without another run. A
// warm whose object cannot be opened is logged, not kept; Close waits for
// warms in flight.
func TestWarm(t *testing.T) {
	src := source(t, ps.CodecH265, 2)
	reg := prometheus.NewRegistry()
	tc := newTranscoder(t, reg)
	opened := make(chan struct{}, 2)
	open := func(context.Context) (vodtranscode.Source, func(), error) {
		opened <- struct{}{}
		return src, func() {}, nil
	}
	// Warmed from the playlist's times (nanoseconds), asked for with the
	// URL's (microseconds): one stretch.
	tc.Warm(src.Key, vodtranscode.Range{To: time.Second + 11111*time.Nanosecond}, open)
	rg := vodtranscode.Range{To: time.Second + 11*time.Microsecond}
	<-opened
	<-opened
	ctx := context.Background()
	if _, err := tc.Init(ctx, src.Key, true, opener(src)); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Part(ctx, src.Key, true, rg, opener(src)); err != nil {
		t.Fatal(err)
	}
	if runs := runsOf(t, reg); runs != 2 {
		t.Fatalf("%v runs, want the two warmed ones only", runs)
	}
	tc.Warm("gone", rg, func(context.Context) (vodtranscode.Source, func(), error) {
		return vodtranscode.Source{}, nil, errors.New("object gone")
	})
	tc.Warm(src.Key, vodtranscode.Range{From: time.Second}, open)
	tc.Close()
}
