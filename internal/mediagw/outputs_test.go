package mediagw

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// playerPage plays ?whep= or ?hls= in a <video> and exposes stats for the test.
const playerPage = `<!doctype html><meta charset="utf-8"><title>player</title>
<video id="v" muted autoplay playsinline></video>
<script>
const q = new URLSearchParams(location.search);
const v = document.getElementById('v');
window.playError = '';
async function whep(url) {
  const pc = new RTCPeerConnection();
  window.pc = pc;
  pc.addTransceiver('video', {direction: 'recvonly'});
  pc.addTransceiver('audio', {direction: 'recvonly'});
  pc.ontrack = (e) => { if (e.track.kind === 'video') v.srcObject = e.streams[0] || new MediaStream([e.track]); };
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((r) => { if (pc.iceGatheringState === 'complete') r(); else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 2000); });
  const res = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/sdp'}, body: pc.localDescription.sdp});
  if (res.status !== 201) { window.playError = 'WHEP ' + res.status + ' ' + await res.text(); return; }
  await pc.setRemoteDescription({type: 'answer', sdp: await res.text()});
}
window.framesDecoded = async () => {
  if (!window.pc) return -1;
  let n = -1;
  (await window.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded || 0; });
  return n;
};
window.videoFrames = () => v.getVideoPlaybackQuality().totalVideoFrames;
if (q.get('whep')) whep(q.get('whep')).catch((e) => window.playError = String(e));
if (q.get('hls')) { v.src = q.get('hls'); v.onerror = () => window.playError = 'video error ' + (v.error && v.error.message); }
</script>`

// e2e is a mediagw whose on-demand calls reach a sipserver double with a
// gbsim device behind it.
func startE2E(t *testing.T) (*testGW, *sipserverDouble) {
	sim := newSim(t)
	sip := newSipserverDouble(t, sim, mediaapi.TransportUDP)
	g := startGW(t, func(c *config.Mediagw) {
		c.OnDemand.SipserverURL = sip.srv.URL
		c.OnDemand.IdleTimeout = config.Duration(3 * time.Second)
		c.HLS.IdleTimeout = config.Duration(3 * time.Second)
		c.Transcode.Linger = config.Duration(time.Second)
	})
	sip.setGateway(g.base)
	return g, sip
}

// ffprobeVideo returns codec, width and height of the first video stream.
func ffprobeVideo(t *testing.T, args ...string) (string, int, int) {
	t.Helper()
	bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
	full := append([]string{"-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "json"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, full...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	var res struct {
		Streams []struct {
			CodecName     string `json:"codec_name"`
			Width, Height int
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) == 0 {
		t.Fatalf("ffprobe output %s: %v", out, err)
	}
	return res.Streams[0].CodecName, res.Streams[0].Width, res.Streams[0].Height
}

// decodeWindow decodes 10 s of the input with ffmpeg and returns the number
// of video frames decoded and ffmpeg's error output.
func decodeWindow(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	full := append([]string{"-hide_banner", "-nostdin", "-v", "error"}, args...)
	full = append(full, "-t", "10", "-map", "0:v:0", "-f", "framemd5", "-")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg %v: %v: %s", args, err, stderr.String())
	}
	frames := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			frames++
		}
	}
	return frames, stderr.String()
}

func TestOnDemandRTSPAndHLS(t *testing.T) {
	g, sip := startE2E(t)
	path := "live/" + chanH264
	tok := url.QueryEscape(g.token(path))

	// RTSP: the first DESCRIBE starts the stream through sipserver.
	rtspURL := g.rtsp + "/" + path + "?token=" + tok
	codec, w, h := ffprobeVideo(t, "-rtsp_transport", "tcp", rtspURL)
	if codec != "h264" || w != 640 || h != 360 {
		t.Fatalf("RTSP ffprobe: %s %dx%d, want h264 640x360", codec, w, h)
	}
	if !sip.called("needed " + path) {
		t.Fatal("sipserver was not asked for the stream")
	}
	frames, errs := decodeWindow(t, "-rtsp_transport", "tcp", "-i", rtspURL)
	if frames < 240 || strings.Contains(errs, "error while decoding") {
		t.Fatalf("RTSP: %d frames decoded in 10 s (want ≥ 240 at 25 fps), errors: %s", frames, errs)
	}

	// LL-HLS of the same stream.
	hlsURL := g.base + "/hls/" + path + "/index.m3u8?token=" + tok
	codec, w, h = ffprobeVideo(t, hlsURL)
	if codec != "h264" || w != 640 || h != 360 {
		t.Fatalf("HLS ffprobe: %s %dx%d, want h264 640x360", codec, w, h)
	}
	frames, errs = decodeWindow(t, "-i", hlsURL)
	if frames < 240 || strings.Contains(errs, "error while decoding") {
		t.Fatalf("HLS: %d frames decoded in 10 s (want ≥ 240), errors: %s", frames, errs)
	}

	// Without a valid token nothing plays.
	for _, u := range []string{g.base + "/hls/" + path + "/index.m3u8", g.base + "/hls/" + path + "/index.m3u8?token=forged"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("GET %s = %d, want 401", u, resp.StatusCode)
		}
	}
	other := url.QueryEscape(g.token("live/" + chanH265))
	resp, err := http.Post(g.base+"/whep/"+path+"?token="+other, "application/sdp", strings.NewReader("v=0\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("WHEP with another path's token = %d, want 401", resp.StatusCode)
	}

	// Nobody watches any more: sipserver is told, closes the receiver, the
	// stream goes away.
	testsupport.Eventually(t, g.idleWait(), "sipserver told the stream is idle", func() bool { return sip.called("idle " + path) })
	g.waitGone(path, g.streamWait())

	// An unknown channel: sipserver says 404, the viewer gets 404.
	unknown := "live/34020000001310000099"
	resp, err = http.Get(g.base + "/hls/" + unknown + "/index.m3u8?token=" + url.QueryEscape(g.token(unknown)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unknown channel over HLS = %d, want 404", resp.StatusCode)
	}

	// The metrics name the outputs' readers and on-demand outcomes.
	resp, err = http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"sharpeyes_mediagw_streams", `sharpeyes_mediagw_on_demand_total{outcome="started"}`, `sharpeyes_mediagw_readers{protocol="rtsp"}`} {
		if !strings.Contains(buf.String(), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

func TestBrowserPlays(t *testing.T) {
	g, _ := startE2E(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, playerPage)
	}))
	defer page.Close()
	ctx := browsertest.New(t)

	// WHEP of an H.265 camera: the browser gets the shared H.264 transcode.
	h265 := "live/" + chanH265
	whepURL := g.base + "/whep/" + h265 + "?token=" + url.QueryEscape(g.token(h265))
	if err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/?whep="+url.QueryEscape(whepURL))); err != nil {
		t.Fatal(err)
	}
	growing(t, ctx, g.streamWait(), "window.framesDecoded()")
	st := g.waitStream(h265+"~h264", g.streamWait(), func(s mediaapi.Stream) bool { return s.VideoCodec == "H264" && s.ReaderCount > 0 })
	if st.Width != 640 || st.Height != 360 {
		t.Fatalf("transcode %dx%d", st.Width, st.Height)
	}

	// LL-HLS of an H.264 camera in a <video> element.
	h264 := "live/" + chanH264
	hlsURL := g.base + "/hls/" + h264 + "/index.m3u8?token=" + url.QueryEscape(g.token(h264))
	if err := chromedp.Run(ctx, chromedp.Navigate(page.URL+"/?hls="+url.QueryEscape(hlsURL))); err != nil {
		t.Fatal(err)
	}
	growing(t, ctx, g.streamWait(), "window.videoFrames()")
}

// growing waits until the JS number expr is positive and then larger than
// it was: frames are being decoded, not just one. wait bounds the growth,
// which a playing stream shows within a frame.
func growing(t *testing.T, ctx context.Context, wait time.Duration, expr string) {
	t.Helper()
	if err := browsertest.Poll(ctx, "(async () => (await "+expr+") > 0)()", 30*time.Second); err != nil {
		var perr string
		_ = chromedp.Run(ctx, chromedp.Evaluate("window.playError", &perr))
		t.Fatalf("%s never positive: %v (page error %q)", expr, err, perr)
	}
	var first, second float64
	eval := func(v *float64) {
		if err := chromedp.Run(ctx, chromedp.Evaluate(expr, v, browsertest.AwaitPromise)); err != nil {
			t.Fatal(err)
		}
	}
	eval(&first)
	testsupport.Eventually(t, wait, fmt.Sprintf("%s growing beyond %v", expr, first), func() bool {
		eval(&second)
		return second > first
	})
}
