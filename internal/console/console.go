package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	neturl "net/url"
	"slices"
	"strings"
	"time"

	"github.com/sharpeyes/sharpeyes/internal/config"
	"github.com/sharpeyes/sharpeyes/internal/console/auditretention"
	"github.com/sharpeyes/sharpeyes/internal/console/auth"
	"github.com/sharpeyes/sharpeyes/internal/console/web"
	"github.com/sharpeyes/sharpeyes/internal/contract/sipapi"
	"github.com/sharpeyes/sharpeyes/internal/httpserv"
	"github.com/sharpeyes/sharpeyes/internal/playtoken"
	"github.com/sharpeyes/sharpeyes/internal/probe"
	"github.com/sharpeyes/sharpeyes/internal/store/catalogview"
	"github.com/sharpeyes/sharpeyes/internal/store/consoledb"
	"github.com/sharpeyes/sharpeyes/internal/svc"
	"github.com/sharpeyes/sharpeyes/internal/svcdb"
	"github.com/sharpeyes/sharpeyes/internal/vqd"
)

// sipCallTimeout bounds one call to sipserver: its own waits (device
// answers, INVITE) are shorter, so this only catches a hung sipserver.
const sipCallTimeout = 45 * time.Second

// Run serves the API and the web UI until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Console, log *slog.Logger) error {
	trusted, err := cfg.Auth.TrustedProxies.Prefixes()
	if err != nil {
		return fmt.Errorf("auth.trusted_proxies: %w", err)
	}
	proxies := auth.Proxies{Trusted: trusted}
	// The schema is sipserver's: the console checks its version (waiting
	// up to the connect timeout for sipserver to apply it).
	st, err := svcdb.Open(ctx, "console", cfg.Database, svcdb.Reader, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	// Closed last; the HTTP server is shut down earlier, below.
	defer st.Close()
	rt, err := svc.StartHTTP("console", cfg.HTTP, log, map[string]httpserv.ReadyFunc{"database": st.Ping})
	if err != nil {
		return err
	}
	defer rt.Close()
	// The console's writes, and devices and channels read through the
	// shared read model: their effective state (a channel is offline when
	// its device is) is SQL's.
	db := consoledb.New(st)

	// Every audit row of the console goes through one writer (group
	// commit: many rows per transaction, each caller waiting for its own).
	// Closed after everything that writes rows, so that it drains them.
	auditWriter := &consoledb.AuditWriter{DB: db, Log: log}
	if err := auditWriter.Initialize(); err != nil {
		return err
	}
	defer auditWriter.Close()
	retention := &auditretention.Job{Store: db, Retention: cfg.Audit.Retention.Std(), Log: log}
	if err := retention.Initialize(); err != nil {
		return fmt.Errorf("audit.retention: %w", err)
	}
	defer retention.Close()

	authSvc := &auth.Service{
		Store:         db,
		Audit:         auditWriter,
		SessionTTL:    cfg.Auth.SessionTTL.Std(),
		MaxFailures:   cfg.Auth.MaxFailures,
		Lockout:       cfg.Auth.Lockout.Std(),
		IPMaxFailures: cfg.Auth.IPMaxFailures,
		IPWindow:      cfg.Auth.IPWindow.Std(),
		AuditFailOpen: !cfg.Audit.FailClosed,
		Password: auth.PasswordPolicy{
			MinLength: cfg.Auth.PasswordMinLength, MinClasses: cfg.Auth.PasswordMinClasses, History: cfg.Auth.PasswordHistory,
		},
		DormantAfter: cfg.Accounts.DormantAfter.Std(),
		Log:          log,
	}
	if err := authSvc.Initialize(); err != nil {
		return err
	}
	defer authSvc.Close()
	if err := authSvc.EnsureAdmin(ctx, cfg.Auth.AdminPassword()); err != nil {
		return err
	}

	sip := &sipapi.Client{BaseURL: cfg.SipserverURL, Token: string(cfg.ServiceToken), HTTP: &http.Client{}, Timeout: sipCallTimeout}
	if cfg.ServiceToken == "" {
		log.Warn("service_token is not set: PTZ, records, device playback and exports answer 503, and mediagw cannot report media opens")
	}
	if !cfg.Audit.FailClosed {
		log.Warn("audit.fail_closed is false: video access goes on when its audit row cannot be written")
	}
	var signer *playtoken.Signer
	if cfg.Media.PlayTokenSecret != "" {
		if signer, err = playtoken.NewSigner([]byte(cfg.Media.PlayTokenSecret)); err != nil {
			return fmt.Errorf("media.play_token_secret: %w", err)
		}
	} else {
		log.Warn("media.play_token_secret is not set: play and playback answer 503")
	}

	events := &Events{Store: db, Log: log}
	if err := events.Initialize(); err != nil {
		return err
	}

	api := &API{
		Store: db, Auth: authSvc, Sip: sip, Signer: signer,
		PublicURL: cfg.Media.PublicURL, RTSPURL: cfg.Media.RTSPURL, PlayTokenTTL: cfg.Media.PlayTokenTTL.Std(),
		RecorderToken: string(cfg.ServiceToken), RecorderHTTP: &http.Client{}, Events: events, Proxies: proxies,
		AuditFailOpen: !cfg.Audit.FailClosed, Log: log, Now: time.Now, PTZPriorities: db,
	}
	if signer != nil {
		api.Prober = newProber(cfg, api, sip, cfg.Probe.MaxRunning)
		if err := api.Prober.Initialize(); err != nil {
			events.Close()
			return err
		}
		if cfg.Probe.Interval > 0 {
			sched, err := newProbeScheduler(cfg, api, sip, db, log)
			if err != nil {
				events.Close()
				return err
			}
			defer sched.Close()
		}
	}
	if err := api.Initialize(); err != nil {
		events.Close()
		return err
	}
	// Deferred calls run last first, so the shutdown goes: the event
	// streams end (instead of holding the HTTP shutdown), the HTTP server
	// stops and waits for the requests in flight, and only then the API's
	// background work and the auth service stop — no request can start a
	// stream start after its component closed.
	defer api.Close()
	defer rt.HTTP.Close()
	defer events.Close()
	api.Register(rt.Mux)
	(&InternalAPI{Store: db, Audit: auditWriter, Token: string(cfg.ServiceToken), Log: log}).Register(rt.Mux)
	// The web UI: everything not under /api/, /internal/, /healthz, /readyz and /metrics.
	rt.Mux.Handle("/", web.Handler())
	rt.Started()
	log.Info("serving", "http", rt.HTTP.Addr().String(), "api", "/api/v1/", "ui", "/")
	<-ctx.Done()
	return nil
}

// newProber is the channel prober of cfg: it reads mediagw's RTSP output
// with a play token of the user's and asks sipserver for the stream first.
func newProber(cfg *config.Console, api *API, sip *sipapi.Client, running int) *probe.Prober {
	timeout := cfg.Probe.Timeout.Std()
	th := cfg.Probe.Thresholds
	return &probe.Prober{
		Decoder: vqd.Decoder{FFmpeg: cfg.Probe.FFmpeg},
		Thresholds: vqd.Thresholds{
			BlackLuma: th.BlackLuma, DarkLuma: th.DarkLuma, BrightLuma: th.BrightLuma, FlatSpread: th.FlatSpread,
			Sharpness: th.Sharpness, Noise: th.Noise, CastDistance: th.CastDistance, CastRatio: th.CastRatio,
			OcclusionShare: th.OcclusionShare, FrozenDiff: th.FrozenDiff,
		},
		Start: sip.StreamNeeded,
		Input: func(path, subject string) ([]string, error) {
			tok, _, err := api.issue(path, playtoken.RightLive, subject, timeout+time.Minute)
			if err != nil {
				return nil, err
			}
			url := strings.TrimRight(cfg.Media.RTSPURL, "/") + "/" + escapePath(path) + "?token=" + neturl.QueryEscape(tok)
			return probe.RTSPInput(url, timeout), nil
		},
		Timeout: timeout, MaxRunning: running, Now: time.Now,
	}
}

// newProbeScheduler starts the probes of every video channel on cfg's
// schedule, with a prober of its own.
func newProbeScheduler(cfg *config.Console, api *API, sip *sipapi.Client, db *consoledb.DB, log *slog.Logger) (*probe.Scheduler, error) {
	p := newProber(cfg, api, sip, cfg.Probe.ScheduleRunning)
	if err := p.Initialize(); err != nil {
		return nil, err
	}
	s := &probe.Scheduler{
		Prober: p, Interval: cfg.Probe.Interval.Std(), Delay: probe.DefaultDelay, Log: log.With("component", "probe-schedule"),
		Channels: func(ctx context.Context) ([]string, error) {
			var ids []string
			err := db.In(catalogview.Everything()).EachTreeChannel(ctx, func(c catalogview.TreeChannel) error {
				if isVideoChannel(c) && !isDeviceID(c.ID) {
					ids = append(ids, c.ID)
				}
				return nil
			})
			slices.Sort(ids)
			return ids, err
		},
		Record: func(ctx context.Context, channel string, r probe.Result) error {
			_, err := keepProbe(ctx, db, channel, r, consoledb.ProbeSchedule, "")
			return err
		},
	}
	return s, s.Initialize()
}
