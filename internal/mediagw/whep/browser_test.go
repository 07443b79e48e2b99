package whep_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// playerPage is a minimal WHEP player: recvonly video and audio, the offer
// posted once ICE gathering is complete, the stream shown in a muted
// <video>. It publishes the decoded frame count for the test to poll.
const playerPage = `<!doctype html>
<html><body>
<video id="v" muted autoplay playsinline></video>
<script>
window.framesDecoded = 0;
window.whepError = "";
(async () => {
  try {
    const pc = new RTCPeerConnection();
    const ms = new MediaStream();
    document.getElementById("v").srcObject = ms;
    pc.ontrack = (e) => ms.addTrack(e.track);
    pc.addTransceiver("video", {direction: "recvonly"});
    pc.addTransceiver("audio", {direction: "recvonly"});
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
    const res = await fetch("/whep/live/test", {
      method: "POST",
      headers: {"Content-Type": "application/sdp"},
      body: pc.localDescription.sdp,
    });
    const body = await res.text();
    if (res.status !== 201) throw new Error("POST " + res.status + ": " + body);
    window.whepLocation = res.headers.get("Location");
    await pc.setRemoteDescription({type: "answer", sdp: body});
    setInterval(async () => {
      const stats = await pc.getStats();
      stats.forEach((r) => {
        if (r.type === "inbound-rtp" && r.kind === "video") window.framesDecoded = r.framesDecoded || 0;
      });
      window.connectionState = pc.connectionState;
    }, 200);
  } catch (e) {
    window.whepError = String(e);
  }
})();
</script>
</body></html>`

// TestChromium plays a stream in headless Chromium over WHEP and checks
// that it decodes video frames, more and more of them.
func TestChromium(t *testing.T) {
	ctx := browsertest.New(t)
	h := mediatest.NewHub(t, &hub.Hub{})
	clip := mediatest.NewClip(t, ps.CodecH264, 320, 240, 25, 2)
	mediatest.Publish(t, h, "live/test", clip, true)
	e := newEnv(t, &access.HubSource{Hub: h})

	// Page and WHEP endpoint on one origin, so the page needs no CORS.
	mux := http.NewServeMux()
	mux.Handle("/whep/", e.srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, playerPage)
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)

	nctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(nctx, chromedp.Navigate(site.URL)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	diagnose := func() string {
		var s string
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = chromedp.Run(dctx, chromedp.Evaluate(
			`JSON.stringify({error: window.whepError, state: window.connectionState, frames: window.framesDecoded})`, &s))
		return s
	}
	if err := browsertest.Poll(ctx, `window.framesDecoded > 0`, 20*time.Second); err != nil {
		t.Fatalf("no decoded frame: %v; page %s", err, diagnose())
	}
	var first int
	if err := chromedp.Run(nctx, chromedp.Evaluate(`window.framesDecoded`, &first)); err != nil {
		t.Fatal(err)
	}
	// More frames decoded than then: the stream plays on.
	if err := browsertest.Poll(ctx, `window.framesDecoded > `+strconv.Itoa(first), 10*time.Second); err != nil {
		t.Fatalf("frames stuck at %d: %v; page %s", first, err, diagnose())
	}
	ss := e.srv.Sessions()
	if len(ss) != 1 || ss[0].State != "connected" {
		t.Fatalf("sessions %+v", ss)
	}
	t.Logf("Chromium decoded %d frames, then more; session %+v", first, ss[0])
}
