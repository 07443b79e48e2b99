package sipserver

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
	"github.com/sharpeyes/sharpeyes/pkg/gb28181/manscdp"
)

// records asks the device for the recordings of a channel (RecordInfo).
func (a *API) records(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	start, end, err := svcapi.ParseRange(q.Get("start"), q.Get("end"))
	if err != nil {
		return err
	}
	typ := q.Get("type")
	if typ == "" {
		typ = "all"
	}
	res, err := a.Server.QueryRecords(r.Context(), r.PathValue("device"), r.PathValue("channel"), start, end, typ)
	return respond(w, res, err, recordsView)
}

// recordsView shows the RecordInfo a device answered.
func recordsView(res *manscdp.Result) sipapi.Records {
	out := sipapi.Records{SumNum: res.SumNum, Partial: res.Partial}
	out.Items = make([]sipapi.Record, 0, len(res.Records))
	for _, it := range res.Records {
		out.Items = append(out.Items, sipapi.Record{
			Name: it.Name, FilePath: it.FilePath, Address: it.Address,
			Start: it.StartTime.Time, End: it.EndTime.Time, Type: it.Type, FileSize: it.FileSize, Secrecy: it.Secrecy,
			RecorderID: it.RecorderID,
		})
	}
	out.Total = len(out.Items)
	return out
}
