package fake

import "net/http"

type API struct{}

func (a *API) Register(mux *http.ServeMux) {
	route := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, h) }
	route("GET /v1/items", nil)
	route("POST /v1/items/{id}/undocumented", nil)
	mux.HandleFunc("/v1/", nil)
}
