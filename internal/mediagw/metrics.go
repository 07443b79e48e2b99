package mediagw

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
	"github.com/sharpeyes/sharpeyes/internal/mediagw/revocation"
)

// Metrics come in two sets, both computed from live state at scrape time
// (the media path does no metric work):
//
//   - collector, registered on the public /metrics: gateway-wide figures
//     only. A per-path label would tell anyone who can reach the port which
//     channels are being watched, and when.
//   - pathCollector, served at GET /internal/v1/metrics behind the service
//     token: the same figures per stream path.

// collector is the public set: totals, no path.
type collector struct {
	g   *Gateway
	mux *ingest.UDPMux
	web *Webhook

	streams, readers, receivers                           *prometheus.Desc
	packets, lost, foreignSSRC, foreignSource, invalid    *prometheus.Desc
	demuxErrors                                           *prometheus.Desc
	muxUnknown, onDemand, webhook, audit, holds, holdByte *prometheus.Desc
	holdsRefused, revocationChecks, revocationClosed      *prometheus.Desc
}

func metricName(name string) string { return "sharpeyes_mediagw_" + name }

func newCollector(g *Gateway, mux *ingest.UDPMux, web *Webhook) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(metricName(name), help, labels, nil)
	}
	return &collector{
		g: g, mux: mux, web: web,
		streams:   d("streams", "Published streams (transcodes included)."),
		readers:   d("readers", "Readers attached to streams, by protocol.", "protocol"),
		receivers: d("receivers", "Open receivers, by transport.", "transport"),
		packets:   d("ingest_packets_total", "RTP packets received, all receivers."),
		lost:      d("ingest_lost_total", "RTP packets lost, all receivers."),
		foreignSSRC: d("ingest_foreign_ssrc_total",
			"Packets of a foreign SSRC dropped by the receivers."),
		foreignSource: d("ingest_foreign_source_total",
			"Packets of a stream's SSRC (and TCP connections) from a source that is not the device, dropped by the receivers."),
		invalid:     d("ingest_invalid_total", "Datagrams that were not RTP, dropped by the receivers."),
		demuxErrors: d("ingest_demux_errors_total", "Damaged PS data dropped by the receivers."),
		muxUnknown:  d("udp_mux_dropped_total", "Datagrams dropped on the shared UDP port, by reason.", "reason"),
		onDemand:    d("on_demand_total", "On-demand stream starts, by outcome.", "outcome"),
		webhook:     d("webhook_events_total", "Webhook events, by outcome.", "outcome"),
		audit: d("audit_total",
			"Media opens (WHEP, HLS session, RTSP PLAY) by audit outcome: stored, refused (not stored, viewer refused), "+
				"admitted (not stored, fail open), unaudited (no auditor configured, fail open), "+
				"revoked (the console refused the viewer's revoked play token).",
			"outcome"),
		holds:    d("download_holds", "Download streams kept for their reader (hub holds)."),
		holdByte: d("download_hold_bytes", "Media kept by download streams for their readers."),
		holdsRefused: d("download_holds_refused_total",
			"Downloads refused because their hold would take the reservations beyond downloads.hold_total."),
		revocationChecks: d("revocation_checks_total",
			"Calls asking the console which viewers' play tokens are revoked, by result (ok, failed: nobody was cut).", "result"),
		revocationClosed: d("revocation_viewers_ended_total", "Viewer sessions (WHEP, RTSP, HLS) ended because their play token was revoked."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.streams, c.readers, c.receivers, c.packets, c.lost, c.foreignSSRC, c.foreignSource, c.invalid,
		c.demuxErrors, c.muxUnknown, c.onDemand, c.webhook, c.audit, c.holds, c.holdByte, c.holdsRefused,
		c.revocationChecks, c.revocationClosed,
	} {
		ch <- d
	}
}

// emitter sends constant metrics to a Collect channel.
type emitter chan<- prometheus.Metric

func (e emitter) gauge(d *prometheus.Desc, v float64, labels ...string) {
	e <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (e emitter) counter(d *prometheus.Desc, v uint64, labels ...string) {
	e <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	e := emitter(ch)
	gauge, counter := e.gauge, e.counter
	streams := c.g.Hub.Streams()
	gauge(c.streams, float64(len(streams)))
	byProto := map[string]int{"whep": 0, "hls": 0, "rtsp": 0, "feed": 0, "transcode": 0}
	for _, st := range streams {
		for _, r := range st.Readers {
			proto, _, _ := strings.Cut(r.Name, " ")
			byProto[proto]++
		}
	}
	for proto, n := range byProto {
		gauge(c.readers, float64(n), proto)
	}
	holds, holdBytes := 0, 0
	for _, st := range streams {
		if st.Hold != nil {
			holds++
			holdBytes += st.Hold.Bytes
		}
	}
	gauge(c.holds, float64(holds))
	gauge(c.holdByte, float64(holdBytes))

	// Receivers that ended are in the totals too, so the counters never go
	// down when a stream closes.
	t, byTransport := c.g.ingestTotals()
	c.g.mu.Lock()
	od := c.g.onDemand
	au := c.g.audits
	holdsRefused := c.g.holdsRefused
	c.g.mu.Unlock()
	counter(c.holdsRefused, holdsRefused)
	for tr, n := range byTransport {
		gauge(c.receivers, float64(n), tr)
	}
	counter(c.packets, t.packets)
	counter(c.lost, t.lost)
	counter(c.foreignSSRC, t.foreignSSRC)
	counter(c.foreignSource, t.foreignSource)
	counter(c.invalid, t.invalid)
	counter(c.demuxErrors, t.demuxErrors)
	if c.mux != nil {
		ms := c.mux.Stats()
		counter(c.muxUnknown, ms.UnknownSSRC, "unknown_ssrc")
		counter(c.muxUnknown, ms.Invalid, "invalid")
	}
	counter(c.onDemand, od.started, "started")
	counter(c.onDemand, od.failed, "failed")
	counter(c.onDemand, od.timedOut, "timed_out")
	counter(c.audit, au.stored, "stored")
	counter(c.audit, au.refused, "refused")
	counter(c.audit, au.admitted, "admitted")
	counter(c.audit, au.unaudited, "unaudited")
	counter(c.audit, au.revoked, "revoked")
	var rs revocation.Stats
	if c.g.Revocation != nil {
		rs = c.g.Revocation.Stats()
	}
	counter(c.revocationChecks, rs.Checks-rs.Failed, "ok")
	counter(c.revocationChecks, rs.Failed, "failed")
	counter(c.revocationClosed, rs.Ended)
	if c.web != nil {
		ws := c.web.Stats()
		counter(c.webhook, ws.Delivered, "delivered")
		counter(c.webhook, ws.Failed, "failed")
		counter(c.webhook, ws.Dropped, "dropped")
	}
}

// pathCollector is the per-path set of GET /internal/v1/metrics.
type pathCollector struct {
	g *Gateway

	pathReaders, pathReaderDrops                   *prometheus.Desc
	bitrate, fps                                   *prometheus.Desc
	unitsTotal, bytesTotal, readerDrop             *prometheus.Desc
	packets, lost, foreign, foreignSource, invalid *prometheus.Desc
	demuxErrors, holdBytes                         *prometheus.Desc
}

func newPathCollector(g *Gateway) *pathCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(metricName(name), help, labels, nil)
	}
	return &pathCollector{
		g:           g,
		pathReaders: d("stream_readers", "Readers of a stream, by protocol.", "path", "protocol"),
		pathReaderDrops: d("stream_reader_queue_drops", "Units skipped so far by the current readers of a stream, by protocol.",
			"path", "protocol"),
		bitrate:    d("stream_video_bitrate_bits", "Video bitrate of a stream over the last seconds.", "path"),
		fps:        d("stream_video_fps", "Video frame rate of a stream over the last seconds.", "path"),
		unitsTotal: d("stream_units_total", "Access units written to a stream.", "path"),
		bytesTotal: d("stream_bytes_total", "Payload bytes written to a stream.", "path"),
		readerDrop: d("stream_reader_drops_total", "Units skipped for slow readers of a stream.", "path"),
		packets:    d("stream_ingest_packets_total", "RTP packets received for a stream.", "path"),
		lost:       d("stream_ingest_lost_total", "RTP packets lost for a stream.", "path"),
		foreign:    d("stream_ingest_foreign_ssrc_total", "Packets of a foreign SSRC dropped by a stream's receiver.", "path"),
		foreignSource: d("stream_ingest_foreign_source_total",
			"Packets of the stream's SSRC from a source that is not the device, dropped by a stream's receiver.", "path"),
		invalid:     d("stream_ingest_invalid_total", "Datagrams that were not RTP, dropped by a stream's receiver.", "path"),
		demuxErrors: d("stream_ingest_demux_errors_total", "Damaged PS data dropped for a stream.", "path"),
		holdBytes:   d("stream_hold_bytes", "Media a download stream keeps for its reader.", "path"),
	}
}

func (c *pathCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.pathReaders, c.pathReaderDrops, c.bitrate, c.fps, c.unitsTotal, c.bytesTotal, c.readerDrop,
		c.packets, c.lost, c.foreign, c.foreignSource, c.invalid, c.demuxErrors, c.holdBytes,
	} {
		ch <- d
	}
}

func (c *pathCollector) Collect(ch chan<- prometheus.Metric) {
	e := emitter(ch)
	gauge, counter := e.gauge, e.counter
	for _, st := range c.g.Hub.Streams() {
		type protoStats struct{ readers, drops uint64 }
		per := map[string]*protoStats{}
		for _, r := range st.Readers {
			proto, _, _ := strings.Cut(r.Name, " ")
			p := per[proto]
			if p == nil {
				p = &protoStats{}
				per[proto] = p
			}
			p.readers++
			p.drops += r.Drops
		}
		for proto, p := range per {
			gauge(c.pathReaders, float64(p.readers), st.Path, proto)
			gauge(c.pathReaderDrops, float64(p.drops), st.Path, proto)
		}
		gauge(c.bitrate, st.VideoBitrate, st.Path)
		gauge(c.fps, st.VideoFPS, st.Path)
		counter(c.unitsTotal, st.Units, st.Path)
		counter(c.bytesTotal, st.Bytes, st.Path)
		counter(c.readerDrop, st.Drops, st.Path)
		if st.Hold != nil {
			gauge(c.holdBytes, float64(st.Hold.Bytes), st.Path)
		}
	}
	for _, r := range c.g.Receivers() {
		in := r.Ingest
		counter(c.packets, in.Packets, r.Path)
		counter(c.lost, in.Lost, r.Path)
		counter(c.foreign, in.ForeignSSRC, r.Path)
		counter(c.foreignSource, in.ForeignSource, r.Path)
		counter(c.invalid, in.Invalid, r.Path)
		counter(c.demuxErrors, in.DemuxErrors, r.Path)
	}
}
