package sipserver

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are sipserver's Prometheus metrics.
type metrics struct {
	requests     *prometheus.CounterVec // by method and response class
	registers    *prometheus.CounterVec // by outcome
	keepalives   prometheus.Counter
	transitions  prometheus.Counter
	flushSeconds prometheus.Histogram
	flushErrors  prometheus.Counter
	queries      *prometheus.CounterVec // by CmdType and outcome
	dropped      *prometheus.CounterVec // by reason
	invites      *prometheus.CounterVec // by kind and outcome
	sessionsEnd  *prometheus.CounterVec // by kind and reason
	// foreignSource counts requests claiming a device from another source, by method.
	foreignSource *prometheus.CounterVec
	// unsolicited counts device responses nobody asked for, by CmdType.
	unsolicited *prometheus.CounterVec
	// dialogMismatch counts in-dialog requests whose dialog does not match, by method.
	dialogMismatch *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, devices func() (total, registered, online int)) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_requests_total", Help: "SIP requests received, by method and response status class.",
		}, []string{"method", "status"}),
		registers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_registers_total",
			Help: "REGISTER outcomes: challenged, registered, refreshed, unregistered, forbidden, blocked, stale, invalid.",
		}, []string{"outcome"}),
		keepalives: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sharpeyes_sip_keepalives_total", Help: "Keepalives accepted.",
		}),
		transitions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sharpeyes_device_status_transitions_total", Help: "Online/offline transitions written to device_status_log.",
		}),
		flushSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sharpeyes_sip_state_flush_seconds", Help: "Time to write one batch of device state to PostgreSQL.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sharpeyes_sip_state_flush_errors_total", Help: "Failed writes of device state (retried).",
		}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_device_queries_total", Help: "MANSCDP requests to devices, by CmdType and outcome.",
		}, []string{"cmd", "outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_dropped_total", Help: "SIP input refused before handling, by reason.",
		}, []string{"reason"}),
		invites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_invites_total",
			Help: "INVITEs sent, by session kind and outcome: answered, rejected, timeout, cancelled, error.",
		}, []string{"kind", "outcome"}),
		sessionsEnd: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_media_sessions_ended_total", Help: "Media sessions ended, by kind and reason.",
		}, []string{"kind", "reason"}),
		foreignSource: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_foreign_source_total",
			Help: "Requests claiming a registered device from a source other than its registration, refused with 403, by method.",
		}, []string{"method"}),
		unsolicited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_unsolicited_responses_total",
			Help: "Device responses (MANSCDP Response) matching no pending request of ours, ignored, by CmdType.",
		}, []string{"cmd"}),
		dialogMismatch: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sharpeyes_sip_dialog_mismatch_total",
			Help: "In-dialog requests (BYE, MediaStatus, catalog NOTIFY) matching no dialog or subscription of ours, refused with 481, by method.",
		}, []string{"method"}),
	}
	gauge := func(name, help string, pick func(t, r, o int) int) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			t, r, o := devices()
			return float64(pick(t, r, o))
		})
	}
	reg.MustRegister(m.requests, m.registers, m.keepalives, m.transitions, m.flushSeconds, m.flushErrors,
		m.queries, m.dropped, m.invites, m.sessionsEnd, m.foreignSource, m.unsolicited, m.dialogMismatch,
		gauge("sharpeyes_devices", "Devices known to this sipserver.", func(t, _, _ int) int { return t }),
		gauge("sharpeyes_devices_registered", "Devices with a valid registration.", func(_, r, _ int) int { return r }),
		gauge("sharpeyes_devices_online", "Devices online.", func(_, _, o int) int { return o }),
	)
	return m
}

// rateSources registers the size of the per-IP rate-limit tables, which
// are bounded (sip.rate_sources for UDP; TCP holds connected hosts only).
func (m *metrics) rateSources(reg prometheus.Registerer, udp, tcp func() int) {
	for _, c := range []struct {
		transport string
		n         func() int
	}{{"udp", udp}, {"tcp", tcp}} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sharpeyes_sip_rate_limit_sources", Help: "Source IPs the SIP rate limit tracks, by transport.",
			ConstLabels: prometheus.Labels{"transport": c.transport},
		}, func() float64 { return float64(c.n()) }))
	}
}

// sessionsOpen registers the number of media sessions open.
func (m *metrics) sessionsOpen(reg prometheus.Registerer, open func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sharpeyes_media_sessions", Help: "Media sessions open (being set up or active).",
	}, func() float64 { return float64(open()) }))
}

// catalogJobs registers the post-registration work queued and running.
func (m *metrics) catalogJobs(reg prometheus.Registerer, queued, running func() int) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sharpeyes_sip_catalog_jobs_queued",
			Help: "Devices waiting for their post-registration queries (DeviceInfo, Catalog, SUBSCRIBE, ConfigDownload) to start.",
		}, func() float64 { return float64(queued()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sharpeyes_sip_catalog_jobs_running",
			Help: "Devices whose post-registration queries are outstanding.",
		}, func() float64 { return float64(running()) }),
	)
}
