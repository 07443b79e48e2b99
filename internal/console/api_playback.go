package console

import (
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func (a *API) playback(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	if a.Signer == nil {
		return ErrPlayDisabled
	}
	var in rangeBody
	if err := input.ReadJSON(r.Body, &in, false); err != nil {
		return err
	}
	start, end, err := in.parse()
	if err != nil {
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
