package vod_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vod"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vodtranscode"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// BenchmarkFirstFrame measures playback's first frame as a player sees it:
// from the playlist request to the first decoded video frame (ffmpeg
// reading the HLS URL, -frames:v 1), for a start in the middle of a
// 1-minute 1080p segment recorded as the recorder does (1 s fragments, a
// key frame a second). local-ms is ffmpeg's own cost of the first frame of
// that segment's local file (start-up, probe, decode of one frame), so the
// difference is the playback path's; playlist-ms is the playlist request
// alone (index read, scan of the first segment, audit). The goal
// is 500 ms.
//
//	go test ./internal/recorder/vod/ -run XXX -bench FirstFrame -benchtime 20x
func BenchmarkFirstFrame(b *testing.B) {
	for _, kind := range []string{objstore.KindDir, objstore.KindS3} {
		b.Run(kind, func(b *testing.B) {
			e := newEnv(b, storeOf(b, kind))
			e.clip = mediatest.NewClip(b, ps.CodecH264, 1920, 1080, fps, 4)
			e.fragment = time.Second
			for i := range 3 {
				e.segment(chA, t0.Add(time.Duration(i)*time.Minute), 60, false)
			}
			url := e.playlistURL(chA, t0.Add(90500*time.Millisecond), t0.Add(3*time.Minute), e.viewerToken(chA))
			bin := testsupport.Tool(b, "ffmpeg", "ffmpeg")
			first := func(args ...string) {
				args = append([]string{"-hide_banner", "-nostdin", "-v", "error"}, args...)
				if out, err := exec.Command(bin, append(args, "-frames:v", "1", "-f", "null", "-")...).CombinedOutput(); err != nil {
					b.Fatalf("ffmpeg: %v\n%s", err, out)
				}
			}
			local := filepath.Join(b.TempDir(), "segment.mp4")
			if err := writeFile(local, e.object(e.segmentAt(t0.Add(time.Minute)))); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var localTime, playlistTime time.Duration
			for range b.N {
				first("-http_persistent", "0", "-i", url)
				b.StopTimer()
				start := time.Now()
				first("-i", local)
				localTime += time.Since(start)
				start = time.Now()
				if status, code, _ := e.get(url); status != 200 {
					b.Fatalf("playlist: %d %s", status, code)
				}
				playlistTime += time.Since(start)
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/first-frame")
			b.ReportMetric(float64(localTime.Milliseconds())/float64(b.N), "local-ms")
			b.ReportMetric(float64(playlistTime.Microseconds())/1000/float64(b.N), "playlist-ms")
		})
	}
}

// BenchmarkH264FirstFrame is BenchmarkFirstFrame for a browser that cannot
// decode H.265: the same three 1-minute 1080p segments recorded as H.265,
// the playlist asked with video=h264. A player's first frame waits for the
// playlist, the init section (ffmpeg encodes the segment's first key frame
// for its parameter sets) and the first stretch (one GOP transcoded), which
// is what ms/first-gop times, fetched one after the other as a player does
// (init-ms and stretch-ms are the two requests; the playlist request starts
// both transcodes). Each run starts with an empty transcode cache; the
// server keeps the segments' scans. x-realtime is how many times faster than real time one request at a
// time transcodes the rest of that segment in 4 s stretches.
//
//	go test ./internal/recorder/vod/ -run XXX -bench H264FirstFrame -benchtime 10x
func BenchmarkH264FirstFrame(b *testing.B) {
	e := newEnv(b, nil)
	e.useH265()
	e.clip = mediatest.NewClip(b, ps.CodecH265, 1920, 1080, fps, 4)
	e.fragment = time.Second
	for i := range 3 {
		e.segment(chA, t0.Add(time.Duration(i)*time.Minute), 60, false)
	}
	tok := e.viewerToken(chA)
	url := e.playlistURL(chA, t0.Add(90500*time.Millisecond), t0.Add(3*time.Minute), tok) + "&video=h264"
	bin := testsupport.Tool(b, "ffmpeg", "ffmpeg")
	fresh := func() {
		tc := &vodtranscode.Transcoder{FFmpeg: bin}
		if err := tc.Initialize(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(tc.Close)
		e.server.Transcoder = tc
	}
	dir := e.http.URL + vod.Prefix + "recording/" + chA + "/"
	fetch := func(u string) time.Duration {
		start := time.Now()
		if status, code, body := e.get(u); status != 200 {
			b.Fatalf("GET %s: %d %s %s", u, status, code, body)
		}
		return time.Since(start)
	}
	var initTime, stretchTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fresh()
		b.StartTimer()
		_, _, pl := e.get(url)
		var mapURI, first string
		for line := range strings.Lines(string(pl)) {
			line = strings.TrimSpace(line)
			if m, ok := strings.CutPrefix(line, `#EXT-X-MAP:URI="`); ok && mapURI == "" {
				mapURI = strings.TrimSuffix(m, `"`)
			} else if line != "" && !strings.HasPrefix(line, "#") && first == "" {
				first = line
			}
		}
		if !strings.HasPrefix(mapURI, "h264/") || !strings.HasPrefix(first, "h264/") {
			b.Fatalf("not an H.264 playlist:\n%s", pl)
		}
		initTime += fetch(dir + mapURI)
		stretchTime += fetch(dir + first)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/first-gop")
	b.ReportMetric(float64(initTime.Milliseconds())/float64(b.N), "init-ms")
	b.ReportMetric(float64(stretchTime.Milliseconds())/float64(b.N), "stretch-ms")

	fresh()
	seg := e.segmentAt(t0.Add(time.Minute))
	base := dir + "h264/seg/" + strconv.FormatInt(seg.ID, 10) + ".m4s?token=" + tok
	start := time.Now()
	for from := 30 * time.Second; from < time.Minute; from += 4 * time.Second {
		u := base + "&from=" + strconv.FormatInt(from.Microseconds(), 10)
		if to := from + 4*time.Second; to < time.Minute {
			u += "&to=" + strconv.FormatInt(to.Microseconds(), 10)
		}
		fetch(u)
	}
	b.ReportMetric(30/time.Since(start).Seconds(), "x-realtime")
}

// BenchmarkChromiumFirstFrame is playback's first frame in the browser the
// console runs in: headless Chromium plays the playlist in a <video>
// (native HLS) and the time runs from setting its src to the first frame
// presented (requestVideoFrameCallback). Three 1-minute 1080p segments:
// H264 plays them as recorded from 1:30.5; H265 plays H.265 ones as their
// H.264 version (video=h264: Chromium here cannot decode H.265) with a new
// transcoder each run, the node's first playback of that camera; H265-seen
// is a node that played that camera before (its H.264 parameter sets kept,
// another segment's init section made before the runs), each run from
// another start (1:30.5, then 3 s later each run), so its stretches are
// new. Each run has its own token, so nothing comes from the browser's
// cache; the video is unloaded after its first frame, which makes the node
// stop the transcodes it no longer needs.
//
//	go test ./internal/recorder/vod/ -run XXX -bench ChromiumFirstFrame -benchtime 9x
func BenchmarkChromiumFirstFrame(b *testing.B) {
	for _, name := range []string{"H264", "H265", "H265-seen"} {
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, nil)
			codec, query := ps.CodecH264, ""
			if name != "H264" {
				e.useH265()
				codec, query = ps.CodecH265, "&video=h264"
			}
			e.clip = mediatest.NewClip(b, codec, 1920, 1080, fps, 4)
			e.fragment = time.Second
			for i := range 3 {
				e.segment(chA, t0.Add(time.Duration(i)*time.Minute), 60, false)
			}
			bin := testsupport.Tool(b, "ffmpeg", "ffmpeg")
			newTranscoder := func() {
				tc := &vodtranscode.Transcoder{FFmpeg: bin}
				if err := tc.Initialize(); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(tc.Close)
				e.server.Transcoder = tc
			}
			if name == "H265-seen" {
				newTranscoder()
				first := e.segmentAt(t0)
				url := e.http.URL + vod.Prefix + "recording/" + chA + "/h264/init/" + strconv.FormatInt(first.ID, 10) + ".mp4?token=" + e.viewerToken(chA)
				if status, code, _ := e.get(url); status != 200 {
					b.Fatalf("init of the first segment: %d %s", status, code)
				}
			}
			ctx := browsertest.New(b)
			if err := chromedp.Run(ctx, chromedp.Navigate(e.http.URL+"/")); err != nil {
				b.Fatal(err)
			}
			var total time.Duration
			for i := range b.N {
				start := t0.Add(90500 * time.Millisecond)
				switch name {
				case "H265":
					newTranscoder()
				case "H265-seen":
					start = start.Add(time.Duration(i) * 3 * time.Second)
				}
				tok := e.token(fmt.Sprintf("op%d", i), []string{playtoken.RightPlayback}, streampath.Recording(chA))
				url := e.playlistURL(chA, start, t0.Add(3*time.Minute), tok) + query
				var ms float64
				err := chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`new Promise((resolve, reject) => {
					const v = document.createElement('video');
					v.muted = true;
					const t0 = performance.now();
					v.onerror = () => reject(new Error('video error ' + (v.error && v.error.code)));
					v.requestVideoFrameCallback(() => {
						resolve(performance.now() - t0);
						// Stop loading: the next run starts on an idle machine.
						v.pause(); v.removeAttribute('src'); v.load(); v.remove();
					});
					v.src = %q;
					document.body.appendChild(v);
					v.play().catch(reject);
				})`, url), &ms, browsertest.AwaitPromise))
				if err != nil {
					b.Fatalf("first frame: %v", err)
				}
				total += time.Duration(ms * float64(time.Millisecond))
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/first-frame")
		})
	}
}
