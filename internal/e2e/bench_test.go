package e2e

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// playJS plays a channel the way the console's wall does — POST play, then
// WHEP — and resolves to the milliseconds from the play call to the first
// decoded video frame (requestVideoFrameCallback). The session is closed
// again before it resolves.
const playJS = `(async (channel) => {
	const me = await (await fetch('/api/v1/me')).json();
	const t0 = performance.now();
	const res = await fetch('/api/v1/channels/' + channel + '/play', {method: 'POST', headers: {'X-CSRF-Token': me.csrf_token}});
	if (!res.ok) throw new Error('play: ' + res.status + ' ' + await res.text());
	const urls = await res.json();
	const pc = new RTCPeerConnection();
	pc.addTransceiver('video', {direction: 'recvonly'});
	pc.addTransceiver('audio', {direction: 'recvonly'});
	const video = document.createElement('video');
	video.muted = true; video.autoplay = true; video.playsInline = true;
	document.body.appendChild(video);
	pc.ontrack = (e) => { if (e.track.kind === 'video') video.srcObject = new MediaStream([e.track]); };
	await pc.setLocalDescription(await pc.createOffer());
	await new Promise((ok) => {
		if (pc.iceGatheringState === 'complete') return ok();
		pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && ok();
		setTimeout(ok, 1000);
	});
	const w = await fetch(urls.whep, {method: 'POST', headers: {'Content-Type': 'application/sdp'}, body: pc.localDescription.sdp});
	if (w.status !== 201) throw new Error('whep: ' + w.status + ' ' + await w.text());
	const loc = new URL(w.headers.get('Location'), urls.whep).href;
	await pc.setRemoteDescription({type: 'answer', sdp: await w.text()});
	const ms = await new Promise((ok, fail) => {
		video.requestVideoFrameCallback(() => ok(performance.now() - t0));
		setTimeout(() => fail(new Error('no frame in 10 s')), 10000);
	});
	pc.close(); video.remove();
	await fetch(loc, {method: 'DELETE'});
	return ms;
})(%q)`

// BenchmarkPlayToFirstFrame measures, in headless Chromium against the
// whole stack, the time from the console's play call to the first decoded
// frame: "cold" with no stream running (sipserver INVITEs the camera),
// "warm" with the stream already running (another viewer). Each run makes
// E2E_BENCH_PLAYS plays (default 50) and reports p50 and p95.
func BenchmarkPlayToFirstFrame(b *testing.B) {
	plays := 50
	if v, err := strconv.Atoi(os.Getenv("E2E_BENCH_PLAYS")); err == nil && v > 0 {
		plays = v
	}
	for _, c := range []struct {
		name    string
		channel int
		cold    bool
	}{
		{"cold_h264", 1, true},
		{"warm_h264", 1, false},
		{"cold_h265_transcoded", 2, true},
		{"warm_h265_transcoded", 2, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				ms := benchPlays(b, c.channel, c.cold, plays)
				slices.Sort(ms)
				b.ReportMetric(ms[len(ms)/2], "p50_ms")
				b.ReportMetric(ms[len(ms)*95/100], "p95_ms")
				b.ReportMetric(ms[len(ms)-1], "max_ms")
			}
		})
	}
}

func benchPlays(b *testing.B, ch int, cold bool, plays int) []float64 {
	b.StopTimer()
	s := newStack(b, nil)
	s.startMediagw()
	s.startSipserver()
	s.startSim(mixedCameras)
	cs := s.withConsole()
	p := newPage(b, time.Duration(plays)*30*time.Second)
	p.login(cs.base())
	p.poll("live view", vis("nav-playback"), 15*time.Second)
	path := "live/" + channelID(ch)
	ms := make([]float64, 0, plays)
	for i := range plays {
		if !cold && i == 0 {
			// Warm: another viewer keeps the stream running.
			s.sip("POST", "/internal/v1/streams/needed", map[string]string{"path": path}, nil)
			s.live(path, map[int]string{1: "h264", 2: "h265"}[ch])
		}
		if cold {
			// Nothing running: end the session and wait until mediagw has no stream.
			s.sip("POST", "/internal/v1/streams/idle", map[string]string{"path": path}, nil)
			testsupport.Eventually(b, 15*time.Second, "stream gone", func() bool { _, ok := s.stream(path); return !ok })
			testsupport.Eventually(b, 15*time.Second, "camera idle", func() bool { return s.sim.Stats().Streams == 0 })
		}
		var v float64
		b.StartTimer()
		err := chromedp.Run(p.ctx, chromedp.Evaluate(fmt.Sprintf(playJS, channelID(ch)), &v, browsertest.AwaitPromise))
		b.StopTimer()
		if err != nil {
			b.Fatalf("play %d: %v", i, err)
		}
		ms = append(ms, v)
	}
	if code := s.sip("GET", "/internal/v1/sessions", nil, nil); code != http.StatusOK {
		b.Fatalf("sessions: %d", code)
	}
	return ms
}
