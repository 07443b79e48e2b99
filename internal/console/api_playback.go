package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/streampath"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/recordingdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Platform playback bounds.
const (
	// maxPlatformRange is the longest range one platform playback (its
	// playlist) and one export cover.
	maxPlatformRange = 24 * time.Hour
	// maxSpeed is the fastest platform playback.
	maxSpeed = 16
)

// playbackBody is the body of POST /channels/{id}/playback.
type playbackBody struct {
	Start string `json:"start"`
	// End is required for the device; the platform's defaults to Start +
	// maxPlatformRange, capped at now.
	End string `json:"end"`
	// Speed is the platform player's rate (1, 2, 4, 8 or 16).
	Speed  int    `json:"speed"`
	Source string `json:"source"`
}

// platformPlaybackJSON is the answer of a platform playback: the
// recorder's HLS VOD playlist, and the timeline the player maps its media
// time to wall time with (media time runs over the segments in order;
// gaps take none).
type platformPlaybackJSON struct {
	Source   string     `json:"source"`
	Path     string     `json:"path"`
	HLS      string     `json:"hls"`
	Start    time.Time  `json:"start"`
	End      time.Time  `json:"end"`
	Speed    int        `json:"speed"`
	Expires  string     `json:"expires"`
	Segments []spanJSON `json:"segments"`
	Gaps     []gapJSON  `json:"gaps"`
}

func (a *API) playback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	var in playbackBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	switch in.Source {
	case "", sourceDevice:
		return a.devicePlayback(w, r, sess, in)
	case sourcePlatform:
		return a.platformPlayback(w, r, sess, in)
	}
	return badRequest("source must be platform or device, got %q", in.Source)
}

// devicePlayback starts a playback session on the device.
func (a *API) devicePlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session, in playbackBody) error {
	start, end, err := svcapi.ParseRange(in.Start, in.End)
	if err != nil {
		return err
	}
	if err := checkRange(start, end); err != nil {
		return err
	}
	ch, err := a.grantedChannel(r, sess, catalogview.RightPlayback)
	if err != nil {
		return err
	}
	s, err := a.Sip.CreateSession(r.Context(), sipapi.SessionRequest{
		Kind: sipapi.KindPlayback, ChannelID: ch.ID, Start: start, End: end, Owner: sess.User.Username,
	})
	if err != nil {
		return err
	}
	err = a.audit(r, sess, "playback", ch.ID, map[string]any{
		"session_id": s.ID, "path": s.Path,
		"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339),
	})
	if err == nil {
		var out playJSON
		if out, err = a.mint(s.Path, playtoken.RightPlayback, sess.User.Username); err == nil {
			out.SessionID, out.Start, out.End = s.ID, &start, &end
			svcapi.WriteJSON(w, http.StatusOK, out)
			return nil
		}
	}
	// Nobody will watch it: the device stops sending now.
	endSession(r.Context(), a.Sip, s.ID, a.logger())
	return err
}

// platformRange reads a platform playback's range: end defaults to start
// + maxPlatformRange capped at now, and the range is at most
// maxPlatformRange.
func platformRange(in playbackBody, now time.Time) (start, end time.Time, err error) {
	if start, err = svcapi.ParseTime("start", in.Start, true); err != nil {
		return start, end, err
	}
	if end, err = svcapi.ParseTime("end", in.End, false); err != nil {
		return start, end, err
	}
	if end.IsZero() {
		end = minTime(start.Add(maxPlatformRange), now)
	}
	if !end.After(start) {
		return start, end, badRequest("end must be after start (and start before now when end is left out)")
	}
	if end.Sub(start) > maxPlatformRange {
		return start, end, badRequest("the range must be at most %s", maxPlatformRange)
	}
	return start, end, nil
}

// platformPlayback answers where the recorder serves the channel's
// recordings of the range as HLS VOD: no device session, a play token for
// recording/<id> (right playback) on the freshest recorder node.
func (a *API) platformPlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session, in playbackBody) error {
	start, end, err := platformRange(in, a.now())
	if err != nil {
		return err
	}
	switch in.Speed {
	case 0:
		in.Speed = 1
	case 1, 2, 4, 8, maxSpeed:
	default:
		return badRequest("speed must be 1, 2, 4, 8 or 16, got %d", in.Speed)
	}
	ch, err := a.grantedChannel(r, sess, catalogview.RightPlayback)
	if err != nil {
		return err
	}
	tl, err := recordingdb.New(a.Store.Store).Timeline(r.Context(), ch.ID, start, end)
	if err != nil {
		return err
	}
	if len(tl.Segments) == 0 {
		return fmt.Errorf("channel %s from %s to %s: %w", ch.ID,
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), ErrNoRecordings)
	}
	node, err := a.freshestRecorder(r.Context())
	if err != nil {
		return err
	}
	path := streampath.Recording(ch.ID)
	// Audited before the token exists: no unaudited access (fail closed).
	err = a.audit(r, sess, "playback", ch.ID, map[string]any{
		"source": sourcePlatform, "path": path, "node": node.Node,
		"start": start.UTC().Format(time.RFC3339Nano), "end": end.UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return err
	}
	// The player fetches segments while it plays: the token lasts the
	// range at 1× (pauses aside) beyond the usual lifetime. The recorder
	// still refuses it once the user's tokens are revoked.
	tok, exp, err := a.issue(path, playtoken.RightPlayback, sess.User.Username, a.PlayTokenTTL+end.Sub(start))
	if err != nil {
		return err
	}
	q := url.Values{
		"start": {start.UTC().Format(time.RFC3339Nano)}, "end": {end.UTC().Format(time.RFC3339Nano)}, "token": {tok},
	}
	out := platformPlaybackJSON{
		Source: sourcePlatform, Path: path,
		HLS:   strings.TrimRight(node.PublicURL, "/") + "/vod/" + escapePath(path) + "/index.m3u8?" + q.Encode(),
		Start: start, End: end, Speed: in.Speed, Expires: exp.UTC().Format(time.RFC3339),
	}
	out.Segments, out.Gaps = timelineJSONOf(tl)
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) controlPlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	var in sipapi.PlaybackControl
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	switch in.Action {
	case "pause", "resume":
	case "seek":
		if in.Position == nil || *in.Position < 0 {
			return badRequest("seek needs position ≥ 0 (seconds from the range start)")
		}
	case "scale":
		if in.Scale == nil || *in.Scale < 0.25 || *in.Scale > 8 {
			return badRequest("scale needs scale between 0.25 and 8")
		}
	default:
		return badRequest("action must be pause, resume, seek or scale, got %q", in.Action)
	}
	s, _, err := a.ownSession(r, sess, sipapi.KindPlayback, false)
	if err != nil {
		return err
	}
	// A right revoked since the session began stops the control (stopping
	// stays the owner's).
	if err := a.stillGranted(r, sess, s.ChannelID, catalogview.RightPlayback); err != nil {
		return err
	}
	detail := map[string]any{"action": in.Action}
	if in.Position != nil {
		detail["position"] = *in.Position
	}
	if in.Scale != nil {
		detail["scale"] = *in.Scale
	}
	if err := a.audit(r, sess, "playback_control", s.ID, detail); err != nil {
		return err
	}
	if err := a.Sip.ControlSession(r.Context(), s.ID, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) stopPlayback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// An admin may force-stop anyone's playback; the row says so.
	s, forced, err := a.ownSession(r, sess, sipapi.KindPlayback, true)
	if err != nil {
		return err
	}
	if err := a.Sip.DeleteSession(r.Context(), s.ID); err != nil {
		return err
	}
	detail := map[string]any{"channel_id": s.ChannelID}
	if forced {
		detail["forced"], detail["owner"] = true, s.Owner
	}
	a.note(r, sess, "playback_stop", s.ID, detail)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
