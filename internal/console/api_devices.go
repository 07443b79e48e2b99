package console

import (
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// deviceJSON is a device as the API shows it.
type deviceJSON struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Online          bool       `json:"online"`
	Manufacturer    string     `json:"manufacturer"`
	Model           string     `json:"model"`
	Firmware        string     `json:"firmware"`
	Transport       string     `json:"transport"`
	RemoteAddr      string     `json:"remote_addr"`
	GBVersion       string     `json:"gb_version"`
	ChannelCount    int        `json:"channel_count"`
	RegisteredAt    *time.Time `json:"registered_at,omitempty"`
	LastKeepaliveAt *time.Time `json:"last_keepalive_at,omitempty"`
}

func toDeviceJSON(d store.Device) deviceJSON {
	return deviceJSON{
		ID: d.ID, Name: d.Name, Online: d.Online, Manufacturer: d.Manufacturer, Model: d.Model,
		Firmware: d.Firmware, Transport: d.Transport, RemoteAddr: d.RemoteAddr, GBVersion: d.GBVersion,
		ChannelCount: d.ChannelCount, RegisteredAt: d.RegisteredAt, LastKeepaliveAt: d.LastKeepaliveAt,
	}
}

func (a *API) listDevices(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	p, err := svcapi.ParsePage(r.URL.Query())
	if err != nil {
		return err
	}
	devs, total, err := a.catalog(sess, "").ListDevices(r.Context(),
		store.DeviceFilter{Online: p.Online, Text: p.Q, Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, devs, total, toDeviceJSON)
	return nil
}
