package console

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// channelJSON is a channel as the API shows it.
type channelJSON struct {
	ID              string   `json:"id"`
	DeviceID        string   `json:"device_id"`
	Name            string   `json:"name"`
	Online          bool     `json:"online"`
	Status          string   `json:"status"`
	PTZType         int      `json:"ptz_type"`
	CivilCode       string   `json:"civil_code"`
	ParentID        string   `json:"parent_id"`
	BusinessGroupID string   `json:"business_group_id,omitempty"`
	Address         string   `json:"address"`
	Manufacturer    string   `json:"manufacturer"`
	Model           string   `json:"model"`
	Parental        bool     `json:"parental"`
	Longitude       *float64 `json:"longitude,omitempty"`
	Latitude        *float64 `json:"latitude,omitempty"`
}

func toChannelJSON(c store.Channel) channelJSON {
	return channelJSON{
		ID: c.ID, DeviceID: c.DeviceID, Name: c.Name, Online: c.Online, Status: c.Status, PTZType: c.PTZType,
		CivilCode: c.CivilCode, ParentID: c.ParentID, BusinessGroupID: c.BusinessGroupID, Address: c.Address,
		Manufacturer: c.Manufacturer, Model: c.Model, Parental: c.Parental, Longitude: c.Longitude, Latitude: c.Latitude,
	}
}

func (a *API) listChannels(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	p, err := svcapi.ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	query := r.URL.Query()
	chs, total, err := a.catalog(sess, "").ListChannels(r.Context(), store.ChannelFilter{
		DeviceID:  query.Get("device_id"),
		CivilCode: query.Get("civil_code"), Online: p.Online, Text: p.Q, Limit: p.Limit, Offset: p.Offset,
	})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, chs, total, toChannelJSON)
	return nil
}
