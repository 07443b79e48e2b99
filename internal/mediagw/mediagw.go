package mediagw

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/contract/unitfeed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/feed"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hls"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/hub"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/revocation"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/rtsp"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/transcode"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/whep"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/svc"
)

// Run serves ingest, the outputs and the control API until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Mediagw, log *slog.Logger) error {
	rt, err := svc.StartHTTP("mediagw", cfg.HTTP, log, nil)
	if err != nil {
		return err
	}
	defer rt.Close()

	var signer *playtoken.Signer
	if cfg.PlayTokenSecret != "" {
		if signer, err = playtoken.NewSigner([]byte(cfg.PlayTokenSecret)); err != nil {
			return err
		}
	}
	switch {
	case cfg.Auth == config.AuthOff:
		log.Warn("auth: off — every stream is open to anyone who can reach the media ports")
	case signer == nil:
		log.Warn("play_token_secret is not set: every play request will be refused with 401")
	}
	if cfg.ServiceToken == "" {
		log.Warn("control API disabled: service_token is not set (sipserver cannot open receivers)")
	}

	gw := &Gateway{
		AdvertiseIP:    advertiseIP(cfg.AdvertiseIP),
		Ports:          &ingest.PortAllocator{Min: cfg.RTP.PortMin, Max: cfg.RTP.PortMax},
		RTPTimeout:     cfg.RTP.Timeout.Std(),
		ConnectTimeout: cfg.RTP.ConnectTimeout.Std(),
		ReconnectGrace: cfg.RTP.ReconnectGrace.Std(),
		ReorderPackets: cfg.RTP.ReorderPackets,
		ReorderDelay:   cfg.RTP.ReorderDelay.Std(),
		Signer:         signer,
		AuthOff:        cfg.Auth == config.AuthOff,
		OnDemandWait:   cfg.OnDemand.Wait.Std(),
		AuditFailOpen:  !cfg.Audit.FailClosed,
		DownloadHold:   cfg.Downloads.Hold.Std(),
		Log:            log,
	}
	gw.DownloadHoldBytes = int(min(cfg.Downloads.HoldBytes, config.ByteSize(math.MaxInt)))
	gw.DownloadHoldTotal = int(min(cfg.Downloads.HoldTotal, config.ByteSize(math.MaxInt)))
	if cfg.Audit.ConsoleURL != "" {
		ac := &AuditClient{URL: cfg.Audit.ConsoleURL, Token: string(cfg.ServiceToken), Timeout: cfg.Audit.Timeout.Std()}
		gw.Audit = ac
		if !gw.AuthOff && signer != nil {
			// Users' tokens revoked since their issue end their viewers;
			// the watch starts once the outputs exist.
			gw.Revocation = &revocation.Watch{
				Checker: ac, Signer: signer, Interval: cfg.Audit.RevocationInterval.Std(), Timeout: cfg.Audit.Timeout.Std(), Log: log,
			}
		}
	} else {
		log.Warn("audit.console_url is not set: media opens are audited to this log only")
	}
	if !cfg.Audit.FailClosed {
		log.Warn("audit.fail_closed: false — a viewer whose audit row is not stored is admitted anyway")
	}
	h := &hub.Hub{IdleTimeout: cfg.OnDemand.IdleTimeout.Std(), OnIdle: gw.OnIdle, Log: log}
	if err := h.Initialize(); err != nil {
		return err
	}
	defer h.Close()
	gw.Hub = h

	// One poller reads every UDP port, shared and per-stream.
	poller := &ingest.UDPPoller{Interval: cfg.RTP.UDPPollInterval.Std(), Shards: cfg.RTP.UDPReaders, Log: log}
	if err := poller.Initialize(); err != nil {
		return err
	}
	defer poller.Close()
	gw.UDPPoller = poller
	var mux *ingest.UDPMux
	if cfg.RTP.UDPListen != "" {
		mux = &ingest.UDPMux{Address: cfg.RTP.UDPListen, Poller: poller, Log: log}
		if err := mux.Initialize(); err != nil {
			return err
		}
		defer mux.Close()
		gw.Mux = mux
	}
	tc := &transcode.Transcoder{
		Hub: h, FFmpeg: cfg.Transcode.FFmpeg, Encoder: cfg.Transcode.Encoder,
		Linger: cfg.Transcode.Linger.Std(), Log: log,
	}
	if err := tc.Initialize(); err != nil {
		return err
	}
	defer tc.Close()
	gw.Transcoder = tc

	if cfg.OnDemand.SipserverURL != "" {
		gw.Signalling = &sipapi.Client{BaseURL: cfg.OnDemand.SipserverURL, Token: string(cfg.ServiceToken)}
	}
	var web *Webhook
	if cfg.Webhook.URL != "" {
		web = &Webhook{
			URL: cfg.Webhook.URL, Secret: string(cfg.Webhook.Secret), Events: cfg.Webhook.Events,
			Timeout: cfg.Webhook.Timeout.Std(), Log: log,
		}
		if err := web.Initialize(); err != nil {
			return err
		}
		defer web.Close()
		gw.Events = web
	}
	if err := gw.Initialize(); err != nil {
		return err
	}
	defer gw.Close()

	ws := &whep.Server{Source: gw, ICEUDPAddress: cfg.WebRTC.ICEUDPListen, ICEHosts: cfg.WebRTC.ICEHosts, Log: log}
	if len(ws.ICEHosts) == 0 && cfg.AdvertiseIP != "" {
		ws.ICEHosts = []string{cfg.AdvertiseIP}
	}
	if err := ws.Initialize(); err != nil {
		return fmt.Errorf("whep: %w", err)
	}
	defer ws.Close()
	hs := &hls.Server{
		Source: gw, IdleTimeout: cfg.HLS.IdleTimeout.Std(), SegmentCount: cfg.HLS.SegmentCount,
		SegmentMinDuration: cfg.HLS.SegmentDuration.Std(), PartMinDuration: cfg.HLS.PartDuration.Std(), Log: log,
	}
	if err := hs.Initialize(); err != nil {
		return fmt.Errorf("hls: %w", err)
	}
	defer hs.Close()
	var rs *rtsp.Server
	if cfg.RTSP.Listen != "" {
		rs = &rtsp.Server{
			Source: gw, Address: cfg.RTSP.Listen, UDPRTPAddress: cfg.RTSP.UDPRTPListen,
			UDPRTCPAddress: cfg.RTSP.UDPRTCPListen, Log: log,
		}
		if err := rs.Initialize(); err != nil {
			return fmt.Errorf("rtsp: %w", err)
		}
		defer rs.Close()
	}

	// The unit feed the recorder reads: its defaults need no configuration.
	fs := &feed.Server{Source: gw, Signer: signer, Log: log, Now: h.Now}
	if err := fs.Initialize(); err != nil {
		return fmt.Errorf("feed: %w", err)
	}
	defer fs.Close()

	if rv := gw.Revocation; rv != nil {
		rv.Outputs = []revocation.Output{ws, hs, fs}
		if rs != nil {
			rv.Outputs = append(rv.Outputs, rs)
		}
		if err := rv.Initialize(); err != nil {
			return err
		}
		defer rv.Close()
	}

	rt.Mux.Handle("/whep/", ws)
	rt.Mux.Handle("/hls/", hs)
	rt.Mux.Handle(unitfeed.PathPrefix, fs)
	// Per-path figures say which channels are watched: they are served to
	// holders of the service token only, the public /metrics has totals.
	pathMetrics := prometheus.NewRegistry()
	pathMetrics.MustRegister(newPathCollector(gw))
	api := &API{
		Gateway: gw, Token: string(cfg.ServiceToken), Signer: signer, Webhook: web, Log: log,
		PathMetrics: promhttp.HandlerFor(pathMetrics, promhttp.HandlerOpts{}),
		Outputs: func() map[string]any {
			out := map[string]any{"whep": ws.Sessions(), "hls": hs.Muxers(), "feed": fs.Sessions(), "transcode": tc.Stats()}
			if rs != nil {
				out["rtsp"] = rs.Sessions()
			}
			return out
		},
	}
	api.Register(rt.Mux)
	rt.Registry.MustRegister(newCollector(gw, mux, web))
	rt.Started()

	log.Info("serving", "http", rt.HTTP.Addr().String(), "rtsp", cfg.RTSP.Listen, "ice_udp", cfg.WebRTC.ICEUDPListen,
		"rtp_udp", cfg.RTP.UDPListen, "rtp_ports", fmt.Sprintf("%d-%d", cfg.RTP.PortMin, cfg.RTP.PortMax),
		"advertise_ip", gw.AdvertiseIP, "auth", cfg.Auth, "audit", cfg.Audit.ConsoleURL, "audit_fail_closed", cfg.Audit.FailClosed,
		"revocation_interval", cfg.Audit.RevocationInterval)
	<-ctx.Done()
	return nil
}

// advertiseIP returns ip, or the host's outbound IPv4 address.
func advertiseIP(ip string) string {
	if ip != "" {
		return ip
	}
	// No packet is sent: connecting a UDP socket only selects the route.
	if c, err := net.Dial("udp", "192.0.2.1:9"); err == nil {
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).IP.String()
	}
	return "127.0.0.1"
}
