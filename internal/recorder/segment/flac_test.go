package segment_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/g711"

	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// TestFLACLossless: G.711 stored as FLAC decodes (with ffmpeg, the decoder
// browsers embed) to exactly the samples G.711 decodes to, for every kind
// of signal the encoder treats differently — silence (constant
// subframes), tones (fixed predictors), noise (verbatim), every code of
// the law — and for payloads of any length.
func TestFLACLossless(t *testing.T) {
	ffmpeg := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	c := newClip(t, clipSpec{codec: "h264", w: 320, h: 240, fps: 25, seconds: 4})
	rng := rand.New(rand.NewPCG(1, 2))
	for _, law := range []string{"g711a", "g711u"} {
		t.Run(law, func(t *testing.T) {
			tracks, err := segment.NewTracks(c.session(true, law))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := newWriter(t, &buf, tracks)
			sizes := []int{160, 320, 80, 17, 160, 240, 1000}
			var want []byte // 16-bit big-endian, as ffmpeg writes s16be
			// Audio from the first (key) frame on: what comes before it is dropped.
			audioPTS := c.events[0].pts * 8000 / 90000
			n := 0
			for _, e := range c.events {
				if !e.video {
					continue
				}
				if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
					t.Fatal(err)
				}
				// Audio after its frame: before the first one it would be dropped.
				for audioPTS <= e.pts*8000/90000 {
					p := signal(rng, n, sizes[n%len(sizes)], law == "g711u")
					if err := w.WriteAudio(tracks[1], audioPTS, p); err != nil {
						t.Fatal(err)
					}
					want = append(want, decodeG711(p, law == "g711u")...)
					audioPTS += int64(len(p))
					n++
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "segment.mp4")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(ffmpeg, "-v", "error", "-nostdin", "-i", path, "-map", "0:a", "-f", "s16be", "-")
			cmd.Stderr = &stderr
			got, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
			}
			// The writer ends the segment with its video: audio after the
			// last frame (at most the payload then being written) is not in it.
			if len(got) > len(want) || len(want)-len(got) > 2*slices.Max(sizes) {
				t.Fatalf("ffmpeg decoded %d samples, want %d", len(got)/2, len(want)/2)
			}
			for i := 0; i < len(got); i += 2 {
				if got[i] != want[i] || got[i+1] != want[i+1] {
					t.Fatalf("sample %d: ffmpeg %d, want %d", i/2,
						int16(binary.BigEndian.Uint16(got[i:])), int16(binary.BigEndian.Uint16(want[i:])))
				}
			}
			t.Logf("%s: %d G.711 bytes stored as %d bytes of FLAC and trun", law, len(want)/2, buf.Len()-videoBytes(t, c))
		})
	}
}

// signal is the n-th test payload of size bytes: in turn silence, a tone,
// noise, a ramp through every code, and a loud square wave.
func signal(rng *rand.Rand, n, size int, mulaw bool) []byte {
	pcm := make([]byte, 2*size)
	for i := range size {
		var v int16
		switch n % 5 {
		case 0:
		case 1:
			v = int16(8000 * sin400(n*size+i))
		case 2:
			v = int16(rng.IntN(1 << 16))
		case 3:
			p := make([]byte, size)
			for j := range p {
				p[j] = byte(j)
			}
			return p
		case 4:
			v = 30000
			if i/8%2 == 0 {
				v = -30000
			}
		}
		binary.BigEndian.PutUint16(pcm[2*i:], uint16(v))
	}
	if mulaw {
		out, _ := g711.Mulaw(pcm).Marshal()
		return out
	}
	out, _ := g711.Alaw(pcm).Marshal()
	return out
}

func decodeG711(p []byte, mulaw bool) []byte {
	if mulaw {
		var u g711.Mulaw
		u.Unmarshal(p)
		return u
	}
	var a g711.Alaw
	a.Unmarshal(p)
	return a
}

// videoBytes is about what the clip's video takes in a segment, to tell the
// audio's share.
func videoBytes(t *testing.T, c *clip) int {
	tracks, err := segment.NewTracks(c.session(true, ""))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := newWriter(t, &buf, tracks)
	for _, e := range c.events {
		if e.video {
			if err := w.WriteVideo(tracks[0], e.pts, e.data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// BenchmarkFLAC measures one 20 ms G.711 payload (160 samples of a tone)
// encoded as a FLAC frame: the recorder does this 50 times a second for
// every channel with audio.
func BenchmarkFLAC(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	payloads := make([][]byte, 50)
	for i := range payloads {
		payloads[i] = signal(rng, 1, 160, false) // a tone
	}
	enc := segment.NewFLACEncoderForTest(160)
	b.SetBytes(160)
	b.ReportAllocs()
	var dst []byte
	for i := 0; b.Loop(); i++ {
		dst = enc(dst[:0], payloads[i%len(payloads)])
	}
}
