package console

import (
	"encoding/json"
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/input"
)

func (a *API) ptz(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	raw, err := input.ReadAll(r.Body)
	if err != nil {
		return err
	}
	// The body goes to sipserver as it is: its text is checked here.
	if err := input.CheckJSON(raw); err != nil {
		return err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		return badRequest("body must be a JSON object like {\"action\":\"move\",\"directions\":[\"left\"],\"speed\":128}")
	}
	var action string
	if err := json.Unmarshal(body["action"], &action); err != nil || action == "" {
		return badRequest("action is required")
	}
	ch, err := a.findChannel(r)
	if err != nil {
		return err
	}
	if err := a.audit(r, sess, "ptz", ch.ID, map[string]any{"action": action}); err != nil {
		return err
	}
	out, err := a.Sip.PTZ(r.Context(), ch.DeviceID, ch.ID, raw)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		out = json.RawMessage("{}")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}
