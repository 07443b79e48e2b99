package sipserver

import (
	"net/http"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// maxPosition bounds a seek: a week from the range start.
const maxPosition = 7 * 24 * time.Hour

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.SessionFilter{
		DeviceID: q.Get("device_id"), ChannelID: q.Get("channel_id"), Kind: q.Get("kind"),
		Open: q.Get("state") != "all", Limit: l.Limit, Offset: l.Offset,
	}
	if st := q.Get("state"); st != "" && st != "all" && st != "open" {
		return badRequest("state must be open or all")
	}
	if f.Kind != "" && !slices.Contains([]string{sipapi.KindPlay, sipapi.KindPlayback, sipapi.KindDownload}, f.Kind) {
		return badRequest("kind must be play, playback or download")
	}
	rows, total, err := a.Store.ListSessions(r.Context(), f)
	if err != nil {
		return err
	}
	svcapi.WriteList(w, rows, total, sessionInfo)
	return nil
}

func (a *API) openSession(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.SessionRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	info, err := a.Server.OpenSession(r.Context(), body)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	row, err := a.Store.Session(r.Context(), r.PathValue("id"))
	return respond(w, row, err, sessionInfo)
}

func (a *API) closeSession(w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.Server.EndSession(r.PathValue("id"), ReasonStopped))
}

func (a *API) controlSession(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.PlaybackControl
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	var position, scale float64
	if body.Position != nil {
		position = *body.Position
	}
	if body.Scale != nil {
		scale = *body.Scale
	}
	if position < 0 || position > maxPosition.Seconds() {
		return badRequest("position must be 0–%.0f seconds", maxPosition.Seconds())
	}
	if body.Action == "scale" && (scale < 0.125 || scale > 16) {
		return badRequest("scale must be 0.125–16")
	}
	return noContent(w, a.Server.ControlPlayback(r.Context(), r.PathValue("id"), body.Action,
		time.Duration(position*float64(time.Second)), scale))
}
