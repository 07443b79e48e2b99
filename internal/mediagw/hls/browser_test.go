package hls_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sharpeyes/sharpeyes/internal/browsertest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hls"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/mediatest"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

const videoPage = `<!doctype html><title>hls</title>
<video id="v" muted autoplay playsinline src="/hls/live/test/index.m3u8?token=x"></video>
<script>
window.errors = [];
const v = document.getElementById('v');
v.addEventListener('error', () => window.errors.push(v.error ? v.error.code + ' ' + v.error.message : 'error'));
</script>`

// TestChromiumPlays plays the LL-HLS stream in Chromium's native HLS
// player through a plain <video src>: the playback position advances and
// decoded frames keep growing.
func TestChromiumPlays(t *testing.T) {
	clip := mediatest.NewClip(t, ps.CodecH264, 640, 360, 25, 4)
	for _, tc := range []struct {
		variant string
		aac     bool
	}{{"lowLatency", false}, {"fmp4", false}, {"mpegts", false}, {"lowLatency", true}, {"mpegts", true}} {
		name := tc.variant
		if tc.aac {
			name += "+aac"
		}
		t.Run(name, func(t *testing.T) {
			h := mediatest.NewHub(t, nil)
			if tc.aac {
				publishAAC(t, h, "live/test", clip, aacFrames(t, 4))
			} else {
				mediatest.Publish(t, h, "live/test", clip, true)
			}
			_, base := startServer(t, &tokenSource{hub: h, token: "x"}, videoPage, func(s *hls.Server) { s.Variant = tc.variant })
			ctx := browsertest.New(t)
			if err := chromedp.Run(ctx, chromedp.Navigate(base+"/")); err != nil {
				t.Fatal(err)
			}
			err := browsertest.Poll(ctx, `(() => { const v = document.getElementById('v');
				return v.currentTime > 1 && v.getVideoPlaybackQuality().totalVideoFrames > 0; })()`, 30*time.Second)
			if err != nil {
				var state string
				_ = chromedp.Run(ctx, chromedp.Evaluate(`(() => { const v = document.getElementById('v');
					return JSON.stringify({t: v.currentTime, rs: v.readyState, ns: v.networkState, errors: window.errors,
						canPlay: v.canPlayType('application/vnd.apple.mpegurl'),
						frames: v.getVideoPlaybackQuality().totalVideoFrames}); })()`, &state))
				t.Fatalf("video did not play: %v; state %s", err, state)
			}
			var frames int
			if err := chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames`, &frames)); err != nil {
				t.Fatal(err)
			}
			err = browsertest.Poll(ctx, fmt.Sprintf(`document.getElementById('v').getVideoPlaybackQuality().totalVideoFrames > %d + 25`, frames), 10*time.Second)
			if err != nil {
				t.Fatalf("decoded frames stopped growing after %d: %v", frames, err)
			}
			if tc.aac {
				// Chromium's own counter of decoded audio bytes.
				if err := browsertest.Poll(ctx, `document.getElementById('v').webkitAudioDecodedByteCount > 0`, 10*time.Second); err != nil {
					t.Fatalf("no audio decoded: %v", err)
				}
			}
		})
	}
}
