package ps_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// testAU is one access unit to mux.
type testAU struct {
	pts, dts int64
	key      bool
	data     []byte
}

// noZero returns n pseudo-random bytes without zeros, so they contain no
// start code.
func noZero(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(1 + r.IntN(255))
	}
	return b
}

func nal(hdr []byte, body []byte) []byte {
	out := append([]byte{0, 0, 0, 1}, hdr...)
	return append(out, body...)
}

// synthAUs builds a GOP-structured sequence of Annex-B access units.
func synthAUs(codec ps.Codec, n, size int, seed uint64) []testAU {
	r := rand.New(rand.NewPCG(seed, 1))
	var aus []testAU
	for i := range n {
		key := i%10 == 0
		var au []byte
		switch codec {
		case ps.CodecH264:
			au = nal([]byte{0x09, 0xF0}, nil)
			if key {
				au = append(au, nal([]byte{0x67, 0x42}, noZero(r, 10))...)
				au = append(au, nal([]byte{0x68, 0xCE}, noZero(r, 4))...)
				au = append(au, nal([]byte{0x65, 0x88}, noZero(r, size))...)
			} else {
				au = append(au, nal([]byte{0x41, 0x9A}, noZero(r, size/4+1))...)
			}
		case ps.CodecH265:
			au = nal([]byte{0x46, 0x01, 0x50}, nil)
			if key {
				au = append(au, nal([]byte{0x40, 0x01}, noZero(r, 20))...)
				au = append(au, nal([]byte{0x42, 0x01}, noZero(r, 30))...)
				au = append(au, nal([]byte{0x44, 0x01}, noZero(r, 6))...)
				au = append(au, nal([]byte{0x26, 0x01, 0xAF}, noZero(r, size))...)
			} else {
				au = append(au, nal([]byte{0x02, 0x01, 0xD0}, noZero(r, size/4+1))...)
			}
		}
		aus = append(aus, testAU{pts: int64(i)*3600 + 1000, dts: int64(i)*3600 + 1000, key: key, data: au})
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

func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed: CI must run the cross-check with it (scripts/install-deps.sh)", name)
		}
		t.Skipf("%s not installed: skipping the cross-check with it", name)
	}
	return p
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
