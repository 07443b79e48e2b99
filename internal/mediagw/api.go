package mediagw

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	_ "embed"

	"github.com/sharpeyes/sharpeyes/internal/contract/mediaapi"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/access"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/svcapi"
)

//go:embed openapi.json
var openAPI []byte

// maxTokenTTL bounds the lifetime of a play token minted by the API.
const maxTokenTTL = 24 * time.Hour

// API is mediagw's internal control API, used by sipserver and console.
// Every route but the OpenAPI document needs `Authorization: Bearer
// <service token>`.
type API struct {
	Gateway *Gateway
	// Token is the service token; empty disables the API (503).
	Token string
	// Signer mints play tokens (POST /internal/v1/play-tokens); nil: 503.
	Signer *playtoken.Signer
	// Webhook is reported by GET /internal/v1/webhook; nil when disabled.
	Webhook *Webhook
	// Outputs returns the sessions of every output, by output name.
	Outputs func() map[string]any
	// PathMetrics serves the per-path metrics (GET /internal/v1/metrics);
	// nil: 404.
	PathMetrics http.Handler
	Log         *slog.Logger
}

// Register adds the API's routes to mux under /internal/v1/.
func (a *API) Register(mux *http.ServeMux) {
	(&svcapi.API{Token: a.Token, Log: a.Log}).MountRoutes(mux, openAPI, a.routes())
}

// routes is the API's route table: Register serves it and the OpenAPI
// tests walk it. Each handler's error gets its machine code (withCode).
func (a *API) routes() []svcapi.Route {
	table := []svcapi.Route{
		{Pattern: "POST /internal/v1/receivers", Handler: a.openReceiver},
		{Pattern: "GET /internal/v1/receivers", Handler: a.listReceivers},
		{Pattern: "GET /internal/v1/receivers/{id}", Handler: a.getReceiver},
		{Pattern: "PATCH /internal/v1/receivers/{id}", Handler: a.patchReceiver},
		{Pattern: "POST /internal/v1/receivers/{id}/connect", Handler: a.connectReceiver},
		{Pattern: "DELETE /internal/v1/receivers/{id}", Handler: a.closeReceiver},
		{Pattern: "POST /internal/v1/senders", Handler: a.openSender},
		{Pattern: "GET /internal/v1/senders", Handler: a.listSenders},
		{Pattern: "DELETE /internal/v1/senders/{id}", Handler: a.closeSender},
		{Pattern: "GET /internal/v1/streams", Handler: a.listStreams},
		{Pattern: "GET /internal/v1/streams/{path...}", Handler: a.getStream},
		{Pattern: "GET /internal/v1/outputs", Handler: a.outputs},
		{Pattern: "GET /internal/v1/webhook", Handler: a.webhook},
		{Pattern: "POST /internal/v1/play-tokens", Handler: a.playToken},
		{Pattern: "GET /internal/v1/metrics", Handler: a.metrics},
	}
	for i, r := range table {
		h := r.Handler
		table[i].Handler = func(w http.ResponseWriter, r *http.Request) error { return withCode(h(w, r)) }
	}
	return table
}

// metrics serves the per-path Prometheus metrics, which say which channels
// are watched: only to holders of the service token.
func (a *API) metrics(w http.ResponseWriter, r *http.Request) error {
	if a.PathMetrics == nil {
		return fmt.Errorf("%w: per-path metrics", access.ErrNotFound)
	}
	a.PathMetrics.ServeHTTP(w, r)
	return nil
}

// withCode gives a route's error its machine code (and so its status): the
// gateway's and its packages' sentinels are mapped here, the contract's own
// (mediaapi.ErrPathBusy, …) and svcapi's carry theirs already.
func withCode(err error) error {
	var code *svcapi.CodeError
	switch {
	case errors.Is(err, ErrInvalid):
		code = svcapi.ErrBadRequest
	case errors.Is(err, ErrNoReceiver), errors.Is(err, ErrNoSender), errors.Is(err, access.ErrNotFound):
		code = svcapi.ErrNotFound
	case errors.Is(err, ingest.ErrSSRCInUse):
		code = mediaapi.ErrSSRCInUse
	case errors.Is(err, ingest.ErrNoPorts):
		code = mediaapi.ErrNoPorts
	case errors.Is(err, ErrClosed), errors.Is(err, access.ErrUnavailable):
		code = svcapi.ErrUnavailable
	default:
		return err
	}
	return svcapi.WithCode(err, code)
}

func (a *API) openReceiver(w http.ResponseWriter, r *http.Request) error {
	var req mediaapi.OpenRequest
	if err := svcapi.DecodeBody(r, &req); err != nil {
		return err
	}
	info, err := a.Gateway.Open(req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/internal/v1/receivers/"+info.ID)
	svcapi.WriteJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) listReceivers(w http.ResponseWriter, _ *http.Request) error {
	items := a.Gateway.Receivers()
	// The receivers are their views already.
	svcapi.WriteJSON(w, http.StatusOK, svcapi.List[mediaapi.Receiver]{Items: items, Total: len(items)})
	return nil
}

func (a *API) getReceiver(w http.ResponseWriter, r *http.Request) error {
	info, err := a.Gateway.Receiver(r.PathValue("id"))
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, info)
	return nil
}

func (a *API) patchReceiver(w http.ResponseWriter, r *http.Request) error {
	var req mediaapi.PatchRequest
	if err := svcapi.DecodeBody(r, &req); err != nil {
		return err
	}
	info, err := a.Gateway.UpdateReceiver(r.PathValue("id"), req.SSRC, req.AllowIPs, req.Paused)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, info)
	return nil
}

func (a *API) connectReceiver(w http.ResponseWriter, r *http.Request) error {
	var req mediaapi.ConnectRequest
	if err := svcapi.DecodeBody(r, &req); err != nil {
		return err
	}
	info, err := a.Gateway.Connect(r.PathValue("id"), req.IP, req.Port)
	if err != nil {
		return err
	}
	svcapi.WriteJSON(w, http.StatusOK, info)
	return nil
}

func (a *API) closeReceiver(w http.ResponseWriter, r *http.Request) error {
	if err := a.Gateway.CloseReceiver(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) streamInfo(st hub.StreamStats) mediaapi.Stream {
	out := mediaapi.Stream{
		Path: st.Path, Published: st.Published, VideoCodec: codecName(st.VideoCodec), Width: st.Width, Height: st.Height,
		FPS: st.VideoFPS, Bitrate: st.VideoBitrate, Units: st.Units, Bytes: st.Bytes, Keyframes: st.Keyframes,
		GOPUnits: st.GOPUnits, Drops: st.Drops, SlowReaders: st.SlowDisconnects, Readers: []mediaapi.Reader{},
		Transcode: strings.Contains(st.Path, "~"), ReaderCount: len(st.Readers),
	}
	for _, t := range st.Tracks {
		if t.Codec.IsAudio() {
			out.AudioCodec = t.Codec.String()
		} else {
			out.VideoUnits += t.Units
		}
	}
	if !st.LastUnit.IsZero() {
		t := st.LastUnit
		out.LastUnit = &t
	}
	for _, r := range st.Readers {
		out.Readers = append(out.Readers, mediaapi.Reader{
			Name: r.Name, Since: r.Since, Units: r.Units, Bytes: r.Bytes,
			Keyframes: r.Keyframes, Drops: r.Drops, Queued: r.Queued, Skipping: r.Skipping,
		})
	}
	if rc, ok := a.Gateway.receiverOf(st.Path); ok {
		out.Receiver = rc.id
		out.Ingest = ingestStats(rc.rcv.Stats())
	}
	if h := st.Hold; h != nil {
		out.Hold = &mediaapi.Hold{
			Units: h.Units, Bytes: h.Bytes, MaxBytes: h.MaxBytes, Dropped: h.Dropped,
			Attached: h.Attached, Ended: h.Ended,
		}
	}
	return out
}

func (a *API) listStreams(w http.ResponseWriter, _ *http.Request) error {
	stats := a.Gateway.Hub.Streams()
	svcapi.WriteList(w, stats, len(stats), a.streamInfo)
	return nil
}

func (a *API) getStream(w http.ResponseWriter, r *http.Request) error {
	path := r.PathValue("path")
	st, ok := a.Gateway.Hub.Stream(path)
	if !ok {
		return fmt.Errorf("%w: %s", access.ErrNotFound, path)
	}
	svcapi.WriteJSON(w, http.StatusOK, a.streamInfo(st.Stats()))
	return nil
}

func (a *API) outputs(w http.ResponseWriter, _ *http.Request) error {
	out := map[string]any{}
	if a.Outputs != nil {
		out = a.Outputs()
	}
	svcapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) webhook(w http.ResponseWriter, _ *http.Request) error {
	if a.Webhook == nil {
		svcapi.WriteJSON(w, http.StatusOK, mediaapi.WebhookStatus{})
		return nil
	}
	st := a.Webhook.Stats()
	svcapi.WriteJSON(w, http.StatusOK, mediaapi.WebhookStatus{Enabled: true, Webhook: &st})
	return nil
}

// playToken mints a play token: for the console's own use it issues them
// itself; this route serves tools and other systems holding the service
// token (and the development stack's demo).
func (a *API) playToken(w http.ResponseWriter, r *http.Request) error {
	if a.Signer == nil {
		return fmt.Errorf("%w: play_token_secret is not set", access.ErrUnavailable)
	}
	var req mediaapi.PlayTokenRequest
	if err := svcapi.DecodeBody(r, &req); err != nil {
		return err
	}
	ttl := 5 * time.Minute
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil || d <= 0 || d > maxTokenTTL {
			return fmt.Errorf("%w: ttl must be a duration up to %s, got %q", ErrInvalid, maxTokenTTL, req.TTL)
		}
		ttl = d
	}
	if len(req.Rights) == 0 {
		req.Rights = []string{playtoken.RightLive}
	}
	exp := time.Now().Add(ttl)
	tok, err := a.Signer.Issue(playtoken.Claims{
		Subject: req.Subject, Paths: req.Paths, Rights: req.Rights,
		Expires: exp.Unix(), IssuedAt: time.Now().Unix(),
		// Issued to a holder of the service token: its subject names no
		// console account, so the console is never asked to revoke it.
		Service: true,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	a.Log.Info("play token issued", "subject", req.Subject, "paths", req.Paths, "rights", req.Rights, "ttl", ttl)
	svcapi.WriteJSON(w, http.StatusCreated, mediaapi.PlayToken{Token: tok, Expires: exp.UTC()})
	return nil
}

func (a *API) openSender(w http.ResponseWriter, r *http.Request) error {
	var req mediaapi.SenderRequest
	if err := svcapi.DecodeBody(r, &req); err != nil {
		return err
	}
	info, err := a.Gateway.OpenSender(req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", mediaapi.SenderPath(info.ID))
	svcapi.WriteJSON(w, http.StatusCreated, info)
	return nil
}

func (a *API) listSenders(w http.ResponseWriter, _ *http.Request) error {
	items := a.Gateway.Senders()
	svcapi.WriteJSON(w, http.StatusOK, svcapi.List[mediaapi.Sender]{Items: items, Total: len(items)})
	return nil
}

func (a *API) closeSender(w http.ResponseWriter, r *http.Request) error {
	if err := a.Gateway.CloseSender(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
