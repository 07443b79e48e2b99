package sipserver

import (
	"errors"
	"net/http"
	"slices"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// channelView shows a channel of the read model, whose Online is already
// the effective state (the device's included).
func channelView(c store.Channel) sipapi.Channel {
	return sipapi.Channel{
		DeviceID: c.DeviceID, ID: c.ID, Name: c.Name, Manufacturer: c.Manufacturer, Model: c.Model, Owner: c.Owner,
		CivilCode: c.CivilCode, Address: c.Address, Parental: c.Parental, ParentID: c.ParentID,
		BusinessGroupID: c.BusinessGroupID, Status: c.Status, Online: c.Online, Longitude: c.Longitude,
		Latitude: c.Latitude, PTZType: c.PTZType, RetentionClass: c.RetentionClass, Extra: c.Extra,
		StreamTransport: c.StreamTransport,
	}
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	chs, total, err := a.catalog().ListChannels(r.Context(), store.ChannelFilter{
		DeviceID: q.Get("device_id"), CivilCode: q.Get("civil_code"), ParentID: q.Get("parent_id"),
		Online: l.Online, Text: l.Q, Limit: l.Limit, Offset: l.Offset,
	})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, chs, total, channelView)
	return nil
}

func (a *API) getChannel(w http.ResponseWriter, r *http.Request) error {
	c, err := a.catalog().GetChannel(r.Context(), r.PathValue("device"), r.PathValue("channel"))
	return respond(w, c, err, channelView)
}

func (a *API) patchChannel(w http.ResponseWriter, r *http.Request) error {
	var body sipapi.ChannelPatch
	if err := svcapi.DecodeBody(r, &body); err != nil {
		return err
	}
	v, err := streamTransport(body.StreamTransport)
	if err != nil {
		return err
	}
	ctx, dev, ch := r.Context(), r.PathValue("device"), r.PathValue("channel")
	if err := a.Store.SetChannelStreamTransport(ctx, dev, ch, v); err != nil {
		return storeErr(err)
	}
	c, err := a.catalog().GetChannel(ctx, dev, ch)
	return respond(w, c, err, channelView)
}

// streamTransport checks a stream_transport of a PATCH body: udp,
// tcp-passive, tcp-active, or "" to inherit; required.
func streamTransport(v *string) (string, error) {
	if v == nil {
		return "", badRequest("stream_transport is required")
	}
	if !slices.Contains([]string{"", "udp", "tcp-passive", "tcp-active"}, *v) {
		return "", badRequest(`stream_transport must be udp, tcp-passive, tcp-active or "" (inherit), got %q`, *v)
	}
	return *v, nil
}

// storeErr makes the store's validation errors 400s.
func storeErr(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return badRequest("%v", err)
	}
	return err
}
