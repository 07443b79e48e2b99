package gbsim

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

func TestLinearToALaw(t *testing.T) {
	for _, tc := range []struct {
		in   int16
		want byte
	}{{0, 0xD5}, {-1, 0x55}, {32767, 0xAA}, {-32768, 0x2A}, {1000, 0xFA}, {-1000, 0x7A}} {
		if got := linearToALaw(tc.in); got != tc.want {
			t.Errorf("linearToALaw(%d) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

// muxDemux runs a clip through our muxer and the ps demuxer and counts the
// frames that come out.
func muxDemux(t *testing.T, c *clip) (video, audio, keys int, codec ps.Codec) {
	t.Helper()
	mux := &ps.Muxer{VideoCodec: c.codec, AudioCodec: ps.CodecG711A}
	var stream []byte
	var err error
	for i, au := range c.frames {
		pts := int64(i) * frameTicks
		if stream, err = mux.AppendVideo(stream, pts, pts, au.key, au.data); err != nil {
			t.Fatal(err)
		}
		if stream, err = mux.AppendAudio(stream, pts, c.audioFor(i)); err != nil {
			t.Fatal(err)
		}
	}
	var d ps.Demuxer
	count := func(frames []ps.Frame) {
		for _, f := range frames {
			if f.Codec.IsVideo() {
				video++
				codec = f.Codec
				if f.Keyframe {
					keys++
				}
			} else {
				audio++
			}
		}
	}
	frames, err := d.Write(stream)
	if err != nil {
		t.Fatal(err)
	}
	count(frames)
	count(d.Flush())
	return video, audio, keys, codec
}

func TestSyntheticClip(t *testing.T) {
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		c := syntheticClip(codec)
		if len(c.frames) != frameRate || !c.frames[0].key || c.frames[1].key {
			t.Fatalf("%v: %d frames", codec, len(c.frames))
		}
		// The splitter finds the same access units in the concatenation.
		var all []byte
		for _, au := range c.frames {
			all = append(all, au.data...)
		}
		aus := splitAccessUnits(all, codec)
		if len(aus) != len(c.frames) || !aus[0].key || !bytes.Equal(aus[3].data, c.frames[3].data) {
			t.Fatalf("%v: split into %d access units", codec, len(aus))
		}
		v, a, k, got := muxDemux(t, c)
		if v != frameRate || a != frameRate || k != 1 || got != codec {
			t.Fatalf("%v: demuxed video %d audio %d keys %d codec %v", codec, v, a, k, got)
		}
	}
}

// TestFFmpegClips generates the real clips (small) and checks they loop
// cleanly: a keyframe with parameter sets every second, and every frame
// back out of the PS demuxer.
func TestFFmpegClips(t *testing.T) {
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	cfg := DefaultConfig()
	cfg.LocalIP = "127.0.0.1"
	cfg.CacheDir = t.TempDir()
	cfg.ClipSize = "320x240"
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lib := s.media
	for _, codec := range []ps.Codec{ps.CodecH264, ps.CodecH265} {
		c, err := lib.load(clipJob{key: codecName(codec) + "-test", label: "34020000001310000001", codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.frames) != clipSeconds*frameRate || len(c.audio) != clipSeconds*8000 {
			t.Fatalf("%v: %d frames, %d audio bytes", codec, len(c.frames), len(c.audio))
		}
		for i, au := range c.frames {
			if au.key != (i%frameRate == 0) {
				t.Fatalf("%v: frame %d key=%v", codec, i, au.key)
			}
			if au.key && !hasParamSets(au.data, codec) {
				t.Fatalf("%v: keyframe %d without parameter sets", codec, i)
			}
		}
		v, a, k, got := muxDemux(t, c)
		if v != len(c.frames) || a != len(c.frames) || k != clipSeconds || got != codec {
			t.Fatalf("%v: demuxed video %d audio %d keys %d codec %v", codec, v, a, k, got)
		}
	}
}

func hasParamSets(au []byte, codec ps.Codec) bool {
	for nal := range ps.NALUnits(au) {
		if codec == ps.CodecH265 && nal[0]>>1&0x3F == 33 || codec == ps.CodecH264 && nal[0]&0x1F == 7 {
			return true
		}
	}
	return false
}

// TestCloseStopsClipGeneration closes a simulator while ffmpeg generates a
// clip: Close kills ffmpeg, waits for the worker and leaves no partial file
// (the leak check of TestMain sees that no goroutine is left).
func TestCloseStopsClipGeneration(t *testing.T) {
	testsupport.Tool(t, "ffmpeg", "ffmpeg")
	cfg := DefaultConfig()
	cfg.LocalIP = "127.0.0.1"
	cfg.CacheDir = t.TempDir()
	cfg.ClipSize = "1920x1080"
	s, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if c := s.media.get(ps.CodecH265, "34020000001310000001"); !c.synthetic {
		t.Fatal("a clip before ffmpeg ran")
	}
	// ffmpeg writes to a temporary file beside the clip; wait until it has
	// started on the first one.
	testsupport.Eventually(t, eventTimeout, "ffmpeg started", func() bool {
		tmp, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "*.tmp"))
		return len(tmp) > 0
	})
	s.Close()
	if tmp, _ := filepath.Glob(filepath.Join(cfg.CacheDir, "*.tmp")); len(tmp) > 0 {
		t.Fatalf("partial files left after Close: %v", tmp)
	}
	if kids := childProcesses(t, "ffmpeg"); len(kids) > 0 {
		t.Fatalf("ffmpeg still running after Close: pids %v", kids)
	}
	if c := s.media.get(ps.CodecH265, "34020000001310000001"); !c.synthetic {
		t.Fatal("a clip although its generation was cancelled")
	}
}

// childProcesses returns the pids of this process's children named comm
// (Linux /proc; elsewhere the check is skipped).
func childProcesses(t *testing.T, comm string) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		t.Log("no /proc: child processes not checked")
		return nil
	}
	var pids []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the process ended meanwhile
		}
		// pid (comm) state ppid …
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(b[end+1:]))
		if string(b[open+1:end]) != comm || len(fields) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == os.Getpid() {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:open])))
			pids = append(pids, pid)
		}
	}
	return pids
}
