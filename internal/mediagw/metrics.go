package mediagw

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sharpeyes/sharpeyes/internal/mediagw/ingest"
)

// collector computes mediagw's metrics from live state at scrape time, so
// the media path does no metric work at all.
type collector struct {
	g   *Gateway
	mux *ingest.UDPMux
	web *Webhook

	streams, readers, receivers        *prometheus.Desc
	pathReaders, pathReaderDrops       *prometheus.Desc
	bitrate, fps                       *prometheus.Desc
	unitsTotal, bytesTotal, readerDrop *prometheus.Desc
	packets, lost, foreign, invalid    *prometheus.Desc
	demuxErrors                        *prometheus.Desc
	muxUnknown                         *prometheus.Desc
	onDemand                           *prometheus.Desc
	webhook                            *prometheus.Desc
}

func newCollector(g *Gateway, mux *ingest.UDPMux, web *Webhook) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("sharpeyes_mediagw_"+name, help, labels, nil)
	}
	return &collector{
		g: g, mux: mux, web: web,
		streams:     d("streams", "Published streams (transcodes included)."),
		readers:     d("readers", "Readers attached to streams, by protocol.", "protocol"),
		receivers:   d("receivers", "Open receivers, by transport.", "transport"),
		pathReaders: d("stream_readers", "Readers of a stream, by protocol.", "path", "protocol"),
		pathReaderDrops: d("stream_reader_queue_drops", "Units skipped so far by the current readers of a stream, by protocol.",
			"path", "protocol"),
		bitrate:     d("stream_video_bitrate_bits", "Video bitrate of a stream over the last seconds.", "path"),
		fps:         d("stream_video_fps", "Video frame rate of a stream over the last seconds.", "path"),
		unitsTotal:  d("stream_units_total", "Access units written to a stream.", "path"),
		bytesTotal:  d("stream_bytes_total", "Payload bytes written to a stream.", "path"),
		readerDrop:  d("stream_reader_drops_total", "Units skipped for slow readers of a stream.", "path"),
		packets:     d("ingest_packets_total", "RTP packets received for a stream.", "path"),
		lost:        d("ingest_lost_total", "RTP packets lost for a stream.", "path"),
		foreign:     d("ingest_foreign_ssrc_total", "Packets of a foreign SSRC dropped by a stream's receiver.", "path"),
		invalid:     d("ingest_invalid_total", "Datagrams that were not RTP, dropped by a stream's receiver.", "path"),
		demuxErrors: d("ingest_demux_errors_total", "Damaged PS data dropped for a stream.", "path"),
		muxUnknown:  d("udp_mux_dropped_total", "Datagrams dropped on the shared UDP port, by reason.", "reason"),
		onDemand:    d("on_demand_total", "On-demand stream starts, by outcome.", "outcome"),
		webhook:     d("webhook_events_total", "Webhook events, by outcome.", "outcome"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.streams, c.readers, c.receivers, c.bitrate, c.fps, c.unitsTotal,
		c.bytesTotal, c.readerDrop, c.packets, c.lost, c.foreign, c.invalid, c.demuxErrors, c.muxUnknown,
		c.onDemand, c.webhook,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	streams := c.g.Hub.Streams()
	gauge(c.streams, float64(len(streams)))
	byProto := map[string]int{"whep": 0, "hls": 0, "rtsp": 0, "transcode": 0}
	for _, st := range streams {
		type protoStats struct{ readers, drops uint64 }
		per := map[string]*protoStats{}
		for _, r := range st.Readers {
			proto, _, _ := strings.Cut(r.Name, " ")
			byProto[proto]++
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
	}
	for proto, n := range byProto {
		gauge(c.readers, float64(n), proto)
	}
	byTransport := map[string]int{TransportUDP: 0, TransportTCPPassive: 0, TransportTCPActive: 0}
	for _, r := range c.g.Receivers() {
		byTransport[r.Transport]++
		in := r.Ingest
		counter(c.packets, in.Packets, r.Path)
		counter(c.lost, in.Lost, r.Path)
		counter(c.foreign, in.ForeignSSRC, r.Path)
		counter(c.invalid, in.Invalid, r.Path)
		counter(c.demuxErrors, in.DemuxErrors, r.Path)
	}
	for t, n := range byTransport {
		gauge(c.receivers, float64(n), t)
	}
	if c.mux != nil {
		ms := c.mux.Stats()
		counter(c.muxUnknown, ms.UnknownSSRC, "unknown_ssrc")
		counter(c.muxUnknown, ms.Invalid, "invalid")
	}
	c.g.mu.Lock()
	od := c.g.onDemand
	c.g.mu.Unlock()
	counter(c.onDemand, od.started, "started")
	counter(c.onDemand, od.failed, "failed")
	counter(c.onDemand, od.timedOut, "timed_out")
	if c.web != nil {
		ws := c.web.Stats()
		counter(c.webhook, ws.Delivered, "delivered")
		counter(c.webhook, ws.Failed, "failed")
		counter(c.webhook, ws.Dropped, "dropped")
	}
}
