package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/ps"
)

// within bounds a test's waits: far above what a replay at speed 8 or 16 of
// a few seconds takes on a loaded machine.
const within = 60 * time.Second

func request(dest string, start, end time.Time, speed float64) recorderapi.ReplayRequest {
	return recorderapi.ReplayRequest{
		ChannelID: chA, Start: start, End: end, Speed: speed, Dest: dest, SSRC: "1100000001", Subject: "platform:test",
	}
}

// TestReplayWhole: a range over two segments with a hole between them
// arrives whole, from the key frame before its start, with DTS running on
// across the hole, and the replay ends done.
func TestReplayWhole(t *testing.T) {
	f := newFixture(t)
	f.add(t, t0, 50)                     // 2 s
	f.add(t, t0.Add(12*time.Second), 50) // 2 s after a 10 s hole
	rc := newReceiver(t)
	rp, err := f.r.Start(context.Background(), request(rc.addr(), t0.Add(500*time.Millisecond), t0.Add(time.Minute), 8))
	if err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, within)
	if len(got) != 100 {
		t.Fatalf("%d frames, want 100 (both segments, from the key frame at the start)", len(got))
	}
	clip := frames(t, 50)
	for i, g := range got {
		if !sameAU(g.Payload, clip[i%50].NALUs) {
			t.Fatalf("frame %d is not the recorded one", i)
		}
		if i > 0 && g.DTS <= got[i-1].DTS {
			t.Fatalf("frame %d: DTS %d after %d", i, g.DTS, got[i-1].DTS)
		}
		if want := clip[i%50].Key; g.Keyframe != want {
			t.Fatalf("frame %d: key %v, want %v", i, g.Keyframe, want)
		}
	}
	// The hole takes one frame's time on the output clock, not ten seconds.
	if step := got[50].DTS - got[49].DTS; step > 2*3600 {
		t.Errorf("DTS step across the hole: %d ticks", step)
	}
	if rc.ssrc != 1100000001 {
		t.Errorf("SSRC %d", rc.ssrc)
	}
	v := waitState(t, f.r, rp.ID, recorderapi.ReplayDone)
	if v.Frames != 100 || !v.Position.After(t0.Add(13*time.Second)) {
		t.Errorf("replay %+v", v)
	}
}

// waitState polls a replay until it is in state.
func waitState(t *testing.T, r *Replayer, id, state string) recorderapi.Replay {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, err := r.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if v.State == state {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay %s is %s, want %s", id, v.State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplayControls: pause stops the frames, a seek plays from the key
// frame at its offset, a scale speeds the rest up.
func TestReplayControls(t *testing.T) {
	f := newFixture(t)
	f.add(t, t0, 200) // 8 s
	rc := newReceiver(t)
	ctx := context.Background()
	rp, err := f.r.Start(ctx, request(rc.addr(), t0, t0.Add(8*time.Second), 1))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(within)
	for rc.count() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("no frames")
		}
		time.Sleep(10 * time.Millisecond)
	}
	paused, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlPause})
	if err != nil || paused.State != recorderapi.ReplayPaused {
		t.Fatalf("pause: %+v %v", paused, err)
	}
	if _, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlScale, Scale: -1}); !errors.Is(err, svcapi.ErrBadRequest) {
		t.Fatalf("reverse scale: %v", err)
	}
	// Paused: no frame, but empty packs keep the stream alive.
	packets := rc.packetCount()
	deadline = time.Now().Add(within)
	for rc.packetCount() < packets+2 {
		if time.Now().After(deadline) {
			t.Fatal("no keepalive while paused")
		}
		time.Sleep(50 * time.Millisecond)
	}
	still, _ := f.r.Get(rp.ID)
	if still.Frames != paused.Frames {
		t.Fatalf("%d frames sent while paused", still.Frames-paused.Frames)
	}
	for _, bad := range []recorderapi.ReplayControl{
		{Action: recorderapi.ControlScale, Scale: 0.01},
		{Action: recorderapi.ControlSeek, OffsetMS: 1 << 62},
	} {
		if _, err := f.r.Control(ctx, rp.ID, bad); !errors.Is(err, svcapi.ErrBadRequest) {
			t.Fatalf("%+v: %v", bad, err)
		}
	}
	if _, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlSeek, OffsetMS: 9000}); !errors.Is(err, svcapi.ErrBadRequest) {
		t.Fatalf("seek past the end: %v", err)
	}
	if _, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlSeek, OffsetMS: 6000}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlScale, Scale: 16}); err != nil && !errors.Is(err, ErrEnded) {
		t.Fatal(err)
	}
	got := rc.wait(t, within)
	sent := int(paused.Frames)
	if len(got) != sent+50 {
		t.Fatalf("%d frames, want %d before the pause and the 50 after 6 s", len(got), sent)
	}
	clip := frames(t, 200)
	if !sameAU(got[sent].Payload, clip[150].NALUs) || !got[sent].Keyframe {
		t.Error("the seek did not start at the key frame of 6 s")
	}
	if got[sent].DTS <= got[sent-1].DTS {
		t.Error("DTS went back at the seek")
	}
	waitState(t, f.r, rp.ID, recorderapi.ReplayDone)
}

// TestReplayRefusals: bad requests, a range without recordings, an
// unreachable receiver, a stop, the limit.
func TestReplayRefusals(t *testing.T) {
	f := newFixture(t)
	f.add(t, t0, 50)
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ok := request(ln.Addr().String(), t0, t0.Add(2*time.Second), 1)
	for name, mod := range map[string]func(r *recorderapi.ReplayRequest){
		"channel":  func(r *recorderapi.ReplayRequest) { r.ChannelID = "123" },
		"range":    func(r *recorderapi.ReplayRequest) { r.End = r.Start },
		"too long": func(r *recorderapi.ReplayRequest) { r.End = r.Start.Add(25 * time.Hour) },
		"speed":    func(r *recorderapi.ReplayRequest) { r.Speed = 17 },
		"slow":     func(r *recorderapi.ReplayRequest) { r.Speed = 0.01 },
		"ssrc":     func(r *recorderapi.ReplayRequest) { r.SSRC = "x" },
		"dest":     func(r *recorderapi.ReplayRequest) { r.Dest = "nowhere" },
	} {
		req := ok
		mod(&req)
		if _, err := f.r.Start(ctx, req); !errors.Is(err, svcapi.ErrBadRequest) {
			t.Errorf("%s: %v, want bad request", name, err)
		}
	}
	empty := request(ln.Addr().String(), t0.Add(time.Hour), t0.Add(2*time.Hour), 1)
	if _, err := f.r.Start(ctx, empty); !errors.Is(err, ErrNoRecordings) {
		t.Errorf("no recordings: %v", err)
	}
	if _, err := f.r.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown: %v", err)
	}

	// A receiver that is gone: failed, with the reason.
	gone, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := gone.Addr().String()
	gone.Close()
	rp, err := f.r.Start(ctx, request(addr, t0, t0.Add(2*time.Second), 1))
	if err != nil {
		t.Fatal(err)
	}
	if v := waitState(t, f.r, rp.ID, recorderapi.ReplayFailed); !strings.Contains(v.Error, "connect") {
		t.Errorf("failed replay: %+v", v)
	}

	// A stop ends it; controls then say it ended.
	f.r.MaxReplays = 1
	rp, err = f.r.Start(ctx, ok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Start(ctx, ok); !errors.Is(err, ErrBusy) {
		t.Errorf("over the limit: %v", err)
	}
	if err := f.r.Stop(rp.ID); err != nil {
		t.Fatal(err)
	}
	if v, _ := f.r.Get(rp.ID); v.State != recorderapi.ReplayStopped {
		t.Errorf("stopped replay is %s", v.State)
	}
	if _, err := f.r.Control(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlPause}); !errors.Is(err, ErrEnded) {
		t.Errorf("control of an ended replay: %v", err)
	}
}

// TestReplayAPI: the routes, through the contract's client.
func TestReplayAPI(t *testing.T) {
	f := newFixture(t)
	f.add(t, t0, 50)
	mux := http.NewServeMux()
	f.r.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := &recorderapi.Client{BaseURL: srv.URL, Token: f.r.Token, Timeout: 10 * time.Second}
	ctx := context.Background()
	rc := newReceiver(t)
	rp, err := c.StartReplay(ctx, request(rc.addr(), t0, t0.Add(2*time.Second), 1))
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.ControlReplay(ctx, rp.ID, recorderapi.ReplayControl{Action: recorderapi.ControlPause}); err != nil || v.State != recorderapi.ReplayPaused {
		t.Fatalf("pause: %+v %v", v, err)
	}
	if _, err := c.ControlReplay(ctx, rp.ID, recorderapi.ReplayControl{Action: "rewind"}); !errors.Is(err, svcapi.ErrBadRequest) {
		t.Errorf("unknown action: %v", err)
	}
	if err := c.StopReplay(ctx, rp.ID); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Replay(ctx, rp.ID); err != nil || v.State != recorderapi.ReplayStopped {
		t.Errorf("after the stop: %+v %v", v, err)
	}
	rc.wait(t, within)
	if _, err := c.StartReplay(ctx, request(rc.addr(), t0.Add(time.Hour), t0.Add(2*time.Hour), 1)); !errors.Is(err, svcapi.ErrNotFound) {
		t.Errorf("no recordings: %v", err)
	}
	// Without the token: 401.
	res, err := http.Post(srv.URL+recorderapi.PathReplays, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %d", res.StatusCode)
	}
	// A malformed body: 400 with a code.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+recorderapi.PathReplays, strings.NewReader(`{"speed":"x"}`))
	req.Header.Set("Authorization", "Bearer "+f.r.Token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body svcapi.Error
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest || body.Code != svcapi.CodeBadRequest {
		t.Errorf("malformed body: %d %+v", res.StatusCode, body)
	}
}

// sameAU reports whether Annex-B au holds exactly nalus.
func sameAU(au []byte, nalus [][]byte) bool {
	var got [][]byte
	for n := range ps.NALUnits(au) {
		got = append(got, n)
	}
	if len(got) != len(nalus) {
		return false
	}
	for i := range got {
		if !bytes.Equal(got[i], nalus[i]) {
			return false
		}
	}
	return true
}
