package console

import (
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// maxRange bounds the time range of record queries and device playback.
const maxRange = 31 * 24 * time.Hour

func checkRange(start, end time.Time) error {
	if !end.After(start) {
		return badRequest("end must be after start")
	}
	if end.Sub(start) > maxRange {
		return badRequest("the range must be at most %s", maxRange)
	}
	return nil
}

// recordJSON is a recording on the device as the API shows it.
type recordJSON struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Type  string    `json:"type,omitempty"`
}

func (a *API) records(w http.ResponseWriter, r *http.Request, sess *auth.Session) error {
	q := r.URL.Query()
	start, end, err := svcapi.ParseRange(q.Get("start"), q.Get("end"))
	if err != nil {
		return err
	}
	if err := checkRange(start, end); err != nil {
		return err
	}
	ch, err := a.grantedChannel(r, sess, catalogview.RightPlayback)
	if err != nil {
		return err
	}
	recs, err := a.Sip.Records(r.Context(), ch.DeviceID, ch.ID, start, end)
	if err != nil {
		return err
	}
	items := make([]recordJSON, 0, len(recs.Items))
	for _, rec := range recs.Items {
		items = append(items, recordJSON{Name: rec.Name, Start: rec.Start, End: rec.End, Type: rec.Type})
	}
	svcapi.WriteJSON(w, http.StatusOK, map[string]any{"items": items, "total": len(items), "partial": recs.Partial})
	return nil
}
