package sipserver

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

func (a *API) ptz(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.PTZRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	cmd, err := body.Command()
	if err != nil {
		// Every failure to build the command is the request's fault.
		return badRequest("%v", err)
	}
	if err := a.Server.PTZ(r.Context(), r.PathValue("device"), r.PathValue("channel"), cmd); err != nil {
		return err
	}
	hex, _ := cmd.Encode()
	svcapi.WriteJSON(w, http.StatusOK, sipapi.PTZResult{PTZCmd: hex})
	return nil
}

func (a *API) presets(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Server.QueryPresets(r.Context(), r.PathValue("device"), r.PathValue("channel"))
	return respond(w, res, err, func(res *manscdp.PresetQueryResponse) svcapi.List[sipapi.Preset] {
		out := svcapi.List[sipapi.Preset]{Items: []sipapi.Preset{}}
		if res.PresetList != nil {
			for _, p := range res.PresetList.Items {
				out.Items = append(out.Items, sipapi.Preset{ID: p.PresetID, Name: p.PresetName})
			}
		}
		out.Total = len(out.Items)
		return out
	})
}

func (a *API) controlDevice(w http.ResponseWriter, r *http.Request) error {
	return a.control(w, r, r.PathValue("device"))
}

func (a *API) controlChannel(w http.ResponseWriter, r *http.Request) error {
	return a.control(w, r, r.PathValue("channel"))
}

// control sends the DeviceControl of the body to target, the device itself
// or one of its channels.
func (a *API) control(w http.ResponseWriter, r *http.Request, target string) error {
	var body sipapi.ControlRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	dc, err := deviceControl(body)
	if err != nil {
		return err
	}
	result, err := a.Server.Control(r.Context(), r.PathValue("device"), target, dc)
	return respond(w, result, err, func(result string) sipapi.ControlResult {
		return sipapi.ControlResult{Command: body.Command, Result: result}
	})
}
