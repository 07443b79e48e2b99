package sipserver

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/store"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/sipdb"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

// API is sipserver's internal HTTP API, used by console and mediagw; its
// types and client are package sipapi, its document openapi.json. Every
// route but the OpenAPI document needs `Authorization: Bearer <service
// token>`. The handlers are split by resource (api_devices.go,
// api_channels.go, …) and listed once, in routes.
type API struct {
	Server *Server
	Store  *sipdb.DB
	// Token is the service token; empty disables the API (503).
	Token string
	Log   *slog.Logger
}

// routes is the API's route table: Register serves it and the OpenAPI test
// checks it against the document.
func (a *API) routes() []svcapi.Route {
	return []svcapi.Route{
		{Pattern: "GET /internal/v1/summary", Handler: a.summary},
		{Pattern: "GET /internal/v1/devices", Handler: a.listDevices},
		{Pattern: "GET /internal/v1/devices/{device}", Handler: a.getDevice},
		{Pattern: "PATCH /internal/v1/devices/{device}", Handler: a.patchDevice},
		{Pattern: "GET /internal/v1/devices/{device}/status-log", Handler: a.statusLog},
		{Pattern: "POST /internal/v1/devices/{device}/catalog", Handler: a.refreshCatalog},
		{Pattern: "GET /internal/v1/devices/{device}/info", Handler: a.deviceInfo},
		{Pattern: "GET /internal/v1/devices/{device}/status", Handler: a.deviceStatus},
		{Pattern: "GET /internal/v1/devices/{device}/config", Handler: a.deviceConfig},
		{Pattern: "PUT /internal/v1/devices/{device}/heartbeat", Handler: a.setHeartbeat},
		{Pattern: "POST /internal/v1/devices/{device}/control", Handler: a.controlDevice},
		{Pattern: "GET /internal/v1/channels", Handler: a.listChannels},
		{Pattern: "GET /internal/v1/devices/{device}/channels/{channel}", Handler: a.getChannel},
		{Pattern: "PATCH /internal/v1/devices/{device}/channels/{channel}", Handler: a.patchChannel},
		{Pattern: "POST /internal/v1/devices/{device}/channels/{channel}/ptz", Handler: a.ptz},
		{Pattern: "POST " + sipapi.PathPTZLocks, Handler: a.lockPTZ},
		{Pattern: "GET /internal/v1/devices/{device}/channels/{channel}/presets", Handler: a.presets},
		{Pattern: "POST /internal/v1/devices/{device}/channels/{channel}/control", Handler: a.controlChannel},
		{Pattern: "GET /internal/v1/devices/{device}/channels/{channel}/records", Handler: a.records},
		{Pattern: "GET /internal/v1/alarms", Handler: a.alarms},
		{Pattern: "POST " + sipapi.PathStreamNeeded, Handler: a.streamNeeded},
		{Pattern: "POST " + sipapi.PathStreamIdle, Handler: a.streamIdle},
		{Pattern: "POST " + sipapi.PathStreamEnded, Handler: a.streamEnded},
		{Pattern: "POST " + sipapi.PathSenderEnded, Handler: a.senderEnded},
		{Pattern: "GET " + sipapi.PathSessions, Handler: a.listSessions},
		{Pattern: "POST " + sipapi.PathSessions, Handler: a.openSession},
		{Pattern: "GET /internal/v1/sessions/{id}", Handler: a.getSession},
		{Pattern: "DELETE /internal/v1/sessions/{id}", Handler: a.closeSession},
		{Pattern: "POST /internal/v1/sessions/{id}/control", Handler: a.controlSession},
	}
}

// Register adds the API's routes to mux under /internal/v1/.
func (a *API) Register(mux *http.ServeMux) {
	routes := a.routes()
	for i, r := range routes {
		h := r.Handler
		routes[i].Handler = func(w http.ResponseWriter, req *http.Request) error { return coded(h(w, req)) }
	}
	(&svcapi.API{Token: a.Token, Log: a.Log}).MountRoutes(mux, openAPI, routes)
}

// catalog is the read model of devices and channels, whose channel online
// state is the effective one (the device's included).
func (a *API) catalog() *catalogview.View { return a.Store.View }

func badRequest(format string, args ...any) error { return svcapi.BadRequest(format, args...) }

// coded gives a route's error the code of sipapi the API answers it with.
func coded(err error) error {
	if err == nil {
		return nil
	}
	return svcapi.WithCode(err, codeOf(err))
}

// codeOf is the code (and HTTP status) of a route's error.
func codeOf(err error) *svcapi.CodeError {
	var (
		rej *RejectedError
		ce  *svcapi.CodeError
	)
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.Is(err, store.ErrNotFound), errors.Is(err, ErrUnknownDevice), errors.Is(err, ErrNoSession):
		return svcapi.ErrNotFound
	case errors.Is(err, ErrMediaUnavailable):
		return sipapi.ErrMediaUnavailable
	case errors.As(err, &rej) && (rej.Code == 486 || rej.Code == 600):
		return sipapi.ErrDeviceBusy
	case errors.Is(err, ErrInvalid), errors.Is(err, store.ErrInvalid):
		return svcapi.ErrBadRequest
	case errors.Is(err, ErrOffline):
		return sipapi.ErrDeviceOffline
	case errors.As(err, &rej):
		return sipapi.ErrDeviceRefused
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return svcapi.ErrTimeout
	}
	return svcapi.ErrInternal
}

// listQuery holds the common parameters of list routes.
type listQuery struct {
	svcapi.Page
	from, to time.Time
}

// parseList reads limit, offset, online, q, from and to; all optional.
func parseList(r *http.Request) (listQuery, error) {
	var l listQuery
	var err error
	q := r.URL.Query()
	if l.Page, err = svcapi.ParsePage(q); err != nil {
		return l, err
	}
	if l.from, err = svcapi.ParseTime("from", q.Get("from"), false); err != nil {
		return l, err
	}
	l.to, err = svcapi.ParseTime("to", q.Get("to"), false)
	return l, err
}

// respond answers 200 with the view of res, the answer of a route's call,
// unless the call failed with err.
func respond[R, T any](w http.ResponseWriter, res R, err error, view func(R) T) error {
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, view(res))
	return nil
}

// noContent answers 204, the answer of a route that changes a resource and
// shows none, unless its call failed with err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
