package ps_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// Our muxer's output must be readable by ffprobe, every frame counted.
func TestMuxReadByFFprobe(t *testing.T) {
	for _, tc := range []struct {
		codec ps.Codec
		name  string
	}{{ps.CodecH264, "h264"}, {ps.CodecH265, "hevc"}} {
		t.Run(tc.name, func(t *testing.T) {
			aus := splitAtAUD(tc.codec, encodeAnnexB(t, tc.codec, "320x240", 25, 2))
			if len(aus) != 50 {
				t.Fatalf("source has %d access units, want 50", len(aus))
			}
			m := ps.Muxer{VideoCodec: tc.codec, AudioCodec: ps.CodecUnknown}
			var file []byte
			for _, p := range muxAll(t, &m, aus) {
				file = append(file, p...)
			}
			path := filepath.Join(t.TempDir(), "out.ps")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			name, n := ffprobeFrames(t, path)
			if name != tc.name || n != len(aus) {
				t.Fatalf("ffprobe: %s %d frames, want %s %d", name, n, tc.name, len(aus))
			}
		})
	}
}

// demuxFile feeds a file in RTP-sized chunks and returns the frames.
func demuxFile(t *testing.T, data []byte) []ps.Frame {
	t.Helper()
	var d ps.Demuxer
	var c collector
	for len(data) > 0 {
		k := min(len(data), 1400)
		out, err := d.Write(data[:k])
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
		data = data[k:]
	}
	c.add(d.Flush())
	return c.frames
}

// PS files written by ffmpeg (no PSM, stream id 0xE2, 2048-byte packs,
// MPEG-1 packs for -f mpeg, several frames per PES) and by GStreamer.
func TestDemuxToolFiles(t *testing.T) {
	cases := []struct {
		name  string
		tool  string
		args  []string
		codec ps.Codec
		ext   string
		id    uint8
	}{
		{"ffmpeg vob h264", "ffmpeg", []string{"-c:v", "libx264", "-bf", "0", "-g", "25", "-f", "vob"}, ps.CodecH264, "h264", 0xE2},
		{"ffmpeg mpeg1 h264", "ffmpeg", []string{"-c:v", "libx264", "-bf", "0", "-g", "25", "-f", "mpeg"}, ps.CodecH264, "h264", 0xE2},
		{"ffmpeg vob h265", "ffmpeg", []string{"-c:v", "libx265", "-bf", "0", "-g", "25", "-x265-params", "log-level=error", "-f", "vob"}, ps.CodecH265, "hevc", 0xE0},
		{"gstreamer mpegpsmux", "gst-launch-1.0", nil, ps.CodecH264, "h264", 0xE0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tool := needTool(t, tc.tool)
			dir := t.TempDir()
			src := filepath.Join(dir, "src.ps")
			if tc.tool == "ffmpeg" {
				args := append([]string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2"}, tc.args...)
				runTool(t, tool, append(args, src)...)
			} else {
				runTool(t, tool, "-q", "videotestsrc", "num-buffers=50", "!", "video/x-raw,width=320,height=240,framerate=25/1",
					"!", "x264enc", "key-int-max=25", "bframes=0", "!", "h264parse", "!", "mpegpsmux", "!", "filesink", "location="+src)
			}
			if _, n := ffprobeFrames(t, src); n != 50 {
				t.Fatalf("ffprobe counts %d frames in the source, want 50", n)
			}
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			frames := demuxFile(t, data)
			var es []byte
			keys := 0
			for i, f := range frames {
				if f.Codec != tc.codec || f.StreamID != tc.id {
					t.Fatalf("frame %d: codec %v id %#x, want %v %#x", i, f.Codec, f.StreamID, tc.codec, tc.id)
				}
				if i > 0 && f.PTS-frames[i-1].PTS != 3600 {
					t.Fatalf("frame %d: PTS step %d, want 3600", i, f.PTS-frames[i-1].PTS)
				}
				if f.Keyframe {
					keys++
				}
				es = append(es, f.Payload...)
			}
			if len(frames) != 50 || keys != 2 {
				t.Fatalf("%d frames, %d keyframes; want 50, 2", len(frames), keys)
			}
			out := filepath.Join(dir, "out."+tc.ext)
			if err := os.WriteFile(out, es, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, n := ffprobeFrames(t, out); n != 50 {
				t.Fatalf("ffprobe counts %d frames in the demuxed stream, want 50", n)
			}
		})
	}
}

// ffmpeg writes MPEG-TS where a PS was expected (pitfall 11).
func TestDemuxMPEGTSFromFFmpeg(t *testing.T) {
	ff := needTool(t, "ffmpeg")
	src := filepath.Join(t.TempDir(), "src.ts")
	runTool(t, ff, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "2",
		"-c:v", "libx264", "-bf", "0", "-g", "25", "-f", "mpegts", src)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var d ps.Demuxer
	var c collector
	for len(data) > 0 {
		k := min(len(data), 7*188)
		out, err := d.WriteRTP(data[:k], 0, false)
		if err != nil {
			t.Fatal(err)
		}
		c.add(out)
		data = data[k:]
	}
	c.add(d.Flush())
	v := c.video()
	if len(v) != 50 || v[0].Codec != ps.CodecH264 || v[0].StreamType != ps.StreamTypeH264 || !v[0].Keyframe {
		t.Fatalf("%d frames, first %v", len(v), v[0].Codec)
	}
}
