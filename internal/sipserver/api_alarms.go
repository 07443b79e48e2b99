package sipserver

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// alarms lists the stored alarms.
func (a *API) alarms(w http.ResponseWriter, r *http.Request) error {
	l, err := parseList(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	list, total, err := a.Store.ListAlarms(r.Context(), store.AlarmFilter{
		DeviceID: q.Get("device_id"), ChannelID: q.Get("channel_id"),
		From: l.from, To: l.to, Limit: l.Limit, Offset: l.Offset,
	})
	if err != nil {
		return err
	}
	svcapi.WriteList(w, list, total, func(x store.Alarm) sipapi.Alarm {
		return sipapi.Alarm{
			ID: x.ID, DeviceID: x.DeviceID, ChannelID: x.ChannelID, Priority: x.Priority, Method: x.Method,
			Type: x.Type, Description: x.Description, Longitude: x.Longitude, Latitude: x.Latitude,
			At: x.At, ReceivedAt: x.ReceivedAt, Extra: x.Extra,
		}
	})
	return nil
}
