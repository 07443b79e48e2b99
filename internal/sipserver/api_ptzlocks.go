package sipserver

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

func (a *API) lockPTZ(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.PTZLockRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if !validID(body.DeviceID) || !validID(body.ChannelID) {
		return badRequest("device_id and channel_id must be 20-digit IDs")
	}
	c := body.Controller
	if c.ID == "" || len(c.ID) > 128 || len(c.Name) > 128 {
		return badRequest("controller: id of 1–128 bytes and a name of at most 128 bytes")
	}
	if c.Priority < 1 || c.Priority > 9 {
		return badRequest("controller: priority must be 1–9, got %d", c.Priority)
	}
	if _, err := a.catalog().GetChannel(r.Context(), body.DeviceID, body.ChannelID); err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, a.Server.LockPTZ(body.DeviceID, body.ChannelID, c))
	return nil
}
