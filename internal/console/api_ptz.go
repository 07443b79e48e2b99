package console

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func (a *API) ptz(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	// The request is sipserver's (sipapi.PTZRequest); sipserver checks
	// its values, the console its text and the action.
	var req sipapi.PTZRequest
	if err := input.ReadJSON(r.Body, &req, false); err != nil {
		return err
	}
	if req.Action == "" {
		return badRequest("action is required, e.g. {\"action\":\"move\",\"directions\":[\"left\"],\"speed\":128}")
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	if err := a.audit(r, sess, "ptz", ch.ID, map[string]any{"action": req.Action}); err != nil {
		return err
	}
	out, err := a.Sip.PTZ(r.Context(), ch.DeviceID, ch.ID, req)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
