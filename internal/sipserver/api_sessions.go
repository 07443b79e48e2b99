package sipserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// pathRequest is the body of mediagw's stream calls.
type pathRequest struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func (a *API) streamNeeded(w http.ResponseWriter, r *http.Request) error {
	var body pathRequest
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

func (a *API) streamIdle(w http.ResponseWriter, r *http.Request) error {
	var body pathRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if err := a.Server.EndPath(body.Path, ReasonIdle); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) streamEnded(w http.ResponseWriter, r *http.Request) error {
	var body pathRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	reason := body.Reason
	if reason == "" {
		reason = ReasonReceiverGone
	}
	if len(reason) > 64 {
		return badRequest("reason is longer than 64 characters")
	}
	if err := a.Server.EndPath(body.Path, "media: "+reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

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
	if f.Kind != "" && !slices.Contains([]string{KindPlay, KindPlayback, KindDownload}, f.Kind) {
		return badRequest("kind must be play, playback or download")
	}
	rows, total, err := a.Store.ListSessions(r.Context(), f)
	if err != nil {
		return err
	}
	out := listResponse[SessionInfo]{Items: make([]SessionInfo, 0, len(rows)), Total: total}
	for _, row := range rows {
		out.Items = append(out.Items, sessionInfo(row))
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// openSessionRequest is the body of POST /internal/v1/sessions.
type openSessionRequest struct {
	Kind      string    `json:"kind"`
	ChannelID string    `json:"channel_id"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Speed     int       `json:"speed"`
	// Owner is the console user the session is started for.
	Owner string `json:"owner"`
}

func (a *API) openSession(w http.ResponseWriter, r *http.Request) error {
	var body openSessionRequest
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	info, err := a.Server.OpenSession(r.Context(), SessionRequest(body))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) error {
	row, err := a.Store.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, sessionInfo(row))
	return nil
}

func (a *API) closeSession(w http.ResponseWriter, r *http.Request) error {
	if err := a.Server.EndSession(r.PathValue("id"), ReasonStopped); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// controlRequest is the body of playback control.
type playbackControl struct {
	// Action: pause, resume, seek (Position seconds from the range start), scale (Scale).
	Action   string  `json:"action"`
	Position float64 `json:"position"`
	Scale    float64 `json:"scale"`
}

func (a *API) controlSession(w http.ResponseWriter, r *http.Request) error {
	var body playbackControl
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if body.Position < 0 || body.Position > 7*24*3600 {
		return badRequest("position must be 0–604800 seconds")
	}
	if body.Action == "scale" && (body.Scale < 0.125 || body.Scale > 16) {
		return badRequest("scale must be 0.125–16")
	}
	err := a.Server.ControlPlayback(r.Context(), r.PathValue("id"), body.Action,
		time.Duration(body.Position*float64(time.Second)), body.Scale)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// transportPatch is the body of the device and channel PATCH routes.
type transportPatch struct {
	// StreamTransport: udp, tcp-passive, tcp-active, or "" to inherit.
	StreamTransport *string `json:"stream_transport"`
}

func (t transportPatch) value() (string, error) {
	if t.StreamTransport == nil {
		return "", badRequest("stream_transport is required")
	}
	v := *t.StreamTransport
	if !slices.Contains([]string{"", "udp", "tcp-passive", "tcp-active"}, v) {
		return "", badRequest(`stream_transport must be udp, tcp-passive, tcp-active or "" (inherit), got %q`, v)
	}
	return v, nil
}

// devicePatch is the body of PATCH /internal/v1/devices/{device}: any of
// its fields, at least one.
type devicePatch struct {
	// StreamTransport: udp, tcp-passive, tcp-active, or "" to inherit.
	StreamTransport *string `json:"stream_transport"`
	// SourceCheck: strict or ip (docs/security.md).
	SourceCheck *string `json:"source_check"`
}

func (a *API) patchDevice(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("device")
	var body devicePatch
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	if body.StreamTransport == nil && body.SourceCheck == nil {
		return badRequest("stream_transport or source_check is required")
	}
	if body.SourceCheck != nil && *body.SourceCheck != store.SourceStrict && *body.SourceCheck != store.SourceIP {
		return badRequest("source_check must be strict or ip, got %q", *body.SourceCheck)
	}
	var transport string
	if body.StreamTransport != nil {
		v, err := transportPatch{StreamTransport: body.StreamTransport}.value()
		if err != nil {
			return err
		}
		transport = v
	}
	ctx := r.Context()
	if body.StreamTransport != nil {
		if err := a.Store.SetDeviceStreamTransport(ctx, id, transport); err != nil {
			return storeErr(err)
		}
	}
	if body.SourceCheck != nil {
		if err := a.Server.SetSourceCheck(ctx, id, *body.SourceCheck); err != nil {
			return storeErr(err)
		}
	}
	d, err := a.Store.GetDevice(ctx, id)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, a.toJSON(d))
	return nil
}

// storeErr makes the store's validation errors 400s.
func storeErr(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return badRequest("%v", err)
	}
	return err
}

func (a *API) patchChannel(w http.ResponseWriter, r *http.Request) error {
	return a.patchTransport(w, r, func(ctx context.Context, v string) error {
		return a.Store.SetChannelStreamTransport(ctx, r.PathValue("device"), r.PathValue("channel"), v)
	}, func(ctx context.Context) (any, error) {
		c, err := a.Store.GetChannel(ctx, r.PathValue("device"), r.PathValue("channel"))
		return a.channelToJSON(c), err
	})
}

func (a *API) patchTransport(w http.ResponseWriter, r *http.Request, set func(context.Context, string) error,
	get func(context.Context) (any, error),
) error {
	var body transportPatch
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	v, err := body.value()
	if err != nil {
		return err
	}
	if err := set(r.Context(), v); err != nil {
		return storeErr(err)
	}
	out, err := get(r.Context())
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
