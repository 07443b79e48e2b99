package ps_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps/pstest"
)

// testAU is one access unit to mux.
type testAU struct {
	pts, dts int64
	key      bool
	data     []byte
}

// synthAUs builds a GOP-structured sequence of Annex-B access units.
func synthAUs(codec ps.Codec, n, size int, seed uint64) []testAU {
	var aus []testAU
	for _, a := range pstest.Synthetic(codec, n, size, seed) {
		aus = append(aus, testAU{pts: a.PTS, dts: a.DTS, key: a.Keyframe, data: a.Data})
	}
	return aus
}

// collector gathers copies of demuxed frames.
type collector struct {
	frames []ps.Frame
}

func (c *collector) add(fs []ps.Frame) {
	for _, f := range fs {
		f.Payload = bytes.Clone(f.Payload)
		c.frames = append(c.frames, f)
	}
}

func (c *collector) video() []ps.Frame {
	var out []ps.Frame
	for _, f := range c.frames {
		if f.StreamID >= 0xE0 {
			out = append(out, f)
		}
	}
	return out
}

func (c *collector) audio() []ps.Frame {
	var out []ps.Frame
	for _, f := range c.frames {
		if f.StreamID < 0xE0 {
			out = append(out, f)
		}
	}
	return out
}

// toolPackages names the Debian package of each tool the cross-checks run.
var toolPackages = map[string]string{
	"ffmpeg":         "ffmpeg",
	"ffprobe":        "ffmpeg",
	"gst-launch-1.0": "gstreamer1.0-tools",
}

// needTool returns the path of a cross-check tool: skipped locally, failed
// under CI when missing (testsupport.Tool).
func needTool(t testing.TB, name string) string {
	t.Helper()
	return testsupport.Tool(t, name, toolPackages[name])
}

func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// ffprobeFrames returns codec name and decoded frame count of a file.
func ffprobeFrames(t testing.TB, path string) (string, int) {
	t.Helper()
	out := runTool(t, needTool(t, "ffprobe"), "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", path)
	fields := strings.Split(strings.TrimSpace(out), ",")
	if len(fields) != 2 {
		t.Fatalf("ffprobe %s: %q", path, out)
	}
	n, err := strconv.Atoi(fields[1])
	if err != nil {
		t.Fatalf("ffprobe %s: %q", path, out)
	}
	return fields[0], n
}

// encodeAnnexB makes an elementary stream with ffmpeg, with access unit
// delimiters so that it can be split without a parser.
func encodeAnnexB(t testing.TB, codec ps.Codec, size string, rate, seconds int, extra ...string) []byte {
	t.Helper()
	ff := needTool(t, "ffmpeg")
	dir := t.TempDir()
	out := filepath.Join(dir, "es")
	args := []string{
		"-v", "error", "-y", "-f", "lavfi",
		"-i", "testsrc2=size=" + size + ":rate=" + strconv.Itoa(rate), "-t", strconv.Itoa(seconds),
	}
	switch codec {
	case ps.CodecH264:
		args = append(args, "-c:v", "libx264", "-bf", "0", "-g", "25", "-x264-params", "aud=1")
		args = append(args, extra...)
		args = append(args, "-f", "h264", out)
	default:
		args = append(args, "-c:v", "libx265", "-bf", "0", "-g", "25", "-x265-params", "log-level=error",
			"-bsf:v", "hevc_metadata=aud=insert")
		args = append(args, extra...)
		args = append(args, "-f", "hevc", out)
	}
	runTool(t, ff, args...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitAtAUD splits an Annex-B stream at its access unit delimiters and
// marks keyframes.
func splitAtAUD(codec ps.Codec, es []byte) []testAU {
	var starts []int
	for i := 0; i+4 < len(es); i++ {
		if es[i] != 0 || es[i+1] != 0 || es[i+2] != 1 {
			continue
		}
		h := es[i+3]
		aud := (codec == ps.CodecH264 && h&0x1F == 9) || (codec == ps.CodecH265 && h>>1 == 35)
		if aud {
			s := i
			if s > 0 && es[s-1] == 0 {
				s--
			}
			starts = append(starts, s)
		}
	}
	var aus []testAU
	for k, s := range starts {
		e := len(es)
		if k+1 < len(starts) {
			e = starts[k+1]
		}
		au := es[s:e]
		key := false
		for i := 0; i+3 < len(au); i++ {
			if au[i] == 0 && au[i+1] == 0 && au[i+2] == 1 {
				h := au[i+3]
				if (codec == ps.CodecH264 && h&0x1F == 5) || (codec == ps.CodecH265 && h>>1 >= 16 && h>>1 <= 21) {
					key = true
				}
			}
		}
		ts := int64(k)*3600 + 3600
		aus = append(aus, testAU{pts: ts, dts: ts, key: key, data: au})
	}
	return aus
}

// muxAll writes the access units as packs.
func muxAll(t testing.TB, m *ps.Muxer, aus []testAU) [][]byte {
	t.Helper()
	var packs [][]byte
	for _, au := range aus {
		p, err := m.AppendVideo(nil, au.pts, au.dts, au.key, au.data)
		if err != nil {
			t.Fatal(err)
		}
		packs = append(packs, p)
	}
	return packs
}
