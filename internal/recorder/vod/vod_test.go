package vod_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/auditapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/objstore"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/recorder/segment"
	"github.com/sharpeyes/sharpeyes/internal/recorder/vod"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/testsupport"
)

// object reads a segment's object whole.
func (e *env) object(seg recordingdb.Segment) []byte {
	e.t.Helper()
	obj, err := e.store.Open(context.Background(), seg.ObjectKey)
	if err != nil {
		e.t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) layout(seg recordingdb.Segment) segment.Layout {
	e.t.Helper()
	b := e.object(seg)
	l, err := segment.Fragments(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// TestPlaylist: the playlist of a range that starts inside a segment,
// crosses a boundary and a gap: the first segment from the key-frame
// fragment at or before start, as byte ranges of a second each; the
// others whole, each after a discontinuity with its own init section and
// wall-clock start; every URL relative and carrying the token. The request
// is audited.
func TestPlaylist(t *testing.T) {
	e := newEnv(t, nil)
	s1 := e.segment(chA, t0, 4, false)
	s2 := e.segment(chA, t0.Add(4*time.Second), 4, false)
	s3 := e.segment(chA, t0.Add(12*time.Second), 4, false)
	e.segment(chB, t0, 4, false)
	tok := e.viewerToken(chA)
	status, code, body := e.get(e.playlistURL(chA, t0.Add(2500*time.Millisecond), t0.Add(16*time.Second), tok))
	if status != http.StatusOK {
		t.Fatalf("playlist: %d %s %s", status, code, body)
	}
	l := e.layout(s1)
	media := func(i int) int64 { return l.Fragments[i].Offset - l.InitSize }
	q := "?token=" + tok
	want := fmt.Sprintf(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-MAP:URI="init/%[1]d.mp4%[4]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:02.000Z
#EXTINF:1.000,
#EXT-X-BYTERANGE:%[5]d@%[6]d
seg/%[1]d.m4s%[4]s
#EXTINF:1.000,
#EXT-X-BYTERANGE:%[7]d@%[8]d
seg/%[1]d.m4s%[4]s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init/%[2]d.mp4%[4]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:04.000Z
#EXTINF:4.000,
seg/%[2]d.m4s%[4]s&shift=4000000
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init/%[3]d.mp4%[4]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:12.000Z
#EXTINF:4.000,
seg/%[3]d.m4s%[4]s&shift=12000000
#EXT-X-ENDLIST
`, s1.ID, s2.ID, s3.ID, q, media(15)-media(10), media(10), l.Complete()-l.InitSize-media(15), media(15))
	if string(body) != want {
		t.Fatalf("playlist:\n%s\nwant:\n%s", body, want)
	}
	opens := e.console.audited()
	if len(opens) != 1 || opens[0].User != "op1" || opens[0].Path != "recording/"+chA ||
		opens[0].Protocol != auditapi.ProtocolHLS || opens[0].Node != node || !opens[0].IssuedAt.Equal(e.now.Truncate(time.Second)) {
		t.Fatalf("audited %+v", opens)
	}

	// The parts and the segments are the object's bytes.
	obj := e.object(s1)
	status, _, got := e.get(e.http.URL + vod.Prefix + "recording/" + chA + "/init/" + strconv.FormatInt(s1.ID, 10) + ".mp4" + q)
	if status != http.StatusOK || !bytes.Equal(got, obj[:l.InitSize]) {
		t.Fatalf("init: %d, %d bytes, want %d", status, len(got), l.InitSize)
	}
	segURL := e.http.URL + vod.Prefix + "recording/" + chA + "/seg/" + strconv.FormatInt(s1.ID, 10) + ".m4s" + q
	status, _, got = e.get(segURL)
	if status != http.StatusOK || !bytes.Equal(got, obj[l.InitSize:]) {
		t.Fatalf("media part: %d, %d bytes, want %d", status, len(got), int64(len(obj))-l.InitSize)
	}
	rng := fmt.Sprintf("bytes=%d-%d", media(10), media(15)-1)
	status, _, got = e.get(segURL, "Range", rng)
	if status != http.StatusPartialContent || !bytes.Equal(got, obj[l.Fragments[10].Offset:l.Fragments[15].Offset]) {
		t.Fatalf("range %s: %d, %d bytes", rng, status, len(got))
	}
	if got[4] != 'm' || got[5] != 'o' || got[6] != 'o' || got[7] != 'f' {
		t.Fatalf("a part does not start with a moof: %q", got[:8])
	}
	if len(e.console.audited()) != 1 {
		t.Fatal("segment fetches were audited one by one")
	}
}

// TestPlayback: ffmpeg plays the playlist across a segment boundary and a
// gap, from the dir store and from MinIO, decoding every frame of the range
// from the key frame at or before its start.
func TestPlayback(t *testing.T) {
	for _, kind := range []string{objstore.KindDir, objstore.KindS3} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, storeOf(t, kind))
			e.segment(chA, t0, 4, false)
			e.segment(chA, t0.Add(4*time.Second), 4, false)
			e.segment(chA, t0.Add(12*time.Second), 4, false)
			url := e.playlistURL(chA, t0.Add(2500*time.Millisecond), t0.Add(16*time.Second), e.viewerToken(chA))
			// From 2 s of the first (its key frame), the second and the third.
			frames, duration := decode(t, url)
			if want := (2 + 4 + 4) * fps; frames != want {
				t.Fatalf("decoded %d frames, want %d", frames, want)
			}
			// One timeline: from 2 s to 16 s of the recording, the 4 s gap
			// a jump forward (the segments' decode times are shifted).
			if duration < 13900*time.Millisecond || duration > 14100*time.Millisecond {
				t.Fatalf("played %s, want 14 s (10 s of video and the 4 s gap)", duration)
			}
		})
	}
}

// decode plays url with ffmpeg, decoding every video frame, and returns how
// many it decoded and the time the output ran (the timestamps continue
// across the discontinuities). ffmpeg 5.1 reuses an HTTP connection with
// the previous request's byte range, so persistent connections are off.
func decode(t *testing.T, url string) (int, time.Duration) {
	t.Helper()
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	out, err := exec.Command(bin, "-hide_banner", "-nostdin", "-v", "error", "-http_persistent", "0", "-i", url,
		"-map", "0:v:0", "-f", "framemd5", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v\n%s", url, err, out)
	}
	frames := 0
	var first, last int64
	var tb float64
	for line := range strings.Lines(string(out)) {
		if strings.HasPrefix(line, "#tb 0:") {
			var num, den float64
			if _, err := fmt.Sscanf(strings.TrimPrefix(line, "#tb 0: "), "%g/%g", &num, &den); err == nil {
				tb = num / den
			}
			continue
		}
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 4 {
			continue
		}
		pts, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
		if err != nil {
			t.Fatalf("framemd5 line %q", line)
		}
		if frames == 0 {
			first = pts
		} else if pts <= last {
			t.Fatalf("frame %d: pts %d after %d: the timestamps do not continue", frames, pts, last)
		}
		last = pts
		frames++
	}
	if tb == 0 {
		t.Fatalf("no time base in ffmpeg's output:\n%s", out)
	}
	return frames, time.Duration(float64(last-first+1) * tb * float64(time.Second))
}

// TestTokens: no token, a forged, expired, other channel's or live-only
// token is refused on every route; a revoked user is refused at the
// playlist (the console says so) and at segment fetches.
func TestTokens(t *testing.T) {
	e := newEnv(t, nil)
	seg := e.segment(chA, t0, 2, false)
	other, _ := playtoken.NewSigner(bytes.Repeat([]byte("x"), 32))
	forged, _ := other.Issue(playtoken.Claims{
		Subject: "op1", Paths: []string{"recording/" + chA},
		Rights: []string{playtoken.RightPlayback}, Expires: e.now.Add(time.Minute).Unix(),
	})
	expired, _ := e.signer.Issue(playtoken.Claims{
		Subject: "op1", Paths: []string{"recording/" + chA},
		Rights: []string{playtoken.RightPlayback}, Expires: e.now.Add(-time.Hour).Unix(),
	})
	cases := []struct {
		name, token string
		status      int
		code        string
	}{
		{"none", "", http.StatusUnauthorized, "unauthorized"},
		{"forged", forged, http.StatusUnauthorized, "unauthorized"},
		{"expired", expired, http.StatusUnauthorized, "unauthorized"},
		{"garbage", "v1.%21", http.StatusUnauthorized, "unauthorized"},
		{"other channel", e.viewerToken(chB), http.StatusForbidden, "forbidden"},
		{
			"live path", e.token("op1", []string{playtoken.RightPlayback, playtoken.RightLive}, streampath.Live(chA)),
			http.StatusForbidden, "forbidden",
		},
		{"live right", e.token("op1", []string{playtoken.RightLive}, streampath.Recording(chA)), http.StatusForbidden, "forbidden"},
		{"download right", e.token("op1", []string{playtoken.RightDownload}, "recording/*"), http.StatusForbidden, "forbidden"},
	}
	id := strconv.FormatInt(seg.ID, 10)
	base := e.http.URL + vod.Prefix + "recording/" + chA + "/"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, url := range []string{
				e.playlistURL(chA, t0, t0.Add(time.Minute), c.token),
				base + "init/" + id + ".mp4?token=" + c.token,
				base + "seg/" + id + ".m4s?token=" + c.token,
			} {
				if status, code, body := e.get(url); status != c.status || code != c.code {
					t.Fatalf("GET %s: %d %s %s, want %d %s", url, status, code, body, c.status, c.code)
				}
			}
		})
	}
	if n := len(e.console.audited()); n != 0 {
		t.Fatalf("%d refused requests audited", n)
	}

	// A wildcard token of the right kind opens it.
	if status, code, _ := e.get(e.playlistURL(chA, t0, t0.Add(time.Minute),
		e.token("op2", []string{playtoken.RightPlayback}, "recording/*"))); status != http.StatusOK {
		t.Fatalf("wildcard: %d %s", status, code)
	}
	// Revoked: the playlist is refused by the console (and audited as
	// such); segment fetches ask it within RevocationInterval.
	tok := e.viewerToken(chA)
	seg0 := base + "seg/" + id + ".m4s?token=" + tok
	if status, code, _ := e.get(seg0); status != http.StatusOK {
		t.Fatalf("segment before revocation: %d %s", status, code)
	}
	e.console.revoke("op1")
	if status, code, _ := e.get(e.playlistURL(chA, t0, t0.Add(time.Minute), tok)); status != http.StatusForbidden ||
		code != auditapi.CodeRevoked {
		t.Fatalf("revoked playlist: %d %s", status, code)
	}
	if status, code, _ := e.get(seg0); status != http.StatusForbidden || code != auditapi.CodeRevoked {
		t.Fatalf("revoked segment: %d %s", status, code)
	}
	// Another user's token, issued before: its first fetch asks the console.
	tok3 := e.token("op3", []string{playtoken.RightPlayback}, streampath.Recording(chA))
	if status, _, _ := e.get(base + "seg/" + id + ".m4s?token=" + tok3); status != http.StatusOK {
		t.Fatalf("op3: %d", status)
	}
	e.console.revoke("op3")
	if status, _, _ := e.get(base + "seg/" + id + ".m4s?token=" + tok3); status != http.StatusOK {
		t.Fatal("op3 asked again within RevocationInterval")
	}
	e.now = e.now.Add(vod.RevocationInterval)
	if status, code, _ := e.get(base + "seg/" + id + ".m4s?token=" + tok3); status != http.StatusForbidden || code != auditapi.CodeRevoked {
		t.Fatalf("op3 after RevocationInterval: %d %s", status, code)
	}
}

// TestRefusals: what is not there or not well asked for.
func TestRefusals(t *testing.T) {
	e := newEnv(t, nil)
	a := e.segment(chA, t0, 2, false)
	b := e.segment(chB, t0, 2, false)
	tok := e.viewerToken(chA)
	base := e.http.URL + vod.Prefix + "recording/" + chA + "/"
	cases := []struct {
		name, url string
		status    int
		code      string
	}{
		{"another channel's recording", base + "seg/" + strconv.FormatInt(b.ID, 10) + ".m4s?token=" + tok, 404, "not_found"},
		{"another channel's init", base + "init/" + strconv.FormatInt(b.ID, 10) + ".mp4?token=" + tok, 404, "not_found"},
		{"no such recording", base + "seg/99999999.m4s?token=" + tok, 404, "not_found"},
		{"leading zero", base + "seg/0" + strconv.FormatInt(a.ID, 10) + ".m4s?token=" + tok, 404, "not_found"},
		{"wrong extension", base + "seg/" + strconv.FormatInt(a.ID, 10) + ".mp4?token=" + tok, 404, "not_found"},
		{"no channel", e.http.URL + vod.Prefix + "recording/123/index.m3u8?token=" + tok, 404, "not_found"},
		{"other kind", e.http.URL + vod.Prefix + "live/" + chA + "/index.m3u8?token=" + tok, 404, "not_found"},
		{"nothing recorded", e.playlistURL(chA, t0.Add(time.Hour), t0.Add(2*time.Hour), tok), 404, "no_recordings"},
		{"over 24 h", e.playlistURL(chA, t0, t0.Add(25*time.Hour), tok), 400, "bad_request"},
		{"end before start", e.playlistURL(chA, t0, t0.Add(-time.Second), tok), 400, "bad_request"},
		{"no start", base + "index.m3u8?end=2026-12-07T09:00:00Z&token=" + tok, 400, "bad_request"},
		{"bad time", base + "index.m3u8?start=yesterday&end=2026-12-07T09:00:00Z&token=" + tok, 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, code, body := e.get(c.url); status != c.status || code != c.code {
				t.Fatalf("GET %s: %d %s %s, want %d %s", c.url, status, code, body, c.status, c.code)
			}
		})
	}
	// The console does not store the audit: no playlist.
	e.console.mu.Lock()
	e.console.down = true
	e.console.mu.Unlock()
	if status, code, _ := e.get(e.playlistURL(chA, t0, t0.Add(time.Minute), tok)); status != http.StatusServiceUnavailable ||
		code != "unavailable" {
		t.Fatalf("audit down: %d %s", status, code)
	}
	// CORS preflight.
	req, _ := http.NewRequest(http.MethodOptions, base+"index.m3u8", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Range") {
		t.Fatalf("OPTIONS: %d %v", resp.StatusCode, resp.Header)
	}
	// A node without play_token_secret.
	off := &vod.Server{Node: node, Store: e.store, Index: e.db}
	if err := off.Initialize(); err != nil {
		t.Fatal(err)
	}
	rec := httptestRecorder(off, e.playlistURL(chA, t0, t0.Add(time.Minute), tok))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "vod_unconfigured") {
		t.Fatalf("unconfigured: %d %s", rec.Code, rec.Body)
	}
}

// TestOtherNodes: a segment in another node's directory store, and the
// open segment another node is writing to a shared bucket's spool, have
// absolute URLs on those nodes' public URLs; this node's open segment is
// listed, and served, up to its last complete fragment.
func TestOtherNodes(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	r := recordingdb.Retention{StandardDays: 30, KeyDays: 90}
	for _, b := range []recordingdb.Beat{
		{Node: "n2", URL: "http://n2:8082", PublicURL: "https://rec2.example:8443", Retention: r},
		{Node: "n3", URL: "http://n3:8082", Retention: r},
	} {
		if err := e.db.Heartbeat(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	mine := e.segment(chA, t0, 2, false)
	index := func(s recordingdb.Segment) int64 {
		id, err := e.db.OpenSegment(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if !s.Open {
			if err := e.db.CloseSegment(ctx, id, s.End, 1000, recordingdb.Info{VideoCodec: "h264"}); err != nil {
				t.Fatal(err)
			}
		} else if err := e.db.ExtendSegment(ctx, id, s.End, 1000); err != nil {
			t.Fatal(err)
		}
		return id
	}
	n2 := index(recordingdb.Segment{
		ChannelID: chA, Start: t0.Add(2 * time.Second), End: t0.Add(4 * time.Second),
		ObjectKey: chA + "/n2.mp4", Store: "dir://n2", Node: "n2", RetentionDays: 30,
	})
	n3 := index(recordingdb.Segment{
		ChannelID: chA, Start: t0.Add(4 * time.Second), End: t0.Add(6 * time.Second),
		ObjectKey: chA + "/n3.mp4", Store: "s3://shared/", Node: "n3", RetentionDays: 30, Open: true,
	})
	tok := e.viewerToken(chA)
	status, code, body := e.get(e.playlistURL(chA, t0, t0.Add(time.Minute), tok))
	if status != http.StatusOK {
		t.Fatalf("playlist: %d %s", status, code)
	}
	for _, want := range []string{
		fmt.Sprintf("URI=\"init/%d.mp4?token=", mine.ID),
		fmt.Sprintf("\"https://rec2.example:8443/vod/recording/%s/init/%d.mp4?token=%s\"", chA, n2, tok),
		fmt.Sprintf("\nhttps://rec2.example:8443/vod/recording/%s/seg/%d.m4s?token=%s&shift=2000000\n", chA, n2, tok),
		fmt.Sprintf("\nhttp://n3:8082/vod/recording/%s/seg/%d.m4s?token=%s&shift=4000000\n", chA, n3, tok),
	} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("playlist lacks %q:\n%s", want, body)
		}
	}
	// This node does not serve the others' objects.
	if status, _, _ := e.get(fmt.Sprintf("%s%srecording/%s/seg/%d.m4s?token=%s", e.http.URL, vod.Prefix, chA, n2, tok)); status != 404 {
		t.Fatalf("another node's segment: %d", status)
	}

	// This node's open segment: 4 s written, its row at 2 s; listed and
	// served up to its last complete fragment, the torn one left out.
	open := e.segment(chB, t0, 4, true)
	tokB := e.viewerToken(chB)
	_, _, body = e.get(e.playlistURL(chB, t0.Add(3*time.Second), t0.Add(time.Minute), tokB))
	l := e.layout(open)
	if len(l.Fragments) != 4*fps/5 || !strings.Contains(string(body), "#EXTINF:1.000,\n#EXT-X-BYTERANGE:") ||
		strings.Count(string(body), "#EXTINF:") != 1 {
		t.Fatalf("open segment (%d fragments) playlist:\n%s", len(l.Fragments), body)
	}
	status, _, got := e.get(fmt.Sprintf("%s%srecording/%s/seg/%d.m4s?token=%s", e.http.URL, vod.Prefix, chB, open.ID, tokB))
	if status != http.StatusOK || int64(len(got)) != l.Complete()-l.InitSize {
		t.Fatalf("open media part: %d, %d bytes, want %d", status, len(got), l.Complete()-l.InitSize)
	}
	frames, _ := decode(t, e.playlistURL(chB, t0, t0.Add(time.Minute), tokB))
	if frames != 4*fps {
		t.Fatalf("open segment: %d frames, want %d", frames, 4*fps)
	}
}

// TestPlaybackFFmpegDefaults: ffmpeg with its default options (persistent
// HTTP connections, which ffmpeg 5.1 reuses with a stale byte range for an
// entry without one, then waits forever) plays the video and the audio
// (G.711 stored as FLAC) across a segment boundary and a gap.
func TestPlaybackFFmpegDefaults(t *testing.T) {
	bin := testsupport.Tool(t, "ffmpeg", "ffmpeg")
	e := newEnv(t, storeOf(t, objstore.KindDir))
	e.audio = true
	e.segment(chA, t0, 4, false)
	e.segment(chA, t0.Add(4*time.Second), 4, false)
	e.segment(chA, t0.Add(12*time.Second), 4, false)
	url := e.playlistURL(chA, t0.Add(2500*time.Millisecond), t0.Add(16*time.Second), e.viewerToken(chA))
	// A hang is the failure: bounded far above the second ffmpeg needs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-hide_banner", "-nostdin", "-v", "error", "-i", url,
		"-f", "framemd5", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg %s: %v (context %v)\n%s", url, err, ctx.Err(), out)
	}
	var video, audio int
	for line := range strings.Lines(string(out)) {
		switch {
		case strings.HasPrefix(line, "0,"):
			video++
		case strings.HasPrefix(line, "1,"):
			audio++
		}
	}
	if want := (2 + 4 + 4) * fps; video != want || audio == 0 {
		t.Fatalf("decoded %d video frames (want %d) and %d audio frames", video, want, audio)
	}
}

// TestH264Playlist: with video=h264, H.265 segments are listed as their
// H.264 version: the first from the key frame at or before start, its first
// GOP alone (marked first: transcoded faster), then stretches of about 4 s
// cut at key frames; the others in
// stretches of 4 s; every stretch's URL carries the segment's shift. An
// H.264 segment is listed as it is; a node without a transcoder refuses.
func TestH264Playlist(t *testing.T) {
	e := newEnv(t, nil)
	h264 := e.segment(chA, t0, 4, false)
	e.useH265()
	s2 := e.segment(chA, t0.Add(4*time.Second), 10, false)
	s3 := e.segment(chA, t0.Add(14*time.Second), 9, false)
	tok := e.viewerToken(chA)
	url := e.playlistURL(chA, t0.Add(2500*time.Millisecond), t0.Add(23*time.Second), tok)
	_, _, plain := e.get(url)
	status, code, body := e.get(url + "&video=h264")
	if status != http.StatusOK {
		t.Fatalf("playlist: %d %s %s", status, code, body)
	}
	q := "?token=" + tok
	// The H.264 segment as without video=h264: its part up to the second
	// discontinuity.
	first, _, _ := strings.Cut(string(plain), "#EXT-X-DISCONTINUITY\n")
	want := first + fmt.Sprintf(`#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="h264/init/%[1]d.mp4%[3]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:04.000Z
#EXTINF:4.000,
h264/seg/%[1]d.m4s%[3]s&shift=4000000&from=0&to=4000000
#EXTINF:6.000,
h264/seg/%[1]d.m4s%[3]s&shift=4000000&from=4000000
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="h264/init/%[2]d.mp4%[3]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:14.000Z
#EXTINF:4.000,
h264/seg/%[2]d.m4s%[3]s&shift=14000000&from=0&to=4000000
#EXTINF:5.000,
h264/seg/%[2]d.m4s%[3]s&shift=14000000&from=4000000
#EXT-X-ENDLIST
`, s2.ID, s3.ID, q)
	want = strings.Replace(want, "#EXT-X-TARGETDURATION:10", "#EXT-X-TARGETDURATION:6", 1)
	if string(body) != want {
		t.Fatalf("playlist:\n%s\nwant:\n%s", body, want)
	}
	if h264.VideoCodec != segment.CodecH264 || s2.VideoCodec != segment.CodecH265 {
		t.Fatalf("codecs %q %q", h264.VideoCodec, s2.VideoCodec)
	}

	// Starting inside an H.265 segment: its key-frame parts (1 s GOPs).
	_, _, body = e.get(e.playlistURL(chA, t0.Add(5500*time.Millisecond), t0.Add(9*time.Second), tok) + "&video=h264")
	want = fmt.Sprintf(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-MAP:URI="h264/init/%[1]d.mp4%[2]s"
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:00:05.000Z
#EXTINF:1.000,
h264/seg/%[1]d.m4s%[2]s&from=1000000&to=2000000&first=1
#EXTINF:4.000,
h264/seg/%[1]d.m4s%[2]s&from=2000000&to=6000000
#EXTINF:4.000,
h264/seg/%[1]d.m4s%[2]s&from=6000000
#EXT-X-ENDLIST
`, s2.ID, q)
	if string(body) != want {
		t.Fatalf("playlist from 5.5 s:\n%s\nwant:\n%s", body, want)
	}

	e.server.Transcoder = nil
	if status, code, _ := e.get(url + "&video=h264"); status != http.StatusServiceUnavailable || code != "transcode_unavailable" {
		t.Fatalf("without a transcoder: %d %s", status, code)
	}
	if status, code, _ := e.get(url + "&video=vp9"); status != http.StatusBadRequest || code != "bad_request" {
		t.Fatalf("video=vp9: %d %s", status, code)
	}
}

// TestH264Playback: ffmpeg plays the H.264 version of H.265 recordings —
// video and audio, across a segment boundary and a gap, from the dir store
// and from MinIO — decoding every frame from the key frame at or before
// start on one timeline; the stretch URLs refuse what they must.
func TestH264Playback(t *testing.T) {
	for _, kind := range []string{objstore.KindDir, objstore.KindS3} {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, storeOf(t, kind))
			e.audio = true
			e.useH265()
			s1 := e.segment(chA, t0, 4, false)
			e.segment(chA, t0.Add(4*time.Second), 4, false)
			e.segment(chA, t0.Add(12*time.Second), 4, false)
			tok := e.viewerToken(chA)
			url := e.playlistURL(chA, t0.Add(2500*time.Millisecond), t0.Add(16*time.Second), tok) + "&video=h264"
			frames, duration := decode(t, url)
			if want := (2 + 4 + 4) * fps; frames != want {
				t.Fatalf("decoded %d frames, want %d", frames, want)
			}
			if duration < 13900*time.Millisecond || duration > 14100*time.Millisecond {
				t.Fatalf("played %s, want 14 s (10 s of video and the 4 s gap)", duration)
			}
			bin := testsupport.Tool(t, "ffprobe", "ffmpeg")
			out, err := exec.Command(bin, "-v", "error", "-http_persistent", "0", "-show_entries", "stream=codec_name",
				"-of", "csv=p=0", url).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "h264") || !strings.Contains(string(out), "flac") {
				t.Fatalf("ffprobe: %v: %s, want h264 and flac", err, out)
			}

			base := e.http.URL + vod.Prefix + "recording/" + chA + "/h264/"
			id := strconv.FormatInt(s1.ID, 10)
			for _, c := range []struct {
				url    string
				status int
				code   string
			}{
				{base + "seg/" + id + ".m4s?from=0", http.StatusUnauthorized, "unauthorized"},
				{base + "seg/" + id + ".m4s?token=" + tok, http.StatusBadRequest, "bad_request"}, // no from
				{base + "seg/" + id + ".m4s?token=" + tok + "&from=2000000&to=1000000", http.StatusBadRequest, "bad_request"},
				{base + "seg/" + id + ".m4s?token=" + tok + "&from=9000000", http.StatusNotFound, "not_found"},
				{base + "seg/99999.m4s?token=" + tok + "&from=0", http.StatusNotFound, "not_found"},
				{base + "init/" + id + ".mp4?token=" + e.viewerToken(chB), http.StatusForbidden, "forbidden"},
			} {
				if status, code, body := e.get(c.url); status != c.status || code != c.code {
					t.Errorf("GET %s: %d %s %s, want %d %s", c.url, status, code, body, c.status, c.code)
				}
			}
		})
	}
}
