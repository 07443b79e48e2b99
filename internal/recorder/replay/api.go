package replay

import (
	"net/http"

	"github.com/sharpeyes/sharpeyes/internal/contract/recorderapi"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// Register adds the replay routes to mux behind the service-token check.
func (r *Replayer) Register(mux *http.ServeMux) {
	api := &svcapi.API{Token: r.Token, Log: r.Log}
	for _, rt := range r.routes() {
		mux.Handle(rt.Pattern, api.Handle(rt.Handler))
	}
}

// routes is the API's route table.
func (r *Replayer) routes() []svcapi.Route {
	return []svcapi.Route{
		{Pattern: "POST " + recorderapi.PathReplays, Handler: r.create},
		{Pattern: "GET " + recorderapi.PathReplays + "/{id}", Handler: r.get},
		{Pattern: "POST " + recorderapi.PathReplays + "/{id}/control", Handler: r.control},
		{Pattern: "DELETE " + recorderapi.PathReplays + "/{id}", Handler: r.remove},
	}
}

func (r *Replayer) create(w http.ResponseWriter, req *http.Request) error {
	var in recorderapi.ReplayRequest
	if err := svcapi.DecodeBody(req, &in); err != nil {
		return err
	}
	rp, err := r.Start(req.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", recorderapi.ReplayPath(rp.ID))
	svcapi.WriteJSON(w, http.StatusCreated, rp)
	return nil
}

func (r *Replayer) get(w http.ResponseWriter, req *http.Request) error {
	rp, err := r.Get(req.PathValue("id"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, rp)
	return nil
}

func (r *Replayer) control(w http.ResponseWriter, req *http.Request) error {
	var in recorderapi.ReplayControl
	if err := svcapi.DecodeBody(req, &in); err != nil {
		return err
	}
	rp, err := r.Control(req.Context(), req.PathValue("id"), in)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, rp)
	return nil
}

func (r *Replayer) remove(w http.ResponseWriter, req *http.Request) error {
	if err := r.Stop(req.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
