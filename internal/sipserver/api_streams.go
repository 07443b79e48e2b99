package sipserver

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// maxEndReason bounds the reason mediagw gives for a stream's end.
const maxEndReason = 64

// streamNeeded starts the live stream of a path mediagw was asked for.
func (a *API) streamNeeded(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.StreamRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	info, err := a.Server.Need(r.Context(), body.Path)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, info)
	return nil
}

// streamIdle ends the session of a path nobody watches.
func (a *API) streamIdle(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.StreamRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	return noContent(w, a.Server.EndPath(body.Path, ReasonIdle))
}

// streamEnded ends the session of a path whose media stopped.
func (a *API) streamEnded(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.StreamRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	reason := body.Reason
	if reason == "" {
		reason = ReasonReceiverGone
	}
	if len(reason) > maxEndReason {
		return badRequest("reason is longer than %d characters", maxEndReason)
	}
	return noContent(w, a.Server.EndPath(body.Path, "media: "+reason))
}

func (a *API) senderEnded(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.SenderEndedRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if body.Sender == "" || len(body.Sender) > 64 {
		return badRequest("sender must be a mediagw sender id")
	}
	if len(body.Reason) > maxEndReason {
		return badRequest("reason is longer than %d characters", maxEndReason)
	}
	return noContent(w, a.Server.SenderEnded(r.Context(), body.Sender, body.Reason))
}
