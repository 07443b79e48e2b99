package capture

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the recorder's counters of all its channels; one set per
// process, shared by every Channel. The gaps are counted where every part
// of the recorder opens them (recorder_gaps_total, package recorder).
type Metrics struct {
	// Recording is the number of channels writing a segment now.
	Recording prometheus.Gauge
	// Segments counts the segments closed and committed.
	Segments prometheus.Counter
	// Bytes counts the media bytes written to segments.
	Bytes prometheus.Counter
}

// NewMetrics creates the metrics and registers them in reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Recording: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "recorder_channels_recording",
			Help: "Channels writing a segment now.",
		}),
		Segments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_segments_total",
			Help: "Segments closed and committed to storage.",
		}),
		Bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "recorder_written_bytes_total",
			Help: "Bytes written to segments (init sections and fragments).",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Recording, m.Segments, m.Bytes)
	}
	return m
}
